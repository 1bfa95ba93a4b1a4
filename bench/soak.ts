/**
 * Soak benchmark: `router serve` with 4 spawned workers under a mixed load
 * for a fixed time (default 5 minutes):
 *
 * - a client sends searches and file updates on the router's stdin
 *   (JSON lines), several in flight, and times every answer;
 * - every 30 s one worker is killed (SIGKILL; the router restarts it);
 * - a hostile client reconnects to the router's worker socket in a loop,
 *   sending a partial frame, garbage, or nothing, and hangs up.
 *
 * It samples the resident memory of the router and of every worker every
 * 10 s and prints, at the end: RSS over time per process (with the change
 * from the first to the last third of the run), p50/p99 search latency,
 * and requests lost (sent but never answered; must be 0). RSS comes from
 * `ps`.
 *
 * ```sh
 * deno run -A bench/soak.ts [--seconds 300] [--files 500] [--kill-every 30]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { writeSampleWorkspace } from "../lib/net/sample_workspace.ts";

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
const QUERIES = ["Service", "hndl", "Cache", "getId", "Reqst", "cfg", "run"];

interface Options {
  seconds: number;
  files: number;
  killEvery: number;
  inFlight: number;
}

function options(): Options {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      seconds: { type: "string", default: "300" },
      files: { type: "string", default: "500" },
      "kill-every": { type: "string", default: "30" },
      "in-flight": { type: "string", default: "4" },
    },
  });
  const num = (name: string, text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) {
      console.error(`soak: --${name} must be a positive integer`);
      Deno.exit(2);
    }
    return n;
  };
  return {
    seconds: num("seconds", values.seconds!),
    files: num("files", values.files!),
    killEvery: num("kill-every", values["kill-every"]!),
    inFlight: num("in-flight", values["in-flight"]!),
  };
}

/** Resident memory in MiB (`ps`: no /proc access needed). */
async function rssMiB(pid: number): Promise<number | undefined> {
  try {
    const out = await new Deno.Command("ps", {
      args: ["-o", "rss=", "-p", String(pid)],
      stdout: "piped",
      stderr: "null",
    }).output();
    const kb = Number(new TextDecoder().decode(out.stdout).trim());
    return out.success && kb > 0 ? kb / 1024 : undefined;
  } catch {
    return undefined;
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Connects, misbehaves one way or another, hangs up; forever. */
async function hostileLoop(
  socket: string,
  stop: () => boolean,
): Promise<number> {
  let rounds = 0;
  const garbage = new Uint8Array(64).map((_, i) => (i * 37) & 0xff);
  while (!stop()) {
    rounds++;
    try {
      const conn = await Deno.connect({ transport: "unix", path: socket });
      try {
        switch (rounds % 3) {
          case 0: // a length prefix promising 1 MiB, then silence
            await conn.write(new Uint8Array([0, 0, 16, 0, 0xa1]));
            await sleep(50);
            break;
          case 1:
            await conn.write(garbage);
            break;
          default: // connect and say nothing
            await sleep(20);
        }
      } finally {
        conn.close();
      }
    } catch {
      await sleep(20); // refused for capacity, or the socket is gone
    }
  }
  return rounds;
}

async function main(): Promise<void> {
  const opts = options();
  const dir = await Deno.makeTempDir({ prefix: "loom-soak-" });
  const ws = await writeSampleWorkspace(`${dir}/ws`, {
    roots: ["core", "server", "client", "tools"],
    filesPerRoot: opts.files,
  });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      MAIN,
      "router",
      "serve",
      "--no-progress",
      "--cache-dir",
      `${dir}/cache`,
      ...ws.roots.flatMap((r) => ["--root", r]),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const writer = child.stdin.getWriter();
  const enc = new TextEncoder();
  const workers = new Map<number, number>(); // shard -> pid
  const pending = new Map<string, { sent: number; method: string }>();
  const latencies: number[] = [];
  let answered = 0;
  let errors = 0;
  const errorCodes = new Map<string, number>();
  let ready!: (address: string) => void;
  const readyAddress = new Promise<string>((r) => ready = r);
  let indexed!: () => void;
  const initialIndex = new Promise<void>((r) => indexed = r);
  const waiters = new Set<() => void>();
  const reading = (async () => {
    let buf = "";
    for await (
      const chunk of child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (line.event === "ready") ready(line.address);
        if (line.event === "supervisor" && line.type === "spawned") {
          workers.set(line.shard, line.pid);
        }
        if (line.id === "initial-index") indexed();
        if (line.id === undefined || line.id === null) continue;
        const key = String(line.id);
        const p = pending.get(key);
        if (p === undefined) continue;
        pending.delete(key);
        answered++;
        if (line.error) {
          errors++;
          const code = String(line.error.code);
          errorCodes.set(code, (errorCodes.get(code) ?? 0) + 1);
        } else if (p.method === "search") {
          latencies.push(performance.now() - p.sent);
        }
        for (const w of waiters) w();
      }
    }
  })();
  const address = await readyAddress;
  const t0 = performance.now();
  await initialIndex;
  console.log(
    `soak: ${ws.files} files in 4 roots indexed in ${
      ((performance.now() - t0) / 1000).toFixed(1)
    } s; running ${opts.seconds} s`,
  );
  const start = performance.now();
  const end = start + opts.seconds * 1000;
  const stop = (): boolean => performance.now() >= end;
  const hostile = address.startsWith("unix:")
    ? hostileLoop(address.slice(5), stop)
    : Promise.resolve(0);
  // RSS samples every 10 s: [seconds, router, worker by shard...]
  const samples: {
    t: number;
    router?: number;
    workers: (number | undefined)[];
  }[] = [];
  const sample = async (): Promise<void> => {
    const t = Math.round((performance.now() - start) / 1000);
    samples.push({
      t,
      router: await rssMiB(child.pid),
      workers: await Promise.all([0, 1, 2, 3].map((s) => {
        const pid = workers.get(s);
        return pid === undefined ? undefined : rssMiB(pid);
      })),
    });
  };
  await sample();
  const sampler = setInterval(() => void sample(), 10_000);
  let kills = 0;
  const killer = setInterval(() => {
    const shard = kills % 4;
    const pid = workers.get(shard);
    kills++;
    if (pid !== undefined) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }, opts.killEvery * 1000);
  let sent = 0;
  let nextId = 0;
  const send = async (request: Record<string, unknown>): Promise<void> => {
    const id = `r${nextId++}`;
    pending.set(id, {
      sent: performance.now(),
      method: String(request.method),
    });
    sent++;
    await writer.write(enc.encode(JSON.stringify({ id, ...request }) + "\n"));
  };
  while (!stop()) {
    while (pending.size >= opts.inFlight) {
      await new Promise<void>((r) => {
        const w = (): void => {
          waiters.delete(w);
          r();
        };
        waiters.add(w);
      });
    }
    const n = nextId;
    if (n % 5 === 4) {
      const root = n % 4;
      const paths = ws.paths[root];
      await send({
        method: "update",
        path: paths[n % paths.length],
        text:
          `package soak;\npublic class SoakEdit${n} { void run${n}() {} }\n`,
      });
    } else {
      await send({
        method: "search",
        query: QUERIES[n % QUERIES.length],
        limit: 20,
      });
    }
  }
  clearInterval(killer);
  // Drain: every request must be answered.
  const drainEnd = performance.now() + 60_000;
  while (pending.size > 0 && performance.now() < drainEnd) await sleep(50);
  clearInterval(sampler);
  await sample();
  const lost = pending.size;
  const hostileRounds = await hostile;
  await send({ method: "shutdown" });
  await writer.close().catch(() => {});
  const status = await child.status;
  await reading.catch(() => {});
  await Deno.remove(dir, { recursive: true }).catch(() => {});

  latencies.sort((a, b) => a - b);
  const fmt = (v: number | undefined): string =>
    v === undefined ? "    -" : v.toFixed(0).padStart(5);
  console.log("\nRSS (MiB) every 10 s: t(s) router  w0  w1  w2  w3");
  for (const s of samples) {
    console.log(
      `${String(s.t).padStart(5)} ${fmt(s.router)} ${
        s.workers.map(fmt).join(" ")
      }`,
    );
  }
  // The first sample is taken before the load starts: leave it out.
  const loaded = samples.slice(1);
  const third = Math.max(1, Math.floor(loaded.length / 3));
  const mean = (xs: (number | undefined)[]): number => {
    const v = xs.filter((x): x is number => x !== undefined);
    return v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
  };
  const trend = (
    pick: (s: typeof samples[0]) => number | undefined,
  ): string => {
    const first = mean(loaded.slice(0, third).map(pick));
    const last = mean(loaded.slice(-third).map(pick));
    return `${first.toFixed(0)} -> ${last.toFixed(0)} MiB`;
  };
  console.log(
    `\nrouter RSS, first third -> last third: ${trend((s) => s.router)}`,
  );
  for (let w = 0; w < 4; w++) {
    console.log(
      `worker ${w} RSS, first third -> last third: ${
        trend((s) => s.workers[w])
      }`,
    );
  }
  console.log(
    `searches: ${latencies.length}, p50 ${
      percentile(latencies, 0.5).toFixed(1)
    } ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms`,
  );
  console.log(
    `requests: ${sent} sent, ${answered} answered (${errors} errors${
      errorCodes.size > 0
        ? `: ${[...errorCodes].map(([c, n]) => `${c} ${n}`).join(", ")}`
        : ""
    }), lost ${lost}`,
  );
  console.log(
    `worker kills: ${kills}; hostile connections: ${hostileRounds}; router exit ${status.code}`,
  );
  if (lost > 0) Deno.exit(1);
}

if (import.meta.main) await main();
