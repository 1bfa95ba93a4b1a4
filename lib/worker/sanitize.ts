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
