package mem;

import java.util.*;

public class Members {
    int a, b[], c = 3;
    static final int[] TABLE = {1, 2, 3}, EMPTY = {};
    private final Runnable task = new Runnable() {
        int anonymousField;
        public void run() { int local; }
    };
    private final Runnable lambda = () -> {
        class LocalInLambda { int hidden; }
    };
    Object[] arrays = new Object[] { new int[] {1}, "s" }, more;

    static {
        int staticLocal = 0;
    }

    {
        int instanceLocal = 0;
    }

    Members() {}

    public Members(int a) { this(); }

    void methodWithLocalClass() {
        class Local {
            int notIndexed;
            void alsoNotIndexed() {}
        }
        Runnable r = new Runnable() { public void run() {} };
    }

    int[] arrayMethod()[] { return null; }

    native void nativeMethod();

    abstract static class Inner {
        abstract void abstractMethod();
        class Deeper {
            int deepField;
        }
    }

    interface Api {
        int CONSTANT = 1, OTHER = 2;
        void call();
        default int withDefault() { return CONSTANT; }
        static Api create() { return null; }
        private void internal() {}
    }

    static class Bar {
        foo() {}
        Bar(int x) {}
    }
}

class SecondTopLevel {
    String second;
}

interface TopInterface extends Runnable, Comparable<TopInterface> {
    void top();
}
