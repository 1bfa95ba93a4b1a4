/**
 * Error-text sanitising for anything the worker reports (stderr, `internal`
 * RPC errors): values that may come from user data never leak.
 *
 * Rules (a superset of the reference's, applied to every text rather than
 * only to JSON/TOML-looking ones):
 * - every double-quoted substring becomes `"<redacted>"`;
 * - every backticked substring becomes `` `<redacted>` ``;
 * - TOML snippet lines (`12 | key = "value"` style, as printed by TOML
 *   parsers) are dropped, and `raw: Some(...)` becomes `raw: Some("<redacted>")`.
 *
 * @module
 */

/**
 * Redacts quoted values and source snippets from an error text.
 *
 * @param text The error text.
 * @returns The sanitised text.
 *
 * @example
 * ```ts
 * import { sanitizeErrorText } from "./sanitize.ts";
 * const out = sanitizeErrorText('invalid type: string "hunter2", expected u32');
 * console.assert(out === 'invalid type: string "<redacted>", expected u32');
 * console.assert(sanitizeErrorText("unknown field `api_key`") === "unknown field `<redacted>`");
 * ```
 */
export function sanitizeErrorText(text: string): string {
  const lines = text.split("\n").filter((line) => !/^\s*\d*\s*\|/.test(line));
  return lines.join("\n")
    .replace(
      /raw: Some\((?:"(?:[^"\\]|\\.)*"|[^)]*)\)/g,
      'raw: Some("<redacted>")',
    )
    .replace(
      /"(?:[^"\\\n]|\\.)*"/g,
      (match) => match === '"<redacted>"' ? match : '"<redacted>"',
    )
    .replace(/`[^`\n]*`/g, "`<redacted>`");
}

/**
 * Characters that a terminal interprets instead of printing: C0 controls
 * (escape, newline, carriage return, tab...), DEL, C1 controls, the line and
 * paragraph separators and the bidirectional overrides and isolates.
 */
// deno-lint-ignore no-control-regex -- matching controls is the point
const TERMINAL_UNSAFE = new RegExp(
  "[\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]",
  "g",
);

/**
 * Makes untrusted text safe to print on a terminal: every control
 * character becomes a visible escape (`\x1b`, `\n`, `\u202e`), so a file
 * name or a peer's message can neither move the cursor, retitle the window,
 * clear the screen nor forge an extra output line. Printable text,
 * including non-ASCII letters, is left as is.
 *
 * @param text Untrusted text (a path, a symbol name, a peer's message).
 * @returns Text with no terminal control characters.
 *
 * @example
 * ```ts
 * import { escapeControlChars } from "./sanitize.ts";
 * console.assert(escapeControlChars("a\u001b]0;pwned\u0007.java") === "a\\x1b]0;pwned\\x07.java");
 * console.assert(escapeControlChars("x\nFAKE.java:9:9") === "x\\nFAKE.java:9:9");
 * console.assert(escapeControlChars("Größe") === "Größe");
 * ```
 */
export function escapeControlChars(text: string): string {
  return text.replace(TERMINAL_UNSAFE, (c) => {
    switch (c) {
      case "\n":
        return "\\n";
      case "\r":
        return "\\r";
      case "\t":
        return "\\t";
    }
    const code = c.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
