/**
 * Shared pieces of the `search` and `router` commands: flag parsing, the
 * default cache directory, and a warm start that reuses worker caches whose
 * manifest proves them current.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { resolve, sep } from "node:path";
import type { Router } from "../lib/net/router.ts";
import type { ShardIndexedReport } from "../lib/net/router_options.ts";
import {
  buildShardManifest,
  checkShardManifest,
  removeShardManifest,
  writeShardManifest,
} from "../lib/net/shard_manifest.ts";

/** Parsed flags: repeatable values, booleans, and positionals. */
export interface ParsedFlags {
  values: Map<string, string[]>;
  bools: Set<string>;
  positionals: string[];
}

/**
 * Parses `--flag value`, `--flag=value` and boolean `--flag`s.
 *
 * @param args The arguments.
 * @param spec Which flags take a value and which are booleans.
 * @returns The parsed flags.
 * @throws {TypeError} On an unknown flag or a missing value.
 *
 * @example
 * ```ts
 * import { parseFlags } from "./router_flags.ts";
 * const f = parseFlags(["--root", "a", "--root=b", "--json", "Foo"],
 *   { values: ["root"], bools: ["json"] });
 * console.assert(f.values.get("root")!.join() === "a,b" && f.bools.has("json") && f.positionals[0] === "Foo");
 * ```
 */
export function parseFlags(
  args: readonly string[],
  spec: { values: readonly string[]; bools: readonly string[] },
): ParsedFlags {
  const out: ParsedFlags = {
    values: new Map(),
    bools: new Set(),
    positionals: [],
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      out.positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--") || arg === "-") {
      out.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (spec.bools.includes(name)) {
      if (eq >= 0) throw new TypeError(`--${name} does not take a value`);
      out.bools.add(name);
    } else if (spec.values.includes(name)) {
      let value: string;
      if (eq >= 0) value = arg.slice(eq + 1);
      else {
        if (i + 1 >= args.length) {
          throw new TypeError(`--${name} needs a value`);
        }
        value = args[++i];
      }
      const list = out.values.get(name) ?? [];
      list.push(value);
      out.values.set(name, list);
    } else {
      throw new TypeError(`unknown flag --${name}`);
    }
  }
  return out;
}

/**
 * The last value of a flag.
 *
 * @example
 * ```ts
 * import { flagValue, parseFlags } from "./router_flags.ts";
 * const f = parseFlags(["--limit", "1", "--limit=2"], { values: ["limit"], bools: [] });
 * console.assert(flagValue(f, "limit") === "2" && flagValue(f, "x") === undefined);
 * ```
 */
export function flagValue(f: ParsedFlags, name: string): string | undefined {
  return f.values.get(name)?.at(-1);
}

/**
 * Parses a positive integer flag.
 *
 * @example
 * ```ts
 * import { intFlag, parseFlags } from "./router_flags.ts";
 * const f = parseFlags(["--limit=7"], { values: ["limit"], bools: [] });
 * console.assert(intFlag(f, "limit", 20) === 7 && intFlag(f, "workers", 3) === 3);
 * ```
 */
export function intFlag(
  f: ParsedFlags,
  name: string,
  fallback: number,
): number {
  const text = flagValue(f, name);
  if (text === undefined) return fallback;
  if (!/^[0-9]+$/.test(text) || Number(text) < 1) {
    throw new TypeError(`--${name} must be a positive integer`);
  }
  return Number(text);
}

/**
 * The default cache directory for a set of roots: a per-workspace folder
 * (caches are keyed by shard number, so different workspaces must not
 * share one) under `$XDG_CACHE_HOME`, `~/.cache`, or the temp directory.
 *
 * @example
 * ```ts
 * import { defaultCacheDir } from "./router_flags.ts";
 * const a = defaultCacheDir(["/w/a"]), b = defaultCacheDir(["/w/b"]);
 * console.assert(a !== b && a.includes("loom"));
 * ```
 */
export function defaultCacheDir(roots: readonly string[]): string {
  let base: string | undefined;
  try {
    base = Deno.env.get("LOOM_CACHE_DIR") ??
      (Deno.env.get("XDG_CACHE_HOME")
        ? `${Deno.env.get("XDG_CACHE_HOME")}/loom`
        : Deno.env.get("HOME")
        ? `${Deno.env.get("HOME")}/.cache/loom`
        : undefined);
  } catch {
    base = undefined;
  }
  base ??= `${tmpdir()}/loom-cache`;
  const key = createHash("sha256")
    .update(roots.map((r) => resolve(r)).join("\0"))
    .digest("hex")
    .slice(0, 16);
  return `${base}/index-${key}`;
}

/**
 * Shards whose worker cache is loaded and provably current: the manifest
 * beside it names this root and layout and the very index the worker
 * loaded, and every file is unchanged (same stat, or same content hash when
 * the stat changed or cannot be trusted). See `lib/net/shard_manifest.ts`.
 *
 * @example
 * ```ts ignore
 * import { freshWarmShards } from "./router_flags.ts";
 * const skip = await freshWarmShards(router, cacheDir); // shards not to re-index
 * ```
 */
export async function freshWarmShards(
  router: Router,
  cacheDir: string,
  onStale?: (shard: number, reason: string) => void,
): Promise<number[]> {
  const roots = router.roots;
  const out: number[] = [];
  for (const status of router.shardStatus()) {
    if (!status.warm || status.warmIndex === undefined) continue;
    const exclude = new Set(
      roots.filter((r) => r !== status.root && r.startsWith(status.root + sep)),
    );
    const verdict = await checkShardManifest(cacheDir, {
      shard: status.shard,
      root: status.root,
      layout: roots,
      exclude,
      cachedIndex: status.warmIndex,
    });
    if (verdict.fresh) out.push(status.shard);
    else onStale?.(status.shard, verdict.reason);
  }
  return out;
}

/**
 * Records, for every shard indexed by a run, what its index was built from
 * (see `lib/net/shard_manifest.ts`); returns the `onShardIndexed` hook and
 * a `flush` that waits for the writes. Shards indexed with unsaved overlay
 * text get no manifest (their cache is not the disk's text).
 *
 * @example
 * ```ts ignore
 * const recorder = manifestRecorder(router, cacheDir);
 * await router.indexWorkspace({ onShardIndexed: recorder.onShardIndexed });
 * await recorder.flush();
 * ```
 */
export function manifestRecorder(
  router: Router,
  cacheDir: string,
  onError?: (shard: number, err: unknown) => void,
): {
  onShardIndexed: (report: ShardIndexedReport) => void;
  flush: () => Promise<void>;
} {
  const startedAt = Date.now();
  const writes: Promise<void>[] = [];
  return {
    onShardIndexed: (report) => {
      writes.push(
        (async () => {
          if (report.overlay) {
            await removeShardManifest(cacheDir, report.shard);
            return;
          }
          const manifest = await buildShardManifest({
            shard: report.shard,
            root: report.root,
            layout: router.roots,
            files: report.files,
            skipped: report.skipped,
            index: report.index,
            snapshotStartedAt: startedAt,
          });
          await writeShardManifest(cacheDir, manifest);
        })().catch((err) => onError?.(report.shard, err)),
      );
    },
    flush: async () => {
      await Promise.all(writes);
    },
  };
}

/**
 * Formats a hit as `path:line:col` (1-based, like compilers print).
 *
 * @example
 * ```ts
 * import { formatLocation } from "./router_flags.ts";
 * console.assert(formatLocation({ path: "A.java", line: 0, column: 6 }) === "A.java:1:7");
 * ```
 */
export function formatLocation(
  symbol: { path: string; line: number; column: number },
): string {
  return `${symbol.path}:${symbol.line + 1}:${symbol.column + 1}`;
}

/**
 * Splits a byte stream into UTF-8 text lines (without the `\n`); a last
 * line without a newline is yielded unless it is blank.
 *
 * @param stream The bytes, e.g. `Deno.stdin.readable`.
 * @returns The lines, in order.
 *
 * @example
 * ```ts
 * import { lines } from "./router_flags.ts";
 * const bytes = new TextEncoder().encode("a\nb\nc");
 * const got: string[] = [];
 * for await (const line of lines(ReadableStream.from([bytes]))) got.push(line);
 * console.assert(got.join() === "a,b,c");
 * ```
 */
export async function* lines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of stream) {
    buf += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, nl);
      buf = buf.slice(nl + 1);
    }
  }
  if (buf.trim() !== "") yield buf;
}
