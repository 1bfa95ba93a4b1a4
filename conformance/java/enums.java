package en;

public enum Planet implements Runnable {
    MERCURY(3.303e+23, 2.4397e6),
    @Deprecated
    VENUS(4.869e+24, 6.0518e6) {
        @Override
        public void run() { int hidden = 1; }
        int bodyOnly() { return 0; }
    },
    EARTH(5.976e+24, 6.37814e6),
    PLUTO(() -> { int inLambda = 0; return 0; }, new Object() { int anonField; });

    private final double mass, radius;

    Planet(double mass, double radius) {
        this.mass = mass;
        this.radius = radius;
    }

    Planet(java.util.function.IntSupplier s, Object o) {
        this(0, 0);
    }

    public void run() {}
}

enum Trailing { A, B, C, }

enum OnlySemi { ; static int counter; }

enum Bare { X, Y }

enum Empty {}
