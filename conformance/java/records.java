package rec;

import java.util.*;

public record Point(int x, int y) {
    public Point {
        if (x < 0) throw new IllegalArgumentException();
    }

    public Point(int both) {
        this(both, both);
    }

    static int origin;

    public int sum() { return x + y; }
}

record Pair<A, B>(@Deprecated A first, Map<String, List<B>> second) implements Comparable<Pair<A, B>> {
    public int compareTo(Pair<A, B> o) { return 0; }
}

record Varargs(String... names) {}

record Empty() {}

record WithNested(int value) {
    record Inner(String label) {}
    enum Kind { ONE }
}
