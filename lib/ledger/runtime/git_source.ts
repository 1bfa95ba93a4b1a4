/**
 * The git source: every unique blob reachable from all refs, with the
 * first (oldest) commit, its author and the path that added it, listed
 * through the `git` binary (`log --raw` over `--all`, plus `rev-list
 * --objects --all` for blobs that only merges introduced), and contents
 * read through one long-running `git cat-file --batch`.
 *
 * @module
 */

import { LedgerError } from "../errors.ts";
import {
  CatFileBatchDecoder,
  type CatFileEvent,
  type CatFileLimits,
  DEFAULT_CAT_FILE_LIMITS,
} from "../git_batch.ts";

/** One blob to scan. */
export interface GitBlob {
  /** Blob oid (hex). */
  readonly oid: string;
  /** The path it was first added at. */
  readonly path: string;
  /** The first commit that added it ("" when only a merge did). */
  readonly commit: string;
  /** Author name of that commit. */
  readonly author: string;
  /** Author e-mail. */
  readonly email: string;
  /** Author time (s). */
  readonly time: number;
}

const ZERO_OID = /^0+$/;

async function git(
  repo: string,
  args: string[],
  input?: string,
): Promise<string> {
  let child;
  try {
    child = new Deno.Command("git", {
      args: ["-C", repo, "-c", "core.quotePath=false", ...args],
      stdin: input === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
      env: { GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" },
    }).spawn();
  } catch (error) {
    throw new LedgerError(
      "source_failed",
      `cannot run git: ${(error as Error).message}`,
    );
  }
  if (input !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(input));
    await w.close();
  }
  const out = await child.output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n")[0];
    throw new LedgerError(
      "source_failed",
      `git ${args[0]} failed: ${err || `exit ${out.code}`}`,
    );
  }
  return new TextDecoder().decode(out.stdout);
}

/**
 * Undoes git's C-style path quoting (`"a\tb"`, octal bytes).
 *
 * @param path A path as git prints it.
 * @returns The path.
 *
 * @example
 * ```ts
 * import { unquoteGitPath } from "./git_source.ts";
 * console.assert(unquoteGitPath('"a\\"b"') === 'a"b');
 * ```
 */
export function unquoteGitPath(path: string): string {
  if (!path.startsWith('"') || !path.endsWith('"')) return path;
  const body = path.slice(1, -1);
  const bytes: number[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== "\\") {
      bytes.push(...enc.encode(c));
      continue;
    }
    const n = body[++i];
    const simple: Record<string, number> = {
      n: 10,
      t: 9,
      r: 13,
      '"': 34,
      "\\": 92,
      a: 7,
      b: 8,
      f: 12,
      v: 11,
    };
    if (simple[n] !== undefined) bytes.push(simple[n]);
    else if (/[0-7]/.test(n)) {
      bytes.push(parseInt(body.slice(i, i + 3), 8));
      i += 2;
    } else bytes.push(...enc.encode(n));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/**
 * A fingerprint of everything `--all` reaches from: every ref with its
 * object and `HEAD`. Equal fingerprints mean the same reachable history.
 *
 * @param repo The repository.
 * @returns 32 bytes (SHA-256 of the ref listing).
 * @throws {LedgerError} `source_failed` when git fails or `repo` is not a repository.
 */
export async function gitRefsFingerprint(repo: string): Promise<Uint8Array> {
  await git(repo, ["rev-parse", "--git-dir"]);
  const refs = await git(repo, [
    "for-each-ref",
    "--format=%(objectname) %(refname)",
  ]);
  let head = "";
  try {
    head = await git(repo, ["rev-parse", "--verify", "-q", "HEAD"]);
  } catch {
    // An unborn HEAD reaches nothing.
  }
  const text = new TextEncoder().encode(`${refs}\nHEAD ${head}`);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", text));
}

/**
 * Lists every unique blob reachable from all refs, oldest introduction
 * first.
 *
 * @param repo The repository (work tree or bare).
 * @returns The blobs.
 * @throws {LedgerError} `source_failed` when git fails or `repo` is not a repository.
 */
export async function listGitBlobs(repo: string): Promise<GitBlob[]> {
  await git(repo, ["rev-parse", "--git-dir"]);
  const refs = (await git(repo, ["for-each-ref", "--format=%(objectname)"]))
    .trim();
  if (refs === "") return [];
  const log = await git(repo, [
    "log",
    "--all",
    "--reverse",
    "--date-order",
    "--no-renames",
    "--raw",
    "--no-abbrev",
    "--format=%x01%H%x09%an%x09%ae%x09%at",
  ]);
  const seen = new Map<string, GitBlob>();
  let commit = "";
  let author = "";
  let email = "";
  let time = 0;
  for (const line of log.split("\n")) {
    if (line.startsWith("\x01")) {
      const [h, an, ae, at] = line.slice(1).split("\t");
      commit = h;
      author = an ?? "";
      email = ae ?? "";
      time = Number(at ?? 0);
      continue;
    }
    if (!line.startsWith(":")) continue;
    const tab = line.indexOf("\t");
    if (tab < 0) continue;
    const meta = line.slice(1, tab).split(" ");
    const newMode = meta[1];
    const oid = meta[3];
    if (oid === undefined || ZERO_OID.test(oid)) continue;
    if (!newMode.startsWith("100")) continue; // regular files only
    if (seen.has(oid)) continue;
    seen.set(oid, {
      oid,
      path: unquoteGitPath(line.slice(tab + 1)),
      commit,
      author,
      email,
      time,
    });
  }
  // Blobs that only merges introduced.
  const objects = await git(repo, ["rev-list", "--objects", "--all"]);
  const unknown: { oid: string; path: string }[] = [];
  for (const line of objects.split("\n")) {
    const sp = line.indexOf(" ");
    if (sp < 0) continue;
    const oid = line.slice(0, sp);
    if (!seen.has(oid)) {
      unknown.push({ oid, path: unquoteGitPath(line.slice(sp + 1)) });
    }
  }
  if (unknown.length > 0) {
    const types = await git(
      repo,
      ["cat-file", "--batch-check=%(objectname) %(objecttype)"],
      unknown.map((u) => u.oid).join("\n") + "\n",
    );
    const blobs = new Set(
      types.split("\n").filter((l) => l.endsWith(" blob")).map((l) =>
        l.split(" ")[0]
      ),
    );
    for (const u of unknown) {
      if (blobs.has(u.oid) && !seen.has(u.oid)) {
        seen.set(u.oid, {
          oid: u.oid,
          path: u.path,
          commit: "",
          author: "",
          email: "",
          time: 0,
        });
      }
    }
  }
  return [...seen.values()];
}

/**
 * One `git cat-file --batch` process reading blobs in batches.
 */
export class GitBlobReader {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder: CatFileBatchDecoder;
  #queue: CatFileEvent[] = [];

  /**
   * Starts `git cat-file --batch` in a repository.
   *
   * @param repo The repository.
   * @param limits Object limits.
   */
  constructor(repo: string, limits: CatFileLimits = DEFAULT_CAT_FILE_LIMITS) {
    this.#child = new Deno.Command("git", {
      args: ["-C", repo, "cat-file", "--batch"],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
      env: { GIT_TERMINAL_PROMPT: "0" },
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#reader = this.#child.stdout.getReader();
    this.#decoder = new CatFileBatchDecoder(limits);
  }

  /**
   * Reads the given blobs, in order.
   *
   * @param oids Blob oids.
   * @returns One event per oid.
   * @throws {LedgerError} `source_failed` when git stops early.
   */
  async read(oids: readonly string[]): Promise<CatFileEvent[]> {
    const write = this.#writer.write(
      new TextEncoder().encode(oids.map((o) => o + "\n").join("")),
    );
    const out: CatFileEvent[] = [];
    while (out.length < oids.length) {
      if (this.#queue.length > 0) {
        out.push(this.#queue.shift()!);
        continue;
      }
      const { value, done } = await this.#reader.read();
      if (done) {
        throw new LedgerError("source_failed", "git cat-file stopped early");
      }
      this.#queue.push(...this.#decoder.push(value));
    }
    await write;
    return out;
  }

  /** Ends the process. */
  async close(): Promise<void> {
    try {
      await this.#writer.close();
    } catch {
      // Already closed.
    }
    try {
      while (!(await this.#reader.read()).done) {
        // Drain.
      }
    } catch {
      // Ignore.
    }
    await this.#child.status;
  }
}
