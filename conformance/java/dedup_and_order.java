package order;

class Zeta {
    void alpha() {}
    void alpha(int x) {}
    int alpha;
    void Beta() {}
    int beta;
    Zeta() {}
    Zeta(int z) {}
    class _Under {}
    class $Dollar {}
    int zeta;
}
