/**
 * `deno task bench:corpus`: a real corpus, the JDK 17 sources (Debian's
 * `openjdk-17-source`: `src.zip`, unzipped once into a cache directory),
 * indexed as **one** source root by `search`, against universal-ctags on the
 * same files in the same run:
 *
 * - cold index wall time (empty worker cache) and warm start wall time (the
 *   same command again), each the median of `--runs`;
 * - peak RSS of every process (router and workers: the sum of each
 *   process's `VmHWM` from `/proc/<pid>/status`, sampled while it runs);
 * - search latency p50/p99 over a fixed query list, through `router serve`
 *   started warm from the same cache (client-side, one request at a time);
 * - ratios to ctags' wall time from the same run.
 *
 * ```sh
 * deno task bench:corpus [--runs 3] [--zip PATH] [--cache-dir DIR]
 *                        [--modes local,distributed] [--query-reps 5]
 *                        [--queries a,b,c] [--json]
 * ```
 *
 * It exits 1 with one line when the sources or ctags are missing. Too slow
 * for CI; `corpus_test.ts` runs the same command on a small zip. Reading
 * `/proc` needs `-A` (Deno grants it only with all permissions).
 *
 * @module
 */

import { unzipSync } from "fflate";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { parseArgs } from "node:util";

/** Where Debian's `openjdk-17-source` puts the sources. */
export const DEFAULT_JDK_SRC_ZIP = "/usr/lib/jvm/openjdk-17/lib/src.zip";

/** The fixed query list of the latency measurement. */
export const CORPUS_QUERIES: readonly string[] = [
  "HashMap",
  "hm",
  "ConcurrentHashMap",
  "String",
  "toString",
  "get",
  "Lis",
  "ArrayList",
  "Thread",
  "run",
  "JComp",
  "paint",
  "getConnection",
  "ResultSet",
  "Stream",
  "collect",
  "parse",
  "Exception",
  "IOExc",
  "read",
  "Buffer",
  "ByteBuffer",
  "Socket",
  "URLClassLoader",
  "xml",
  "Node",
  "hashCode",
  "equals",
  "Integer",
  "valueOf",
  "Map.Entry",
  "Comparator",
  "lambda",
  "Unsafe",
  "SecurityManager",
  "zzq",
  "a",
  "getClassLoader",
  "javax.swing",
  "Annotation",
];

/** Options of {@link runCorpusBench}. */
export interface CorpusBenchOptions {
  /** The sources zip. @default {DEFAULT_JDK_SRC_ZIP} */
  zip?: string;
  /** Where the corpus is unzipped (once). */
  cacheDir: string;
  /** Timed runs per measurement (medians). @default {3} */
  runs?: number;
  /** `local` (router-local index) and/or `distributed` (protocol 3.1). */
  modes?: readonly ("local" | "distributed")[];
  /** Queries for the latency measurement. @default {CORPUS_QUERIES} */
  queries?: readonly string[];
  /** Times each query is sent. @default {5} */
  queryReps?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** One wall-time measurement (ms) with the processes' peak RSS (bytes). */
export interface Measured {
  /** Wall time of the whole command. */
  wallMs: number;
  /** Sum over the processes of each one's peak RSS (`VmHWM`). */
  peakRssBytes: number;
  /** The processes whose peaks were summed. */
  processes: number;
}

/** One mode's figures (medians over the runs). */
export interface ModeResult {
  /** Router-local index (`search`) or protocol 3.1 (`--distributed`). */
  mode: "local" | "distributed";
  /** `search` with an empty cache. */
  cold: Measured;
  /** The same command again, from the cache. */
  warm: Measured;
  /** Median search latency through `router serve`. */
  searchP50Ms: number;
  /** 99th percentile search latency. */
  searchP99Ms: number;
  /** How many searches were timed. */
  searches: number;
  /** What the first cold run printed on stderr (the summary line). */
  summary: string;
}

/** Everything {@link runCorpusBench} measured. */
export interface CorpusBenchResult {
  /** The corpus root (one `--root`). */
  root: string;
  /** `.java` files in it. */
  files: number;
  /** Their total size. */
  bytes: number;
  /** universal-ctags over the same root. */
  ctags: Measured;
  /** loom's figures per mode. */
  modes: ModeResult[];
}

/** A missing tool or corpus: one line for the user. */
export class CorpusBenchSetupError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "CorpusBenchSetupError";
  }
}

const here = (rel: string): string =>
  decodeURIComponent(new URL(rel, import.meta.url).pathname);

/** The permissions `deno task search` grants. */
const TASK_FLAGS = [
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-run",
  "--allow-sys",
];

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

/**
 * Unzips the `.java` entries of `zip` into `cacheDir` once (a `.complete`
 * marker names the zip's size and time); returns the corpus root.
 */
async function ensureCorpus(
  zip: string,
  cacheDir: string,
  log: (line: string) => void,
): Promise<string> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(zip);
  } catch {
    throw new CorpusBenchSetupError(
      `${zip} not found: install the JDK sources ` +
        `(apt-get install -y openjdk-17-source) or pass --zip PATH`,
    );
  }
  const stamp = `${info.size}-${info.mtime?.getTime() ?? 0}`;
  const root = join(cacheDir, `src-${stamp}`);
  const marker = join(root, ".complete");
  try {
    await Deno.stat(marker);
    return root;
  } catch {
    // Not unzipped yet.
  }
  log(`unzipping ${zip} into ${root} (once)`);
  await Deno.remove(root, { recursive: true }).catch(() => {});
  const entries = unzipSync(await Deno.readFile(zip), {
    filter: (f) => f.name.endsWith(".java") && !f.name.includes(".."),
  });
  for (const [name, data] of Object.entries(entries)) {
    const path = join(root, name);
    await Deno.mkdir(dirname(path), { recursive: true });
    await Deno.writeFile(path, data);
  }
  await Deno.writeTextFile(marker, stamp);
  return root;
}

/** Counts the `.java` files and their bytes under `root`. */
function corpusSize(root: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    for (const e of Deno.readDirSync(dir)) {
      const p = join(dir, e.name);
      if (e.isDirectory) stack.push(p);
      else if (e.isFile && e.name.endsWith(".java")) {
        files++;
        bytes += Deno.statSync(p).size;
      }
    }
  }
  return { files, bytes };
}

/** Parent pid and VmHWM (bytes) of a live process, or undefined. */
function procInfo(pid: number): { ppid: number; hwm: number } | undefined {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? -1);
    const hwm = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
    return { ppid, hwm };
  } catch {
    return undefined;
  }
}

/**
 * Samples the peak RSS of `pid` and all its descendants every 50 ms until
 * `stop()`; the result sums each process's highest `VmHWM`.
 */
function watchRss(
  pid: number,
): { stop(): Measured["peakRssBytes"]; count(): number } {
  const peaks = new Map<number, number>();
  const sample = (): void => {
    const children = new Map<number, number[]>();
    const infos = new Map<number, number>();
    for (const e of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(e.name)) continue;
      const info = procInfo(Number(e.name));
      if (info === undefined) continue;
      infos.set(Number(e.name), info.hwm);
      const list = children.get(info.ppid) ?? [];
      list.push(Number(e.name));
      children.set(info.ppid, list);
    }
    const stack = [pid];
    while (stack.length > 0) {
      const p = stack.pop()!;
      const hwm = infos.get(p);
      if (hwm !== undefined) peaks.set(p, Math.max(peaks.get(p) ?? 0, hwm));
      stack.push(...(children.get(p) ?? []));
    }
  };
  sample();
  const timer = setInterval(sample, 50);
  return {
    stop() {
      clearInterval(timer);
      return [...peaks.values()].reduce((a, b) => a + b, 0);
    },
    count: () => peaks.size,
  };
}

/** Runs a command to completion, timing it and watching its RSS. */
async function measure(
  cmd: string,
  args: string[],
): Promise<Measured & { stderr: string; stdout: string; code: number }> {
  const started = performance.now();
  const child = new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const rss = watchRss(child.pid);
  const out = await child.output();
  const wallMs = performance.now() - started;
  const peakRssBytes = rss.stop();
  const dec = new TextDecoder();
  return {
    wallMs,
    peakRssBytes,
    processes: rss.count(),
    stderr: dec.decode(out.stderr),
    stdout: dec.decode(out.stdout),
    code: out.code,
  };
}

function medianOf(runs: readonly Measured[]): Measured {
  return {
    wallMs: median(runs.map((r) => r.wallMs)),
    peakRssBytes: median(runs.map((r) => r.peakRssBytes)),
    processes: Math.max(...runs.map((r) => r.processes)),
  };
}

async function hasCtags(): Promise<boolean> {
  try {
    const out = await new Deno.Command("ctags", {
      args: ["--version"],
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success &&
      new TextDecoder().decode(out.stdout).includes("Universal Ctags");
  } catch {
    return false;
  }
}

/** Search latencies through a warm `router serve`, one request at a time. */
async function searchLatencies(
  root: string,
  cacheDir: string,
  mode: "local" | "distributed",
  queries: readonly string[],
  reps: number,
): Promise<number[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...TASK_FLAGS,
      "--quiet",
      here("../cli/main.ts"),
      "router",
      "serve",
      "--root",
      root,
      "--cache-dir",
      cacheDir,
      "--no-index",
      "--no-progress",
      ...(mode === "distributed" ? ["--distributed"] : []),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const writer = child.stdin.getWriter();
  const reader = jsonLines(child.stdout)[Symbol.asyncIterator]();
  const enc = new TextEncoder();
  const send = (v: unknown): Promise<void> =>
    writer.write(enc.encode(JSON.stringify(v) + "\n"));
  const answer = async (id: unknown): Promise<Record<string, unknown>> => {
    for (;;) {
      const next = await reader.next();
      if (next.done) throw new Error("router serve exited early");
      const msg = JSON.parse(next.value);
      if (msg.id === id) return msg;
    }
  };
  const latencies: number[] = [];
  try {
    // Warm: the cached index arrives, then the worker gets the shard's
    // files back (rehydration); measure after that, not during it.
    for (;;) {
      const next = await reader.next();
      if (next.done) throw new Error("router serve exited early");
      if (JSON.parse(next.value).event === "worker_rehydrated") break;
    }
    let id = 0;
    for (let rep = 0; rep < reps; rep++) {
      for (const query of queries) {
        const started = performance.now();
        await send({ id: ++id, method: "search", query, limit: 20 });
        const msg = await answer(id);
        if (msg.error !== undefined) {
          throw new Error(`search ${query}: ${JSON.stringify(msg.error)}`);
        }
        latencies.push(performance.now() - started);
      }
    }
    await send({ id: "bye", method: "shutdown" });
    await answer("bye");
  } finally {
    await writer.close().catch(() => {});
    await child.status;
  }
  return latencies;
}

/** Splits a byte stream into lines. */
async function* jsonLines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, nl);
      buf = buf.slice(nl + 1);
    }
  }
}

/**
 * Runs the benchmark (see the module notes).
 *
 * @example
 * ```ts ignore
 * import { runCorpusBench } from "./corpus.ts";
 * const result = await runCorpusBench({ cacheDir: "/tmp/loom-bench" });
 * console.log(result.modes[0].cold.wallMs / result.ctags.wallMs);
 * ```
 */
export async function runCorpusBench(
  options: CorpusBenchOptions,
): Promise<CorpusBenchResult> {
  const log = options.log ?? (() => {});
  const runs = Math.max(1, options.runs ?? 3);
  if (!await hasCtags()) {
    throw new CorpusBenchSetupError(
      "universal-ctags not found: apt-get install -y universal-ctags",
    );
  }
  const root = await ensureCorpus(
    options.zip ?? DEFAULT_JDK_SRC_ZIP,
    options.cacheDir,
    log,
  );
  const { files, bytes } = corpusSize(root);
  log(`corpus: ${files} files, ${(bytes / 1e6).toFixed(1)} MB in ${root}`);
  const ctagsRuns: Measured[] = [];
  const modes: ModeResult[] = [];
  const wanted = options.modes ?? ["local", "distributed"];
  const caches: string[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const m = await measure("ctags", [
        "-R",
        "--languages=Java",
        "-f",
        "/dev/null",
        root,
      ]);
      if (m.code !== 0) throw new Error(`ctags failed: ${m.stderr.trim()}`);
      ctagsRuns.push(m);
      log(`ctags run ${i + 1}: ${(m.wallMs / 1000).toFixed(2)} s`);
    }
    for (const mode of wanted) {
      const cold: Measured[] = [];
      const warm: Measured[] = [];
      let summary = "";
      let cache = "";
      for (let i = 0; i < runs; i++) {
        cache = await Deno.makeTempDir({ prefix: "loom-bench-corpus-" });
        caches.push(cache);
        const args = [
          "run",
          ...TASK_FLAGS,
          "--quiet",
          here("../cli/main.ts"),
          "search",
          "--root",
          root,
          "--cache-dir",
          cache,
          "--no-progress",
          ...(mode === "distributed" ? ["--distributed"] : []),
          "HashMap",
        ];
        const c = await measure(Deno.execPath(), args);
        if (c.code !== 0 || !c.stdout.includes("HashMap")) {
          throw new Error(`cold search failed (${c.code}): ${c.stderr.trim()}`);
        }
        summary ||= c.stderr.trim().split("\n").at(-1) ?? "";
        const w = await measure(Deno.execPath(), args);
        if (w.code !== 0 || !/1 shard\(s\) from cache/.test(w.stderr)) {
          throw new Error(`warm search was not warm: ${w.stderr.trim()}`);
        }
        cold.push(c);
        warm.push(w);
        log(
          `${mode} run ${i + 1}: cold ${(c.wallMs / 1000).toFixed(2)} s, ` +
            `warm ${(w.wallMs / 1000).toFixed(2)} s`,
        );
      }
      const latencies = await searchLatencies(
        root,
        cache,
        mode,
        options.queries ?? CORPUS_QUERIES,
        options.queryReps ?? 5,
      );
      modes.push({
        mode,
        cold: medianOf(cold),
        warm: medianOf(warm),
        searchP50Ms: percentile(latencies, 50),
        searchP99Ms: percentile(latencies, 99),
        searches: latencies.length,
        summary,
      });
    }
  } finally {
    for (const c of caches) {
      await Deno.remove(c, { recursive: true }).catch(() => {});
    }
  }
  return { root, files, bytes, ctags: medianOf(ctagsRuns), modes };
}

/**
 * The result as a plain-text table (ratios are to ctags' median wall time
 * of the same run).
 *
 * @example
 * ```ts
 * import { formatCorpusTable } from "./corpus.ts";
 * const m = { wallMs: 1000, peakRssBytes: 1 << 20, processes: 1 };
 * const text = formatCorpusTable({ root: "/src", files: 1, bytes: 10, ctags: m, modes: [] });
 * console.assert(text.includes("ctags"));
 * ```
 */
export function formatCorpusTable(result: CorpusBenchResult): string {
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const ratio = (ms: number): string =>
    `${(ms / result.ctags.wallMs).toFixed(2)}x`;
  const rows: string[][] = [[
    "what",
    "wall (median)",
    "vs ctags",
    "peak RSS, all processes",
  ], [
    "ctags -R --languages=Java",
    s(result.ctags.wallMs),
    "1.00x",
    mib(result.ctags.peakRssBytes),
  ]];
  for (const m of result.modes) {
    rows.push([
      `loom ${m.mode} cold`,
      s(m.cold.wallMs),
      ratio(m.cold.wallMs),
      `${mib(m.cold.peakRssBytes)} (${m.cold.processes} processes)`,
    ], [
      `loom ${m.mode} warm`,
      s(m.warm.wallMs),
      ratio(m.warm.wallMs),
      `${mib(m.warm.peakRssBytes)} (${m.warm.processes} processes)`,
    ]);
  }
  const widths = rows[0].map((_, i) =>
    Math.max(...rows.map((r) => r[i].length))
  );
  const table = rows.map((r) =>
    r.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd()
  );
  const out = [
    `corpus: ${result.files} .java files, ${
      (result.bytes / 1e6).toFixed(1)
    } MB, one root (${result.root})`,
    ...table,
  ];
  for (const m of result.modes) {
    out.push(
      `loom ${m.mode} search: p50 ${m.searchP50Ms.toFixed(1)} ms, p99 ${
        m.searchP99Ms.toFixed(1)
      } ms over ${m.searches} queries (router serve, warm)`,
    );
  }
  return out.join("\n");
}

if (import.meta.main) {
  const err = (line: string): void => {
    Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
  };
  try {
    const { values } = parseArgs({
      args: Deno.args,
      options: {
        runs: { type: "string", default: "3" },
        zip: { type: "string" },
        "cache-dir": { type: "string" },
        modes: { type: "string", default: "local,distributed" },
        "query-reps": { type: "string", default: "5" },
        queries: { type: "string" },
        json: { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    const count = (name: string, text: string): number => {
      if (!/^[1-9][0-9]*$/.test(text)) {
        throw new CorpusBenchSetupError(`--${name} must be a positive integer`);
      }
      return Number(text);
    };
    // Relative to where the command was typed (`deno task` runs here).
    const init = Deno.env.get("INIT_CWD");
    const cwd = init && isAbsolute(init) ? init : Deno.cwd();
    const home = Deno.env.get("XDG_CACHE_HOME") ??
      `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
    const modes = values.modes.split(",").map((m) => {
      if (m !== "local" && m !== "distributed") {
        throw new CorpusBenchSetupError(`--modes: unknown mode ${m}`);
      }
      return m;
    });
    const result = await runCorpusBench({
      zip: values.zip === undefined ? undefined : resolve(cwd, values.zip),
      cacheDir: values["cache-dir"] === undefined
        ? `${home}/loom/bench-corpus`
        : resolve(cwd, values["cache-dir"]),
      runs: count("runs", values.runs),
      queryReps: count("query-reps", values["query-reps"]),
      modes,
      queries: values.queries?.split(","),
      log: (line) => err(`bench:corpus: ${line}`),
    });
    console.log(
      values.json ? JSON.stringify(result) : formatCorpusTable(result),
    );
  } catch (e) {
    err(`bench:corpus: ${(e as Error).message.split("\n")[0]}`);
    Deno.exit(1);
  }
}
