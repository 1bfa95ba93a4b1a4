package nl;

public class CrLf {
    int a;
    /* multi
       line */ int b;
    void m() {
        String s = "x";
    }
    int c; // comment
    int d;
}
