/**
 * The `caps` subcommand: capability-routed workers on Valkey/Redis or the
 * embedded backend.
 *
 * - `caps worker --caps gpu,cuda --lanes default [--redis URL] ...` runs one
 *   worker until SIGINT/SIGTERM (or `--max-jobs`), printing one JSON line
 *   per finished job. With `--stdin`, job specs are read as JSON lines from
 *   stdin and submitted (the way to feed the embedded backend, which lives
 *   inside this process).
 * - `caps submit --redis URL --requires gpu [--count N] [--wait]` submits
 *   executions to a server.
 * - `caps list --redis URL` lists the registered workers.
 * - `caps demo [--redis URL]` runs the guided demo.
 *
 * Exit status: 0 on success, 2 for bad arguments, 1 for a runtime error;
 * errors are one line on stderr.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createLogger, type Logger } from "../lib/net/log.ts";
import type { CapsBackend, ExecutionRecord } from "../lib/caps/backend.ts";
import type { CapsWorkerConfig } from "../lib/caps/config.ts";
import { EmbeddedCapsBackend } from "../lib/caps/embedded_backend.ts";
import { describeCapsError, isCapsError } from "../lib/caps/errors.ts";
import { connectRedisBackend } from "../lib/caps/runtime/redis_backend.ts";
import { startCapsWorker } from "../lib/caps/runtime/worker.ts";

/** Usage text. */
export const CAPS_USAGE = `Usage:
  loom caps worker [--redis URL] --caps a,b [--lanes default] [--namespace NS]
                   [--worker-id ID] [--instance-id ID] [--lease-ttl-ms 30000]
                   [--concurrency 1] [--poll-ms 1000] [--scan-ms 1000]
                   [--work-ms 100] [--max-jobs N] [--stdin]
  loom caps submit --redis URL [--requires a,b] [--lane default] [--namespace NS]
                   [--priority 0] [--payload TEXT] [--count 1] [--max-attempts 3]
                   [--wait] [--wait-ms 30000]
  loom caps list   --redis URL [--namespace NS]
  loom caps demo   [--redis URL]

Without --redis the worker uses the embedded in-memory backend (feed it jobs
with --stdin: one JSON object per line, {"requires":["gpu"],"payload":"x"}).
`;

const enc = new TextEncoder();

function out(line: string): void {
  Deno.stdout.writeSync(enc.encode(line + "\n"));
}

function err(line: string): void {
  Deno.stderr.writeSync(enc.encode(line + "\n"));
}

const INPUT_CODES: ReadonlySet<string> = new Set([
  "invalid_config",
  "invalid_capability",
  "caps_limit_exceeded",
]);

/** A bad command line. */
class UsageError extends Error {}

function csv(value: string | undefined, fallback: string[]): string[] {
  if (value === undefined) return fallback;
  return value === "" ? [] : value.split(",");
}

function integer(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
): number {
  if (value === undefined) return fallback;
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`--${name} must be a whole number (got "${value}")`);
  }
  const n = Number(value);
  if (n < min) throw new UsageError(`--${name} must be at least ${min}`);
  return n;
}

type Values = Record<string, string | boolean | undefined>;

function parse(
  args: readonly string[],
  strings: string[],
  bools: string[] = [],
): Values {
  const options: Record<string, { type: "string" | "boolean" }> = {};
  for (const s of strings) options[s] = { type: "string" };
  for (const b of bools) options[b] = { type: "boolean" };
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options,
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length > 0) {
      throw new UsageError(`unexpected argument: ${positionals[0]}`);
    }
    return values as Values;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const message = (e as Error).message.split("\n")[0].replace(
      /\. To specify a positional.*$/,
      "",
    );
    throw new UsageError(message);
  }
}

async function openBackend(url: string | undefined): Promise<CapsBackend> {
  if (url === undefined) return new EmbeddedCapsBackend();
  return await connectRedisBackend({ url, maxRetriesPerRequest: 3 });
}

function quietLogger(): Logger {
  return createLogger({ component: "caps" });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const id = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(id);
      resolve();
    }, { once: true });
  });
}

interface JobLine {
  requires?: unknown;
  payload?: unknown;
  priority?: unknown;
  lane?: unknown;
}

async function feedStdin(
  backend: CapsBackend,
  namespace: string,
  lane: string,
): Promise<void> {
  const reader = Deno.stdin.readable.pipeThrough(new TextDecoderStream())
    .getReader();
  let buffer = "";
  let lineNo = 0;
  const submitLine = async (line: string): Promise<void> => {
    lineNo++;
    if (line.trim() === "") return;
    let job: JobLine;
    try {
      job = JSON.parse(line);
    } catch {
      err(`caps worker: stdin line ${lineNo}: not JSON`);
      return;
    }
    const requires = Array.isArray(job.requires)
      ? job.requires.map(String)
      : [];
    try {
      const rec = await backend.submit({
        namespace,
        lane: typeof job.lane === "string" ? job.lane : lane,
        requiredCapabilities: requires,
        payload: job.payload === undefined ? "" : String(job.payload),
        priority: typeof job.priority === "number" ? job.priority : 0,
      });
      out(
        JSON.stringify({ event: "submitted", execution_id: rec.executionId }),
      );
    } catch (e) {
      err(`caps worker: stdin line ${lineNo}: ${describeCapsError(e)}`);
    }
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      await submitLine(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
  }
  if (buffer !== "") await submitLine(buffer);
}

async function workerCommand(args: readonly string[]): Promise<number> {
  const v = parse(args, [
    "redis",
    "caps",
    "lanes",
    "namespace",
    "worker-id",
    "instance-id",
    "lease-ttl-ms",
    "concurrency",
    "poll-ms",
    "scan-ms",
    "work-ms",
    "max-jobs",
  ], ["stdin"]);
  if (v.caps === undefined) {
    throw new UsageError("--caps is required (use --caps '' for none)");
  }
  const lanes = csv(v.lanes as string | undefined, ["default"]);
  const config: CapsWorkerConfig = {
    workerId: (v["worker-id"] as string | undefined) ?? "worker",
    workerInstanceId: (v["instance-id"] as string | undefined) ??
      `worker-${Deno.pid}`,
    namespace: (v.namespace as string | undefined) ?? "default",
    lanes,
    capabilities: csv(v.caps as string, []),
    leaseTtlMs: integer("lease-ttl-ms", v["lease-ttl-ms"] as string, 30_000, 1),
    maxConcurrentTasks: integer("concurrency", v.concurrency as string, 1, 1),
    claimPollIntervalMs: integer("poll-ms", v["poll-ms"] as string, 1000, 1),
  };
  const scanMs = integer("scan-ms", v["scan-ms"] as string, 1000, 0);
  const workMs = integer("work-ms", v["work-ms"] as string, 100, 0);
  const maxJobs = integer("max-jobs", v["max-jobs"] as string, 0, 0);
  const backend = await openBackend(v.redis as string | undefined);
  let finished = 0;
  let resolveDone!: () => void;
  const enough = new Promise<void>((r) => (resolveDone = r));
  let worker;
  try {
    worker = await startCapsWorker(backend, config, {
      logger: quietLogger(),
      scanIntervalMs: scanMs,
      handler: async (task) => {
        await sleep(workMs, task.signal);
        return { status: "done", result: config.workerInstanceId };
      },
      onFinished: (task, outcome) => {
        out(JSON.stringify({
          event: outcome,
          execution_id: task.lease.executionId,
          attempt: task.lease.attempt,
          requires: task.lease.requiredCapabilities,
          worker_instance_id: config.workerInstanceId,
        }));
        finished++;
        if (maxJobs > 0 && finished >= maxJobs) resolveDone();
      },
    });
  } catch (e) {
    await backend.close();
    throw e;
  }
  out(JSON.stringify({
    event: "connected",
    worker_instance_id: config.workerInstanceId,
    caps: worker.preamble.capabilitiesCsv,
    caps_hash: worker.preamble.capabilitiesHash,
    backend: backend.kind,
  }));
  if (v.stdin === true) {
    feedStdin(backend, config.namespace, lanes[0]).catch((e) =>
      err(`caps worker: stdin: ${describeCapsError(e)}`)
    );
  }
  const stopSignal = new Promise<void>((resolve) => {
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      Deno.addSignalListener(sig, () => resolve());
    }
  });
  await Promise.race([stopSignal, enough, worker.stopped]);
  await worker.stop();
  await backend.close();
  return 0;
}

async function submitCommand(args: readonly string[]): Promise<number> {
  const v = parse(args, [
    "redis",
    "requires",
    "lane",
    "namespace",
    "priority",
    "payload",
    "count",
    "max-attempts",
    "wait-ms",
  ], ["wait"]);
  if (v.redis === undefined) {
    throw new UsageError(
      "--redis is required (the embedded backend lives inside one process: use `caps worker --stdin` or `caps demo`)",
    );
  }
  const count = integer("count", v.count as string, 1, 1);
  const priority = integer("priority", v.priority as string, 0, 0);
  const maxAttempts = integer(
    "max-attempts",
    v["max-attempts"] as string,
    3,
    1,
  );
  const waitMs = integer("wait-ms", v["wait-ms"] as string, 30_000, 1);
  const backend = await openBackend(v.redis as string);
  try {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const rec = await backend.submit({
        namespace: (v.namespace as string | undefined) ?? "default",
        lane: (v.lane as string | undefined) ?? "default",
        requiredCapabilities: csv(v.requires as string | undefined, []),
        priority,
        payload: (v.payload as string | undefined) ?? "",
        maxAttempts,
      });
      ids.push(rec.executionId);
      out(
        JSON.stringify({ event: "submitted", execution_id: rec.executionId }),
      );
    }
    if (v.wait !== true) return 0;
    const deadline = Date.now() + waitMs;
    const pending = new Set(ids);
    while (pending.size > 0) {
      for (const id of [...pending]) {
        const rec = await backend.getExecution(id) as ExecutionRecord;
        if (rec.lifecyclePhase === "terminal") {
          pending.delete(id);
          out(JSON.stringify({
            event: rec.terminalOutcome,
            execution_id: id,
            worker_instance_id: rec.workerInstanceId,
            attempts: rec.attempts,
          }));
        }
      }
      if (pending.size === 0) break;
      if (Date.now() > deadline) {
        err(
          `caps submit: ${pending.size} execution(s) still pending after ${waitMs} ms`,
        );
        return 1;
      }
      await sleep(50);
    }
    return 0;
  } finally {
    await backend.close();
  }
}

async function listCommand(args: readonly string[]): Promise<number> {
  const v = parse(args, ["redis", "namespace"]);
  if (v.redis === undefined) throw new UsageError("--redis is required");
  const backend = await openBackend(v.redis as string);
  try {
    let after: string | undefined;
    do {
      const page = await backend.listWorkers(
        (v.namespace as string | undefined) ?? "default",
        { after },
      );
      for (const w of page.workers) out(JSON.stringify(w));
      after = page.nextAfter;
    } while (after !== undefined);
    return 0;
  } finally {
    await backend.close();
  }
}

/**
 * Runs `caps <worker|submit|list|demo> ...`.
 *
 * @param args Arguments after `caps`.
 * @returns The exit status.
 *
 * @example
 * ```ts ignore
 * import { runCaps } from "./caps.ts";
 * Deno.exit(await runCaps(["worker", "--caps", "gpu", "--stdin"]));
 * ```
 */
export async function runCaps(args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    Deno.stdout.writeSync(enc.encode(CAPS_USAGE));
    return sub === undefined ? 2 : 0;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    Deno.stdout.writeSync(enc.encode(CAPS_USAGE));
    return 0;
  }
  const commands: Record<string, (a: readonly string[]) => Promise<number>> = {
    worker: workerCommand,
    submit: submitCommand,
    list: listCommand,
    demo: async (a) => (await import("./caps_demo.ts")).runCapsDemo(a),
  };
  const command = commands[sub];
  if (command === undefined) {
    err(
      `caps: unknown command "${sub}" (worker, submit, list, demo; see --help)`,
    );
    return 2;
  }
  try {
    return await command(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`caps ${sub}: ${e.message} (see --help)`);
      return 2;
    }
    const line = describeCapsError(e).replace(/\s*\n\s*/g, " ");
    err(`caps ${sub}: ${line}`);
    const badInput = isCapsError(e) && INPUT_CODES.has(e.code);
    return badInput ? 2 : 1;
  }
}

if (import.meta.main) {
  Deno.exit(await runCaps(Deno.args));
}
