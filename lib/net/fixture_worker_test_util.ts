/**
 * A small, scriptable worker process for router tests, in the spirit of the
 * reference's fixture worker. It speaks the real protocol (via `connect`),
 * indexes with the real Java symbol extractor, persists the real shard
 * cache, and reads knobs from `<cache-dir>/loom-router-test-worker.conf`
 * (`key=value` lines, `#` comments):
 *
 * - `fail_attempts=N`: the first N starts exit with code 3 before connecting;
 * - `connect_delay_ms=M`, `connect_delay_attempts=N`: sleep before connecting
 *   on the first N starts;
 * - `exit_after_handshake_attempts=N`: the first N starts exit right after
 *   the handshake;
 * - `block_index_until_cancel=1`: `IndexShard` waits until cancelled;
 * - `wrong_shard_index=1`, `wrong_shard_stats=1`, `wrong_shard_cached=1`:
 *   answer (or announce) with shard id + 1;
 * - `ignore_shutdown=1`: answer `Shutdown` but keep running;
 * - `hostile_symbols=1`: `IndexShard` replies carry extra forged symbols
 *   (paths outside the shard, control characters in names, line 2^32-1);
 * - `index_reply=ack`: answer `IndexShard` with `ack`;
 * - `index_reply=hang`: never answer `IndexShard`, not even a cancel;
 * - `index_reply=too_large`: answer `IndexShard` with a `too_large` error;
 * - `shard<N>.<key>=...` sets a knob for shard N only.
 *
 * It records starts in `attempts-shard<N>.log` (one ms timestamp per line)
 * and writes `index-started-shard<N>.marker` / `index-cancelled-shard<N>.marker`.
 *
 * Usage: `deno run -A fixture_worker_test_util.ts --connect A --shard-id N --cache-dir D [--auth-token-env E]`
 *
 * @module
 */

import { connect } from "./connect.ts";
import { loadShardCache, saveShardCache } from "./shard_cache_file.ts";
import { extractJavaSymbols, sortSymbols } from "../worker/java_symbols.ts";
import type { RpcResult, ShardIndex } from "../wire/types.ts";

/** Parsed knobs. */
export type FixtureKnobs = Record<string, string>;

/**
 * Parses a knob file.
 *
 * @example
 * ```ts
 * import { parseKnobs } from "./fixture_worker_test_util.ts";
 * const k = parseKnobs("# c\nfail_attempts = 2\nblock_index_until_cancel=yes\n");
 * console.assert(k.fail_attempts === "2" && k.block_index_until_cancel === "yes");
 * ```
 */
export function parseKnobs(text: string): FixtureKnobs {
  const out: FixtureKnobs = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function truthy(v: string | undefined): boolean {
  return v !== undefined &&
    ["1", "true", "yes", "on"].includes(v.toLowerCase());
}

async function main(args: string[]): Promise<number> {
  const address = flag(args, "--connect")!;
  const shardId = Number(flag(args, "--shard-id"));
  const cacheDir = flag(args, "--cache-dir")!;
  const tokenEnv = flag(args, "--auth-token-env");
  const token = tokenEnv ? Deno.env.get(tokenEnv) ?? null : null;
  await Deno.mkdir(cacheDir, { recursive: true });
  let knobs: FixtureKnobs = {};
  try {
    knobs = parseKnobs(
      await Deno.readTextFile(`${cacheDir}/loom-router-test-worker.conf`),
    );
  } catch {
    // No knobs.
  }
  const logPath = `${cacheDir}/attempts-shard${shardId}.log`;
  let attempt = 1;
  try {
    attempt = (await Deno.readTextFile(logPath)).split("\n").filter((l) =>
      l
    ).length + 1;
  } catch {
    // First start.
  }
  await Deno.writeTextFile(logPath, `${Date.now()}\n`, { append: true });
  // `shard<N>.<key>` overrides `<key>` for shard N.
  const knob = (k: string): string | undefined =>
    knobs[`shard${shardId}.${k}`] ?? knobs[k];
  const num = (k: string): number => Number(knob(k) ?? 0);
  if (attempt <= num("fail_attempts")) return 3;
  if (attempt <= num("connect_delay_attempts") && num("connect_delay_ms") > 0) {
    await new Promise((r) => setTimeout(r, num("connect_delay_ms")));
  }
  const cache = await loadShardCache(cacheDir, shardId);
  let index: ShardIndex | undefined = cache.ok ? cache.index : undefined;
  let files = new Map<string, string>();
  let generation = BigInt(index?.index_generation ?? 0);
  const conn = await connect(address, {
    shardId,
    authToken: token,
    cachedIndexInfo: index
      ? {
        revision: index.revision,
        index_generation: index.index_generation,
        symbol_count: index.symbols.length,
      }
      : null,
  });
  if (index) {
    conn.notify({
      type: "cached_index",
      body: truthy(knob("wrong_shard_cached"))
        ? { ...index, shard_id: shardId + 1 }
        : index,
    });
  }
  if (attempt <= num("exit_after_handshake_attempts")) {
    await conn.close();
    return 0;
  }
  const rebuild = async (revision: number | bigint): Promise<ShardIndex> => {
    const symbols = sortSymbols(
      [...files].flatMap(([p, t]) => extractJavaSymbols(p, t)),
    );
    generation++;
    const next: ShardIndex = {
      shard_id: shardId,
      revision,
      index_generation: Number(generation),
      symbols,
    };
    index = next;
    await saveShardCache(cacheDir, next);
    return next;
  };
  const ok = (value: RpcResult & { status: "ok" }): RpcResult => value;
  let lastRevision: number | bigint = 0;
  const done = Promise.withResolvers<number>();
  conn.setRequestHandler(async (req, ctx): Promise<RpcResult> => {
    const wrong = truthy(knob("wrong_shard_index")) ? shardId + 1 : shardId;
    switch (req.type) {
      case "load_files":
        files = new Map(req.files.map((f) => [f.path, f.text]));
        lastRevision = req.revision;
        return ok({ status: "ok", value: { type: "ack" } });
      case "index_shard": {
        await Deno.writeTextFile(
          `${cacheDir}/index-started-shard${shardId}.marker`,
          "",
        );
        if (truthy(knob("block_index_until_cancel"))) {
          await new Promise<void>((resolve) => {
            if (ctx.signal.aborted) resolve();
            ctx.signal.addEventListener("abort", () => resolve());
          });
          await Deno.writeTextFile(
            `${cacheDir}/index-cancelled-shard${shardId}.marker`,
            "",
          );
          return {
            status: "err",
            error: {
              code: "cancelled",
              message: "request cancelled",
              retryable: true,
              details: null,
            },
          };
        }
        if (knob("index_reply") === "hang") {
          return await new Promise<never>(() => {});
        }
        if (knob("index_reply") === "ack") {
          return ok({ status: "ok", value: { type: "ack" } });
        }
        if (knob("index_reply") === "too_large") {
          return {
            status: "err",
            error: {
              code: "too_large",
              message: "shard index exceeds max_packet_len",
              retryable: false,
              details: null,
            },
          };
        }
        files = new Map(req.files.map((f) => [f.path, f.text]));
        lastRevision = req.revision;
        const built = await rebuild(req.revision);
        const first = req.files[0]?.path ?? "/w/A.java";
        const forged = truthy(knob("hostile_symbols"))
          ? [
            { name: "shadow", path: "/etc/shadow", line: 0, column: 0 },
            {
              name: "passwd",
              path: "../../../../etc/passwd",
              line: 0,
              column: 0,
            },
            {
              name: "dotdot",
              path: `${first}/../../../../etc/hosts.java`,
              line: 0,
              column: 0,
            },
            {
              name: "Evil\u001b]0;owned\u0007",
              path: first,
              line: 0,
              column: 0,
            },
            { name: "FarAway", path: first, line: 4294967295, column: 0 },
            { name: "WideAway", path: first, line: 0, column: 4294967295 },
          ]
          : [];
        return {
          status: "ok",
          value: {
            type: "shard_index",
            body: {
              ...built,
              shard_id: wrong,
              symbols: [...built.symbols, ...forged],
            },
          },
        };
      }
      case "update_file": {
        files.set(req.file.path, req.file.text);
        lastRevision = req.revision;
        const built = await rebuild(req.revision);
        return {
          status: "ok",
          value: { type: "shard_index", body: { ...built, shard_id: wrong } },
        };
      }
      case "diagnostics":
        return {
          status: "ok",
          value: { type: "diagnostics", body: { diagnostics: [] } },
        };
      case "get_worker_stats":
        return {
          status: "ok",
          value: {
            type: "worker_stats",
            body: {
              shard_id: truthy(knob("wrong_shard_stats"))
                ? shardId + 1
                : shardId,
              revision: lastRevision,
              index_generation: Number(generation),
              file_count: files.size,
            },
          },
        };
      case "shutdown":
        if (!truthy(knob("ignore_shutdown"))) {
          setTimeout(() => done.resolve(0), 20);
        }
        return { status: "ok", value: { type: "shutdown" } };
      default:
        return {
          status: "err",
          error: {
            code: "invalid_request",
            message: "unknown request",
            retryable: false,
            details: null,
          },
        };
    }
  });
  conn.closed.then(() => done.resolve(0));
  const code = await done.promise;
  await conn.close();
  return code;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
