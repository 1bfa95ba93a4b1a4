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
 * events are `{"event":"ready"|"indexed"|"worker_connected"|...}`. The full
 * protocol with an example session is in {@link ROUTER_USAGE} and the README.
 *
 * @module
 */

import { type Router, startRouter } from "../lib/net/router.ts";
import { prepareCacheDirectory } from "../lib/net/shard_cache_file.ts";
import { ProtocolError } from "../lib/wire/errors.ts";
import { createProgressBar } from "./progress.ts";
import { describeSkip } from "../lib/net/workspace_fs.ts";
import {
  defaultCacheDir,
  flagValue,
  lines,
  parseFlags,
} from "./router_flags.ts";
import { planShards } from "./_shard_plan.ts";
import { LOOM_WORKER_PROGRAM } from "./worker_program.ts";
import { checkRoots, resolveUserPath, UsageError } from "./_roots.ts";
import { onInterrupt } from "./_signals.ts";
import { protocolFlag, workersFlag } from "./_workspace_cli.ts";

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
answers and events on stdout. Relative paths (roots, files, --cache-dir,
certificates) are relative to the directory the command was typed in.

options:
  --root DIR                 a source root (repeatable; shard id = position);
                             an existing directory, each one once
  --workers N                split the roots into up to N shards (at most 2
                             per CPU core)
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
  --distributed              workers that speak 3.1 keep their symbols
  --protocol V               highest protocol offered: 3.1 (default) or 3.0
  --strict                   an index that skipped files (unreadable, not
                             UTF-8, over 8 MiB) answers an error
                             (code skipped_files; skipped files are always
                             reported in files_skipped events)
  --no-index                 do not index at start
  --no-progress              never draw the progress display
  -h, --help                 show this help

protocol (one JSON object per line; "id" is any JSON value, echoed back):
  {"id":1,"method":"search","query":"FooB","limit":20}
      -> {"id":1,"result":[{"name","path","line","column","shard","stale",
          "kind","score"}]}   line and column are 0-based
  {"id":2,"method":"update","path":"a/src/X.java","text":"class X {}"}
      -> {"id":2,"result":{"revision":N}}   unsaved text, kept in an overlay
  {"id":3,"method":"discard","path":"a/src/X.java"}
      -> {"id":3,"result":{"discarded":true}}   back to the text on disk
  {"id":4,"method":"index"}       re-index every shard
      -> {"id":4,"result":{"revision","files","bytes","symbols","skipped"}}
  {"id":5,"method":"diagnostics","path":"a/src/X.java"}
      -> {"id":5,"result":[{"severity","line","column","message"}]}
  {"id":6,"method":"stats"}       per-shard worker stats
  {"id":7,"method":"status"}      shards and overlay paths
  {"id":8,"method":"cancel","target":4}   cancel request 4 (answered at once)
      -> {"id":8,"result":{"cancelled":true}}
  {"id":9,"method":"shutdown"}    finish earlier requests, stop, exit 0
      -> {"id":9,"result":{"shutdown":true}}
  Requests run one after another in arrival order. A failure is
  {"id":..,"error":{"code":"..","message":".."}}; a line that is not a JSON
  object gets {"id":null,"error":{"code":"invalid_request",..}}. Events have
  no id: {"event":"ready","address":..,"roots":[..]} first, then
  "worker_connected", "worker_disconnected", "worker_rehydrated",
  "cached_index", "files_skipped", "supervisor". Unless --no-index, the
  first answer is {"id":"initial-index","result":{..}} for the start-up
  index. End of input is the same as shutdown. SIGINT/SIGTERM stop the
  workers, remove the private socket directory and exit 130/143.

example session (> typed, < printed; supervisor events left out):
  < {"event":"ready","address":"unix:/tmp/loom-router-.../router.sock",
     "roots":["/tmp/me/src"]}
  < {"event":"worker_connected","shard":0,"workerId":1,"cached":false,
     "spawned":true}
  < {"id":"initial-index","result":{"revision":"5768351433141256193",
     "files":1,"bytes":95,"symbols":2,"skipped":[]}}
  > {"id":1,"method":"search","query":"HashMap","limit":1}
  < {"id":1,"result":[{"name":"HashMap",
     "path":"/tmp/me/src/java/util/HashMap.java","line":2,"column":13,
     "shard":0,"stale":false,"kind":"prefix","score":999993}]}
  > {"id":2,"method":"shutdown"}
  < {"event":"worker_disconnected","shard":0,"workerId":1}
  < {"id":2,"result":{"shutdown":true}}
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
  if (err instanceof UsageError) {
    return { code: err.code, message: err.message };
  }
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
  strict: boolean,
): Promise<unknown> {
  const str = (name: string): string => {
    const v = req[name];
    if (typeof v !== "string") {
      throw new TypeError(`"${name}" must be a string`);
    }
    return v;
  };
  // File paths may be relative to where the command was typed.
  const path = (): string => resolveUserPath(str("path"));
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
      await router.updateFile(path(), str("text"), { signal });
      return { revision: router.revision };
    case "discard":
      return { discarded: router.discardOverlay(path()) };
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
      if (strict && result.skipped.length > 0) {
        throw new UsageError(
          "skipped_files",
          `--strict: ${result.skipped.length} file(s) skipped, first ${
            describeSkip(result.skipped[0])
          }`,
        );
      }
      return result;
    }
    case "diagnostics":
      return await router.diagnostics(path(), { signal });
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
  try {
    return await serve(args);
  } catch (e) {
    const text = e instanceof Error ? e.message : String(e);
    Deno.stderr.writeSync(enc.encode(`router: ${text.split("\n")[0]}\n`));
    return e instanceof UsageError ? e.exitCode : 1;
  }
}

async function serve(args: readonly string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    Deno.stdout.writeSync(enc.encode(ROUTER_USAGE));
    return 0;
  }
  if (args[0] !== "serve") {
    throw new UsageError(
      "bad_flag",
      args[0] === undefined
        ? "expected: router serve --root DIR ... (see --help)"
        : `unknown router command ${
          JSON.stringify(args[0])
        }; expected serve (see --help)`,
    );
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
        "protocol",
      ],
      bools: [
        "no-spawn",
        "allow-insecure",
        "no-index",
        "no-progress",
        "distributed",
        "strict",
      ],
    });
    if (flags.positionals.length > 0) {
      throw new TypeError(`unexpected argument ${flags.positionals[0]}`);
    }
  } catch (e) {
    throw new UsageError("bad_flag", `${(e as Error).message} (see --help)`);
  }
  const rootsArg = flags.values.get("root") ?? [];
  if (rootsArg.length === 0) {
    throw new UsageError("bad_flag", "need --root (see --help)");
  }
  const maxProtocolMinor = protocolFlag(flagValue(flags, "protocol"));
  const workers = workersFlag(
    flags,
    (line) => Deno.stderr.writeSync(enc.encode(`router: ${line}\n`)),
  );
  const checked = await checkRoots(rootsArg);
  const userFile = (name: string): string | undefined => {
    const v = flagValue(flags, name);
    return v === undefined ? undefined : resolveUserPath(v);
  };
  let router: Router;
  let starting: Promise<Router> | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (r: Router): Promise<void> => stopping ??= r.shutdown();
  const removeSignals = onInterrupt(async () => {
    const r = await starting?.catch(() => undefined);
    if (r !== undefined) await stop(r);
  });
  try {
    const roots = workers !== undefined
      ? await planShards(checked, workers)
      : checked;
    const tokenEnv = flagValue(flags, "auth-token-env");
    const authToken = tokenEnv ? Deno.env.get(tokenEnv)?.trim() : undefined;
    if (tokenEnv && !authToken) {
      throw new TypeError(`environment variable ${tokenEnv} is empty or unset`);
    }
    const cert = userFile("tls-cert");
    const key = userFile("tls-key");
    const global: string[] = [];
    const shards: Record<number, string[]> = {};
    for (const entry of flags.values.get("allow-fingerprint") ?? []) {
      const m = /^(\d+)=(.*)$/.exec(entry);
      if (m) (shards[Number(m[1])] ??= []).push(m[2]);
      else global.push(entry);
    }
    const cacheDir = userFile("cache-dir") ?? defaultCacheDir(roots);
    if (!flags.bools.has("no-spawn")) await prepareCacheDirectory(cacheDir);
    starting = startRouter({
      roots,
      maxProtocolMinor,
      listen: flagValue(flags, "listen"),
      authToken,
      allowInsecureTcp: flags.bools.has("allow-insecure"),
      distributedSearch: flags.bools.has("distributed"),
      tls: cert && key
        ? {
          certFile: cert,
          keyFile: key,
          clientCaFile: userFile("tls-client-ca"),
        }
        : undefined,
      fingerprintAllowlist: { global, shards },
      spawnWorkers: flags.bools.has("no-spawn") ? false : {
        command: flagValue(flags, "worker-command"),
        program: LOOM_WORKER_PROGRAM,
        cacheDir,
        // A worker loads its (possibly large) cache before it connects.
        connectTimeoutMs: 120_000,
      },
      onEvent: (e) => {
        if (e.type === "supervisor") {
          if (e.event.type !== "output") {
            emit({ event: "supervisor", ...e.event });
          }
        } else emit({ event: e.type, ...e, type: undefined });
      },
    });
    router = await starting;
  } catch (e) {
    removeSignals();
    throw e;
  }
  const progress = !flags.bools.has("no-progress");
  emit({ event: "ready", address: router.address, roots: router.roots });
  // Requests run one after another in arrival order (a search sees every
  // earlier update); `cancel` is handled as soon as it is read.
  const inflight = new Map<string, AbortController>();
  const all = new Set<AbortController>();
  let shuttingDown = false;
  let chain: Promise<void> = Promise.resolve();
  const run = (req: RequestLine): void => {
    const key = JSON.stringify(req.id ?? null);
    const ac = new AbortController();
    all.add(ac);
    if (req.id !== undefined) inflight.set(key, ac);
    chain = chain.then(() =>
      (shuttingDown
        ? Promise.reject(
          new ProtocolError("cancelled", "router shutting down"),
        )
        : handle(
          router,
          req,
          ac.signal,
          progress,
          flags.bools.has("strict"),
        )).then(
          (result) => emit({ id: req.id ?? null, result }),
          (err) => emit({ id: req.id ?? null, error: errorOf(err) }),
        ).finally(() => {
          all.delete(ac);
          if (inflight.get(key) === ac) inflight.delete(key);
        })
    );
  };
  const cancelAll = (reason: string): void => {
    shuttingDown = true;
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
    await stop(router);
    removeSignals();
  }
  if (shutdownId !== undefined) {
    emit({ id: shutdownId, result: { shutdown: true } });
  }
  return 0;
}

if (import.meta.main) {
  Deno.exit(await runRouter(Deno.args));
}
