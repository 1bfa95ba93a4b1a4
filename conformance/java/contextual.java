package ctx;

public sealed interface Shape permits Circle, Square {
    double area();
}

final class Circle implements Shape {
    public double area() { return 0; }
}

non-sealed class Square implements Shape {
    public double area() { return 0; }
}

sealed abstract class Base permits Base.Leaf {
    static final class Leaf extends Base {}
}

class Contextual {
    int var;
    int record;
    int yield;
    int sealed;
    int permits;
    int module;
    int open;
    int when;
    String with, to, exports;
    void record() {}
    void var(int var) {}
    int non;
}
