package bad;

public class Broken {
    int ok;
    int missingSemicolon
    void afterMissingSemicolon() {}
    String unterminated = "no end;
    int afterUnterminated;
    void missingParen(int x {
    }
    int afterMissingParen;
    class {
        int inNameless;
    }
    ) stray;
    int last;
}

}

class AfterStrayBrace {
    void unclosed() {
        if (true) {
