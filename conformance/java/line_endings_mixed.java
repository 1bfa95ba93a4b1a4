package nl;
class Mixed {
    int a;
    int b;    int c;
}
