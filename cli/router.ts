/**
 * `router serve`: a long-running router for editors and scripts. It spawns
 * (or accepts) workers, indexes once at start, then reads one JSON request
 * per line on stdin and writes one JSON line per answer or event on stdout.
 *
 * Requests (`id` is echoed; any JSON value):
 *
 * ```text
 * {"id":1,"method":"search","query":"FooB","limit":20}
 * {"id":2,"method":"update","path":"a/src/X.java","text":"class X {}"}
 * {"id":3,"method":"discard","path":"a/src/X.java"}      drop unsaved text
 * {"id":4,"method":"index"}                               re-index everything
 * {"id":5,"method":"diagnostics","path":"a/src/X.java"}
 * {"id":6,"method":"stats"}      {"id":7,"method":"status"}
 * {"id":8,"method":"cancel","target":4}                   cancel request 4
 * {"id":9,"method":"shutdown"}
 * ```
 *
 * Requests run one after another in arrival order (`cancel` and `status`
 * are handled at once, whatever is running; `shutdown` lets earlier
 * requests finish for up to 5 s, then cancels what still runs or waits and
 * exits within a bounded time). An `index` where some shards fail still
 * indexes the others: its result lists the failures in `failed`, and
 * `status` marks those shards `degraded`. Answers are
 * `{"id":..,"result":..}` or `{"id":..,"error":{"code","message"}}`;
 * events are `{"event":"ready"|"indexed"|"worker_connected"|...}`.
 *
 * @module
 */

import { type Router, startRouter } from "../lib/net/router.ts";
import { prepareCacheDirectory } from "../lib/net/shard_cache_file.ts";
import { ProtocolError } from "../lib/wire/errors.ts";
import { createProgressBar } from "./progress.ts";
import {
  defaultCacheDir,
  flagValue,
  intFlag,
  lines,
  parseFlags,
} from "./_router_cli.ts";
import { planShards } from "./_shard_plan.ts";

/**
 * Usage text of the `router` command.
 *
 * @example
 * ```ts
 * import { ROUTER_USAGE } from "./router.ts";
 * console.assert(ROUTER_USAGE.startsWith("usage: router"));
 * ```
 */
export const ROUTER_USAGE =
  `usage: router serve --root DIR [--root DIR ...] [options]

Runs a router that reads JSON-line requests on stdin and writes JSON-line
answers on stdout (methods: search, update, discard, index, diagnostics,
stats, status, cancel, shutdown).

options:
  --root DIR                 a source root (repeatable; shard id = position)
  --workers N                split the roots into up to N shards
  --listen ADDR              unix:PATH (default: private), tcp:H:P or tcp+tls:H:P
  --no-spawn                 do not spawn workers; wait for external ones
  --worker-command T         worker command template ({connect}, {shard},
                             {cache_dir}, {token_env}, {ca_cert})
  --cache-dir DIR            worker cache directory
  --auth-token-env NAME      bearer token for external workers, from env NAME
  --allow-insecure           allow a token over plaintext tcp: / non-loopback tcp:
  --tls-cert F --tls-key F   server certificate and key for tcp+tls:
  --tls-client-ca F          require worker client certificates from this CA
  --allow-fingerprint [S=]FP allow a client certificate (for shard S, or all)
  --distributed              offer protocol 3.1 (workers keep their symbols)
  --no-index                 do not index at start
  --no-progress              never draw the progress display
  -h, --help                 show this help
`;

const enc = new TextEncoder();

/** How long `shutdown` lets earlier requests finish before cancelling, in ms. */
const SHUTDOWN_GRACE_MS = 5000;
/** How long cancelled requests get to unwind on `shutdown`, in ms. */
const SHUTDOWN_UNWIND_MS = 3000;

async function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    work.catch(() => {}),
    new Promise<void>((resolve) => timer = setTimeout(resolve, ms)),
  ]);
  clearTimeout(timer);
}

function emit(value: unknown): void {
  const text = JSON.stringify(
    value,
    (_k, v) => typeof v === "bigint" ? v.toString() : v,
  );
  Deno.stdout.writeSync(enc.encode(text + "\n"));
}

function errorOf(err: unknown): { code: string; message: string } {
  if (err instanceof ProtocolError) {
    return { code: err.code, message: err.message };
  }
  if (err instanceof TypeError || err instanceof RangeError) {
    return { code: "invalid_request", message: err.message };
  }
  return {
    code: "internal",
    message: err instanceof Error ? err.message : String(err),
  };
}

interface RequestLine {
  id?: unknown;
  method?: unknown;
  [key: string]: unknown;
}

async function handle(
  router: Router,
  req: RequestLine,
  signal: AbortSignal,
  progress: boolean,
): Promise<unknown> {
  const str = (name: string): string => {
    const v = req[name];
    if (typeof v !== "string") {
      throw new TypeError(`"${name}" must be a string`);
    }
    return v;
  };
  switch (req.method) {
    case "search": {
      const limit = req.limit === undefined ? 200 : Number(req.limit);
      if (!Number.isInteger(limit) || limit < 0) {
        throw new TypeError('"limit" must be a non-negative integer');
      }
      return (await router.searchSymbols(str("query"), { limit, signal })).map((
        m,
      ) => ({
        ...m.symbol,
        shard: m.shardId,
        stale: m.stale,
        kind: m.kind,
        score: m.score,
      }));
    }
    case "update":
      await router.updateFile(str("path"), str("text"), { signal });
      return { revision: router.revision };
    case "discard":
      return { discarded: router.discardOverlay(str("path")) };
    case "index": {
      const bar = createProgressBar(progress ? {} : { enabled: false });
      // A failing shard is reported (here and in `status`); the others
      // are indexed and served.
      const result = await router.indexWorkspace({
        signal,
        onProgress: (p) => bar.update(p),
        partial: true,
      });
      bar.finish();
      return result;
    }
    case "diagnostics":
      return await router.diagnostics(str("path"), { signal });
    case "stats":
      return Object.fromEntries(await router.workerStats({ signal }));
    case "status":
      return { shards: router.shardStatus(), overlay: router.overlayPaths() };
    default:
      throw new TypeError(`unknown method ${JSON.stringify(req.method)}`);
  }
}

/**
 * Runs the `router` command.
 *
 * @param args Command-line arguments after `router`.
 * @returns The exit code.
 *
 * @example
 * ```ts ignore
 * import { runRouter } from "./router.ts";
 * Deno.exit(await runRouter(["serve", "--root", "src"]));
 * ```
 */
export async function runRouter(args: readonly string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h") || args[0] !== "serve") {
    const ok = args.includes("--help") || args.includes("-h");
    (ok ? Deno.stdout : Deno.stderr).writeSync(enc.encode(ROUTER_USAGE));
    return ok ? 0 : 2;
  }
  let flags;
  try {
    flags = parseFlags(args.slice(1), {
      values: [
        "root",
        "workers",
        "listen",
        "worker-command",
        "cache-dir",
        "auth-token-env",
        "tls-cert",
        "tls-key",
        "tls-client-ca",
        "allow-fingerprint",
      ],
      bools: [
        "no-spawn",
        "allow-insecure",
        "no-index",
        "no-progress",
        "distributed",
      ],
    });
    if (flags.positionals.length > 0) {
      throw new TypeError(`unexpected argument ${flags.positionals[0]}`);
    }
  } catch (e) {
    Deno.stderr.writeSync(
      enc.encode(`router: ${(e as Error).message}\n${ROUTER_USAGE}`),
    );
    return 2;
  }
  const rootsArg = flags.values.get("root") ?? [];
  if (rootsArg.length === 0) {
    Deno.stderr.writeSync(enc.encode(`router: need --root\n${ROUTER_USAGE}`));
    return 2;
  }
  let router: Router;
  try {
    const roots = flags.values.has("workers")
      ? await planShards(rootsArg, intFlag(flags, "workers", 1))
      : rootsArg;
    const tokenEnv = flagValue(flags, "auth-token-env");
    const authToken = tokenEnv ? Deno.env.get(tokenEnv)?.trim() : undefined;
    if (tokenEnv && !authToken) {
      throw new TypeError(`environment variable ${tokenEnv} is empty or unset`);
    }
    const cert = flagValue(flags, "tls-cert");
    const key = flagValue(flags, "tls-key");
    const global: string[] = [];
    const shards: Record<number, string[]> = {};
    for (const entry of flags.values.get("allow-fingerprint") ?? []) {
      const m = /^(\d+)=(.*)$/.exec(entry);
      if (m) (shards[Number(m[1])] ??= []).push(m[2]);
      else global.push(entry);
    }
    const cacheDir = flagValue(flags, "cache-dir") ?? defaultCacheDir(roots);
    if (!flags.bools.has("no-spawn")) await prepareCacheDirectory(cacheDir);
    router = await startRouter({
      roots,
      listen: flagValue(flags, "listen"),
      authToken,
      allowInsecureTcp: flags.bools.has("allow-insecure"),
      distributedSearch: flags.bools.has("distributed"),
      tls: cert && key
        ? {
          certFile: cert,
          keyFile: key,
          clientCaFile: flagValue(flags, "tls-client-ca"),
        }
        : undefined,
      fingerprintAllowlist: { global, shards },
      spawnWorkers: flags.bools.has("no-spawn") ? false : {
        command: flagValue(flags, "worker-command"),
        cacheDir,
      },
      onEvent: (e) => {
        if (e.type === "supervisor") {
          if (e.event.type !== "output") {
            emit({ event: "supervisor", ...e.event });
          }
        } else emit({ event: e.type, ...e, type: undefined });
      },
    });
  } catch (e) {
    Deno.stderr.writeSync(enc.encode(`router: ${(e as Error).message}\n`));
    return 1;
  }
  const progress = !flags.bools.has("no-progress");
  emit({ event: "ready", address: router.address, roots: router.roots });
  // Requests run one after another in arrival order (a search sees every
  // earlier update); `cancel` is handled as soon as it is read.
  const inflight = new Map<string, AbortController>();
  const all = new Set<AbortController>();
  let stopping = false;
  let chain: Promise<void> = Promise.resolve();
  const run = (req: RequestLine): void => {
    const key = JSON.stringify(req.id ?? null);
    const ac = new AbortController();
    all.add(ac);
    if (req.id !== undefined) inflight.set(key, ac);
    chain = chain.then(() =>
      (stopping
        ? Promise.reject(
          new ProtocolError("cancelled", "router shutting down"),
        )
        : handle(router, req, ac.signal, progress)).then(
          (result) => emit({ id: req.id ?? null, result }),
          (err) => emit({ id: req.id ?? null, error: errorOf(err) }),
        ).finally(() => {
          all.delete(ac);
          if (inflight.get(key) === ac) inflight.delete(key);
        })
    );
  };
  const cancelAll = (reason: string): void => {
    stopping = true;
    for (const ac of all) ac.abort(new ProtocolError("cancelled", reason));
  };
  if (!flags.bools.has("no-index")) {
    run({ id: "initial-index", method: "index" });
  }
  let shutdownId: unknown = undefined;
  try {
    for await (const line of lines(Deno.stdin.readable)) {
      if (line.trim() === "") continue;
      let req: RequestLine;
      try {
        const parsed = JSON.parse(line);
        if (
          parsed === null || typeof parsed !== "object" || Array.isArray(parsed)
        ) {
          throw new TypeError("a request must be a JSON object");
        }
        req = parsed;
      } catch (e) {
        emit({
          id: null,
          error: { code: "invalid_request", message: (e as Error).message },
        });
        continue;
      }
      if (req.method === "shutdown") {
        shutdownId = req.id ?? null;
        break;
      }
      if (req.method === "status") {
        // Answered from state at once, never behind running work.
        emit({
          id: req.id ?? null,
          result: {
            shards: router.shardStatus(),
            overlay: router.overlayPaths(),
          },
        });
        continue;
      }
      if (req.method === "cancel") {
        const ac = inflight.get(JSON.stringify(req.target ?? null));
        ac?.abort(new ProtocolError("cancelled", "cancelled by the client"));
        emit({ id: req.id ?? null, result: { cancelled: ac !== undefined } });
        continue;
      }
      run(req);
    }
    // End of input: finish what was asked first. `shutdown`: the same, but
    // for a bounded time; then what still runs or waits is cancelled.
    if (shutdownId === undefined) await chain;
    else await settleWithin(chain, SHUTDOWN_GRACE_MS);
  } finally {
    cancelAll("router shutting down");
    await settleWithin(chain, SHUTDOWN_UNWIND_MS);
    await router.shutdown();
  }
  if (shutdownId !== undefined) {
    emit({ id: shutdownId, result: { shutdown: true } });
  }
  return 0;
}

if (import.meta.main) {
  Deno.exit(await runRouter(Deno.args));
}
