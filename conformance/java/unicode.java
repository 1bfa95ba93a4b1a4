package uni;

/* 🦀 crab */ public class Unicode {
    int café = 1; /* é is one UTF-16 unit */
    /* 🦀 */ int afterEmoji;
    int 𝑥Math; // a supplementary letter counts as two units
    String s = "🦀{"; int afterString;
    int \u0061Escaped;
    \u0069nt escapedType;
    String notEscape = "\\u0041 stays"; int afterDoubleBackslash;
    char brace = '\u007B'; int afterEscapedBrace;
    int \uuu0062MultiU;
    void m() \u007B int hidden; \u007D
    int afterEscapedBody;
}

\u0063lass EscapedKeyword {
    int inside;
}

class Ünïcödé {
    Ünïcödé() {}
    int 変数;
}
