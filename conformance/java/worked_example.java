package p;

public class Outer<T> extends Base implements Runnable {
    private int a, b;
    public Outer() {}
    Outer(int x) {}
    void run() {}
    void run(int n) {}
    static { }
    enum Color { RED, GREEN; void paint() {} }
    record Point(int x, int y) { Point { } }
    @interface Ann { String value() default ""; }
    interface Api { void call(); }
}
