/**
 * Worker command templates, shared by the router's process supervisor and
 * the conformance runner: the placeholder names and the word splitting.
 *
 * The rules are the quoting subset of a POSIX shell: words split on unquoted
 * spaces, tabs and line breaks; `'...'` is literal; `"..."` allows the escapes
 * `\"`, `\\`, `\$` and `` \` `` (any other backslash stays); a backslash
 * outside quotes escapes the next character, and a backslash before a line
 * break joins the lines. Nothing is expanded, globbed or redirected.
 *
 * @module
 */

/**
 * The placeholders a worker command template may use inside its words:
 * `{connect}` (the address to dial), `{shard}` (the shard id),
 * `{cache_dir}`, `{token_env}` (the NAME of the variable holding the token)
 * and `{ca_cert}` (the CA certificate path, TLS only).
 *
 * @example
 * ```ts
 * import { COMMAND_PLACEHOLDERS } from "./command_template.ts";
 * console.assert(COMMAND_PLACEHOLDERS.includes("cache_dir"));
 * ```
 */
export const COMMAND_PLACEHOLDERS = [
  "connect",
  "shard",
  "cache_dir",
  "token_env",
  "ca_cert",
] as const;

/**
 * Splits a command line into words like a shell would (quotes and
 * backslashes only). An empty or all-blank line gives no words.
 *
 * @param command The command line.
 * @returns The words, quotes removed.
 * @throws {TypeError} On an unterminated quote or a trailing backslash.
 *
 * @example
 * ```ts
 * import { tokenizeCommandLine } from "./command_template.ts";
 * const words = tokenizeCommandLine(`run 'a b' "c \\"d\\"" e\\ f`);
 * console.assert(JSON.stringify(words) === JSON.stringify(["run", "a b", 'c "d"', "e f"]));
 * console.assert(tokenizeCommandLine("  ").length === 0);
 * ```
 */
export function tokenizeCommandLine(command: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  while (i < command.length) {
    const c = command[i];
    if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) throw new TypeError("worker command: unterminated ' quote");
      word += command.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      while (i < command.length && command[i] !== '"') {
        if (
          command[i] === "\\" && i + 1 < command.length &&
          '"\\$`'.includes(command[i + 1])
        ) i++;
        word += command[i++];
      }
      if (i >= command.length) {
        throw new TypeError('worker command: unterminated " quote');
      }
      inWord = true;
      i++;
    } else if (c === "\\") {
      if (i + 1 >= command.length) {
        throw new TypeError("worker command: trailing backslash");
      }
      if (command[i + 1] !== "\n") {
        word += command[i + 1];
        inWord = true;
      }
      i += 2;
    } else if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/**
 * Splits a worker command line into words (see {@link tokenizeCommandLine})
 * and requires at least one.
 *
 * @param template The command line.
 * @returns The words: the program, then its arguments.
 * @throws {TypeError} On an unterminated quote, a trailing backslash or an
 *   empty command.
 *
 * @example
 * ```ts
 * import { splitCommandLine } from "./command_template.ts";
 * const words = splitCommandLine(`nova-worker --cache-dir "/tmp/a b" x\\ y`);
 * console.assert(words.length === 4 && words[2] === "/tmp/a b" && words[3] === "x y");
 * ```
 */
export function splitCommandLine(template: string): string[] {
  const words = tokenizeCommandLine(template);
  if (words.length === 0) throw new TypeError("worker command is empty");
  return words;
}
