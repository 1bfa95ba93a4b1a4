/**
 * Worker command templates: a shell-like command line with placeholders that
 * the runner fills in per case. Pure: no process is started here.
 *
 * Placeholders (each may appear anywhere inside a word, any number of times):
 * - `{connect}`: the address the worker must connect to (`unix:/...`,
 *   `tcp:127.0.0.1:PORT` or `tcp+tls:localhost:PORT`);
 * - `{shard}`: the shard id the case expects (a decimal u32);
 * - `{cache_dir}`: a fresh, empty directory the worker may use as its cache;
 * - `{token_env}`: the NAME of an environment variable that holds the auth
 *   token (the token itself never appears on the command line);
 * - `{ca_cert}`: path of the PEM CA certificate to trust (tls and mtls
 *   transports only);
 * - `{client_cert}`, `{client_key}`: paths of the PEM client certificate and
 *   its private key the worker must present (mtls transport only);
 * - `{{` and `}}`: literal braces.
 *
 * Tokenising follows the simple quoting rules of a POSIX shell (one
 * implementation, in `lib/router/command_template.ts`). No expansion,
 * globbing, pipes or redirections happen.
 *
 * @module
 */

import {
  COMMAND_PLACEHOLDERS,
  tokenizeCommandLine,
} from "../../lib/router/command_template.ts";

/**
 * The placeholders a template may use.
 *
 * @example
 * ```ts
 * import { PLACEHOLDERS } from "./template.ts";
 * console.assert(PLACEHOLDERS.includes("token_env"));
 * ```
 */
export const PLACEHOLDERS = [
  ...COMMAND_PLACEHOLDERS,
  "client_cert",
  "client_key",
] as const;

/** A placeholder's name. */
export type Placeholder = typeof PLACEHOLDERS[number];

/** The placeholders that only the mtls transport fills in. */
export type ClientIdentityPlaceholder = "client_cert" | "client_key";

/**
 * Values substituted for the placeholders. The client identity ones are
 * optional: missing, they are replaced by an empty string.
 */
export type TemplateValues =
  & Record<Exclude<Placeholder, ClientIdentityPlaceholder>, string>
  & Partial<Record<ClientIdentityPlaceholder, string>>;

/** Options for {@link expandTemplate}. */
export interface ExpandTemplateOptions {
  /**
   * Leave out every word that uses one of these placeholders, and the flag
   * word just before a word that is exactly such a placeholder (so
   * `--tls-client-cert {client_cert}` goes away as a whole).
   * @default []
   */
  dropWordsWith?: readonly Placeholder[];
}

/**
 * Splits a command line into words like a shell would (quotes and
 * backslashes only).
 *
 * @param command The command line.
 * @returns The words, quotes removed.
 * @throws {SyntaxError} On an unterminated quote or a trailing backslash.
 *
 * @example
 * ```ts
 * import { tokenizeCommand } from "./template.ts";
 * const words = tokenizeCommand(`run 'a b' "c \\"d\\"" e\\ f`);
 * console.assert(JSON.stringify(words) === JSON.stringify(["run", "a b", 'c "d"', "e f"]));
 * ```
 */
export function tokenizeCommand(command: string): string[] {
  try {
    return tokenizeCommandLine(command);
  } catch (err) {
    throw err instanceof TypeError ? new SyntaxError(err.message) : err;
  }
}

/**
 * Replaces the placeholders inside one word.
 *
 * @param word A word of the template.
 * @param values The values.
 * @returns The word with every placeholder substituted.
 * @throws {SyntaxError} On an unknown placeholder or a lone brace.
 *
 * @example
 * ```ts
 * import { substitutePlaceholders } from "./template.ts";
 * const values = { connect: "unix:/s", shard: "3", cache_dir: "/c", token_env: "T", ca_cert: "" };
 * console.assert(substitutePlaceholders("--connect={connect}", values) === "--connect=unix:/s");
 * ```
 */
export function substitutePlaceholders(
  word: string,
  values: TemplateValues,
): string {
  let out = "";
  let i = 0;
  while (i < word.length) {
    const c = word[i];
    if (c === "{" && word[i + 1] === "{") {
      out += "{";
      i += 2;
    } else if (c === "}" && word[i + 1] === "}") {
      out += "}";
      i += 2;
    } else if (c === "{") {
      const end = word.indexOf("}", i);
      if (end < 0) {
        throw new SyntaxError(`unterminated placeholder in "${word}"`);
      }
      const name = word.slice(i + 1, end);
      if (!(PLACEHOLDERS as readonly string[]).includes(name)) {
        throw new SyntaxError(`unknown placeholder {${name}}`);
      }
      out += values[name as Placeholder] ?? "";
      i = end + 1;
    } else if (c === "}") {
      throw new SyntaxError(`unmatched "}" in "${word}"`);
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/**
 * Tokenises a template and fills in its placeholders.
 *
 * @param template The worker command template.
 * @param values The per-case values.
 * @param options Words to leave out.
 * @returns argv: the program followed by its arguments.
 * @throws {SyntaxError} On a malformed template or an empty command.
 *
 * @example
 * ```ts
 * import { expandTemplate } from "./template.ts";
 * const argv = expandTemplate("my-worker --connect {connect} --shard {shard}", {
 *   connect: "tcp:127.0.0.1:9", shard: "0", cache_dir: "/tmp/c", token_env: "TOKEN", ca_cert: "",
 * });
 * console.assert(argv.join(" ") === "my-worker --connect tcp:127.0.0.1:9 --shard 0");
 * const bare = expandTemplate("w --tls-client-cert {client_cert} --k={client_key} -v", {
 *   connect: "", shard: "0", cache_dir: "", token_env: "T", ca_cert: "", client_cert: "/c",
 * }, { dropWordsWith: ["client_cert", "client_key"] });
 * console.assert(bare.join(" ") === "w -v");
 * ```
 */
export function expandTemplate(
  template: string,
  values: TemplateValues,
  options: ExpandTemplateOptions = {},
): string[] {
  let words = tokenizeCommand(template);
  const drop = options.dropWordsWith ?? [];
  if (drop.length > 0) {
    const uses = (w: string): boolean =>
      drop.some((name) => w.includes(`{${name}}`));
    const kept: string[] = [];
    for (const w of words) {
      if (!uses(w)) {
        kept.push(w);
        continue;
      }
      const whole = drop.some((name) => w === `{${name}}`);
      const prev = kept.at(-1);
      if (whole && prev !== undefined && prev.startsWith("-")) {
        kept.pop();
      }
    }
    words = kept;
  }
  const argv = words.map((w) => substitutePlaceholders(w, values));
  if (argv.length === 0) throw new SyntaxError("empty worker command");
  return argv;
}

const NO_VALUES = Object.fromEntries(
  PLACEHOLDERS.map((name) => [name, ""]),
) as TemplateValues;

/**
 * Lists the placeholders a template uses (validating it on the way).
 *
 * @param template The worker command template.
 * @returns The distinct placeholder names, in first-use order.
 *
 * @example
 * ```ts
 * import { templatePlaceholders } from "./template.ts";
 * console.assert(templatePlaceholders("w {connect} {shard} {connect}").join() === "connect,shard");
 * ```
 */
export function templatePlaceholders(template: string): Placeholder[] {
  const seen: Placeholder[] = [];
  for (const word of tokenizeCommand(template)) {
    const re = /\{\{|\}\}|\{([a-z_]+)\}/g;
    for (const m of word.matchAll(re)) {
      const name = m[1] as Placeholder | undefined;
      if (name !== undefined && !seen.includes(name)) seen.push(name);
    }
    // Validates the word (unknown names, lone braces).
    substitutePlaceholders(word, NO_VALUES);
  }
  return seen;
}
