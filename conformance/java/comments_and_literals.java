package lit;

// A line comment with a brace { that must not open anything.
/* A block comment } with a closing brace and "quotes" and 'apostrophes'. */
/**
 * Javadoc with {@code braces} and {@link Object}.
 */
public class Literals {
    private String open = "{";
    private String close = "}";
    private String escaped = "quote \" and brace } and backslash \\";
    private char brace = '{';
    private char quote = '\'';
    private char dq = '"';
    private String block = """
        Text block with { braces } and "quotes"
        and an escaped triple \""" inside, class Fake { int notAField; }
        """;
    private String afterBlock = "still here";

    /* comment between members { */
    int code(/* { */ int x /* } */) {
        String s = "}}}";
        char c = '}';
        String t = """
            }
            """;
        // }
        return x;
    }

    int last;
}
