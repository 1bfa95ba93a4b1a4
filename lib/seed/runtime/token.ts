/**
 * Where a seed's token comes from: `LOOM_CLUSTER_TOKEN`, a 0600 file, or 32
 * fresh CSPRNG bytes. The token is never logged; a generated one is shown
 * once by the caller (or written to a 0600 file) in the exact form `join`
 * accepts.
 *
 * @module
 */

import { formatToken, parseToken, TOKEN_BYTES } from "../auth.ts";
import { SeedError } from "../errors.ts";

/** The environment variable holding a printed token. */
export const TOKEN_ENV = "LOOM_CLUSTER_TOKEN";

/**
 * 32 CSPRNG bytes.
 *
 * @returns A fresh token.
 *
 * @example
 * ```ts
 * import { generateToken } from "./token.ts";
 * console.assert(generateToken().length === 32);
 * ```
 */
export function generateToken(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(TOKEN_BYTES));
}

/**
 * Reads a token file, refusing files readable by group or others.
 *
 * @param path The file.
 * @returns The token.
 * @throws {SeedError} `invalid_token` (mode or format) or `io_error`.
 *
 * @example
 * ```ts ignore
 * const token = await readTokenFile("/run/loom/token");
 * ```
 */
export async function readTokenFile(path: string): Promise<Uint8Array> {
  let info: Deno.FileInfo;
  let text: string;
  try {
    info = await Deno.stat(path);
    text = await Deno.readTextFile(path);
  } catch (cause) {
    throw new SeedError("io_error", `cannot read token file ${path}`, {
      cause,
    });
  }
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    throw new SeedError(
      "invalid_token",
      `token file ${path} must not be readable by group or others (chmod 600)`,
    );
  }
  return parseToken(text);
}

/**
 * Writes a token to a new file with mode 0600 (refuses to overwrite).
 *
 * @param path The file.
 * @param token The token.
 *
 * @example
 * ```ts ignore
 * await writeTokenFile("/run/loom/token", generateToken());
 * ```
 */
export async function writeTokenFile(
  path: string,
  token: Uint8Array,
): Promise<void> {
  try {
    await Deno.writeTextFile(path, formatToken(token) + "\n", {
      createNew: true,
      mode: 0o600,
    });
    await Deno.chmod(path, 0o600);
  } catch (cause) {
    throw new SeedError("io_error", `cannot create token file ${path}`, {
      cause,
    });
  }
}

/** Where {@link resolveSeedToken} found the token. */
export type TokenSource = "env" | "file" | "generated" | "generated_file";

/**
 * Resolves the seed's token: env first, then an existing file, else a new
 * token (written to `tokenFile` when given and absent).
 *
 * @param tokenFile Optional token file.
 * @returns The token and its source.
 *
 * @example
 * ```ts ignore
 * const { token, source } = await resolveSeedToken(undefined);
 * ```
 */
export async function resolveSeedToken(
  tokenFile: string | undefined,
): Promise<{ token: Uint8Array; source: TokenSource }> {
  const env = Deno.env.get(TOKEN_ENV);
  if (env !== undefined && env.trim() !== "") {
    return { token: parseToken(env), source: "env" };
  }
  if (tokenFile !== undefined) {
    let exists = true;
    try {
      await Deno.lstat(tokenFile);
    } catch {
      exists = false;
    }
    if (exists) {
      return { token: await readTokenFile(tokenFile), source: "file" };
    }
    const token = generateToken();
    await writeTokenFile(tokenFile, token);
    return { token, source: "generated_file" };
  }
  return { token: generateToken(), source: "generated" };
}

/**
 * Resolves a joiner's token: env, else the given file.
 *
 * @param tokenFile Optional token file.
 * @returns The token, or `undefined` when neither is given.
 *
 * @example
 * ```ts ignore
 * const token = await resolveJoinToken("/run/loom/token");
 * ```
 */
export async function resolveJoinToken(
  tokenFile: string | undefined,
): Promise<Uint8Array | undefined> {
  if (tokenFile !== undefined) return await readTokenFile(tokenFile);
  const env = Deno.env.get(TOKEN_ENV);
  if (env !== undefined && env.trim() !== "") return parseToken(env);
  return undefined;
}
