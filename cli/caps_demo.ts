/**
 * `caps demo`: two workers with different capability sets and a stream of
 * jobs (each lands only on a capable worker), a job that waits in
 * `blocked_by_route` until a capable worker joins, and a killed worker
 * whose lease expires and whose job is retried elsewhere. Runs on the
 * embedded backend, or on a server with `--redis redis://127.0.0.1:PORT`
 * (in a fresh namespace). Exits 1 if any of those promises is broken.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { CapsBackend } from "../lib/caps/backend.ts";
import { capabilitiesSatisfy } from "../lib/caps/capabilities.ts";
import { EmbeddedCapsBackend } from "../lib/caps/embedded_backend.ts";
import { describeCapsError } from "../lib/caps/errors.ts";
import { connectRedisBackend } from "../lib/caps/runtime/redis_backend.ts";
import {
  type CapsWorker,
  startCapsWorker,
} from "../lib/caps/runtime/worker.ts";

const LEASE_TTL_MS = 600;
const enc = new TextEncoder();
const started = performance.now();

function say(line: string): void {
  const t = ((performance.now() - started) / 1000).toFixed(2).padStart(6);
  Deno.stdout.writeSync(enc.encode(`[${t}s] ${line}\n`));
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

async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await sleep(20);
  }
}

/** The URL without its password (never print secrets). */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "<redacted>";
    return parsed.toString();
  } catch {
    return "<unparseable URL>";
  }
}

/**
 * Runs the demo.
 *
 * @param args `[--redis URL]`.
 * @returns The exit status.
 *
 * @example
 * ```ts ignore
 * import { runCapsDemo } from "./caps_demo.ts";
 * Deno.exit(await runCapsDemo([]));
 * ```
 */
export async function runCapsDemo(args: readonly string[]): Promise<number> {
  let url: string | undefined;
  try {
    const { values } = parseArgs({
      args: [...args],
      options: { redis: { type: "string" } },
      strict: true,
    });
    url = values.redis;
  } catch (e) {
    Deno.stderr.writeSync(
      enc.encode(`caps demo: ${(e as Error).message.split("\n")[0]}\n`),
    );
    return 2;
  }
  let backend: CapsBackend;
  try {
    backend = url === undefined
      ? new EmbeddedCapsBackend()
      : await connectRedisBackend({ url, maxRetriesPerRequest: 3 });
  } catch (e) {
    Deno.stderr.writeSync(enc.encode(`caps demo: ${describeCapsError(e)}\n`));
    return 1;
  }
  const namespace = url === undefined
    ? "demo"
    : `demo-${crypto.randomUUID().slice(0, 8)}`;
  say(
    `backend: ${
      url === undefined ? "embedded (in memory)" : redactUrl(url)
    }, namespace ${namespace}, lease TTL ${LEASE_TTL_MS} ms`,
  );

  const jobNames = new Map<string, string>();
  const doneBy = new Map<string, string>();
  const problems: string[] = [];
  const workers = new Map<string, CapsWorker>();
  const capsOf = new Map<string, string>();

  const start = async (iid: string, caps: string[]): Promise<CapsWorker> => {
    const w = await startCapsWorker(backend, {
      workerId: "demo-pool",
      workerInstanceId: iid,
      namespace,
      lanes: ["default"],
      capabilities: caps,
      leaseTtlMs: LEASE_TTL_MS,
      claimPollIntervalMs: 25,
      maxConcurrentTasks: 2,
    }, {
      scanIntervalMs: 100,
      handler: async (task) => {
        const slow = task.lease.payload === "slow" && task.lease.attempt === 1;
        await sleep(slow ? 60_000 : 80, task.signal);
        return { status: "done", result: iid };
      },
      onFinished: (task, outcome) => {
        const name = jobNames.get(task.lease.executionId) ?? "?";
        if (outcome !== "done") {
          problems.push(`${name} finished as ${outcome} on ${iid}`);
          return;
        }
        if (doneBy.has(task.lease.executionId)) {
          problems.push(`${name} done twice`);
        }
        if (
          !capabilitiesSatisfy(
            task.lease.requiredCapabilities,
            capsOf.get(iid)!,
          )
        ) {
          problems.push(`${name} ran on incapable ${iid}`);
        }
        doneBy.set(task.lease.executionId, iid);
        say(
          `${name.padEnd(7)} requires ${
            (task.lease.requiredCapabilities || "(nothing)").padEnd(10)
          } → ${iid} (${capsOf.get(iid)})${
            task.lease.attempt > 1 ? `, attempt ${task.lease.attempt}` : ""
          }`,
        );
      },
    });
    workers.set(iid, w);
    capsOf.set(iid, w.preamble.capabilitiesCsv);
    say(
      `worker ${iid} joined with capabilities ${w.preamble.capabilitiesCsv} (hash ${w.preamble.capabilitiesHash})`,
    );
    return w;
  };

  const submit = async (
    name: string,
    requires: string[],
    payload = "",
  ): Promise<string> => {
    const rec = await backend.submit({
      namespace,
      lane: "default",
      requiredCapabilities: requires,
      payload,
    });
    jobNames.set(rec.executionId, name);
    return rec.executionId;
  };

  try {
    say(
      "— 1. two workers, a stream of jobs: each lands only on a capable worker",
    );
    await start("demo-a", ["cpu", "avx2"]);
    await start("demo-b", ["gpu", "cuda"]);
    const mix = [["cpu"], ["gpu"], ["gpu", "cuda"], [], ["avx2", "cpu"], [
      "cuda",
    ]];
    const stream: string[] = [];
    for (let i = 0; i < 12; i++) {
      stream.push(
        await submit(
          `job-${String(i + 1).padStart(2, "0")}`,
          mix[i % mix.length],
        ),
      );
    }
    await until(
      "the stream to finish",
      () => Promise.resolve(stream.every((id) => doneBy.has(id))),
    );

    say("— 2. a job nobody can run waits until a capable worker joins");
    const fpga = await submit("job-13", ["fpga"]);
    await until(
      "job-13 to be blocked",
      async () =>
        (await backend.getExecution(fpga))?.eligibilityState ===
          "blocked_by_route",
    );
    const blocked = await backend.getExecution(fpga);
    say(
      `job-13  requires fpga: ${blocked?.eligibilityState} (${blocked?.blockingReason})`,
    );
    await sleep(300);
    if (
      (await backend.getExecution(fpga))?.eligibilityState !==
        "blocked_by_route"
    ) {
      problems.push("job-13 left blocked_by_route without a capable worker");
    }
    await start("demo-c", ["fpga", "gpu"]);
    await until("job-13 to run", () => Promise.resolve(doneBy.has(fpga)));

    say(
      "— 3. a worker is killed mid-job: its lease expires and the job is retried elsewhere",
    );
    const slow = await submit("job-14", ["gpu"], "slow");
    await until(
      "job-14 to be claimed",
      async () =>
        (await backend.getExecution(slow))?.ownershipState === "leased",
    );
    const holder = (await backend.getExecution(slow))!.workerInstanceId;
    workers.get(holder)!.abandon();
    workers.delete(holder);
    say(
      `killed ${holder} while it ran job-14 (no cleanup; the lease runs out in ${LEASE_TTL_MS} ms)`,
    );
    await until(
      "job-14 to be retried",
      () => Promise.resolve(doneBy.has(slow)),
    );
    if (doneBy.get(slow) === holder) {
      problems.push("job-14 finished on the killed worker");
    }

    const all = [...jobNames.keys()];
    for (const id of all) {
      const rec = await backend.getExecution(id);
      if (rec?.terminalOutcome !== "success") {
        problems.push(`${jobNames.get(id)} ended ${rec?.terminalOutcome}`);
      }
    }
    say(
      `${all.length} jobs, each done exactly once by a capable worker${
        problems.length ? " — NOT" : ""
      }`,
    );
  } catch (e) {
    problems.push(describeCapsError(e));
  } finally {
    for (const w of workers.values()) await w.stop();
    await backend.close();
  }
  if (problems.length > 0) {
    for (const p of problems) {
      Deno.stderr.writeSync(enc.encode(`caps demo: ${p}\n`));
    }
    return 1;
  }
  say(
    "done: workers stopped cleanly (registry entries removed, alive keys released)",
  );
  return 0;
}

if (import.meta.main) {
  Deno.exit(await runCapsDemo(Deno.args));
}
