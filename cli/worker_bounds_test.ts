/**
 * Bounded worker memory against a hostile router (a hand-driven router
 * session on a raw unix socket, the real worker process):
 *
 * - a router that sends requests and never reads the answers cannot grow
 *   the worker's outbound queue past its limit (backpressure);
 * - an answer larger than `max_packet_len` fails as a typed `too_large`
 *   error once the encoder reaches the limit, not after building it whole.
 *
 * Memory is sampled with `ps` (Linux only).
 */

import assert from "node:assert/strict";
import {
  createRouterSession,
  type RouterSession,
} from "../lib/wire/session.ts";
import type { FileText, Request, RpcResult } from "../lib/wire/types.ts";

const MAIN = new URL("./main.ts", import.meta.url).pathname;
const MiB = 1024 * 1024;
const linux = Deno.build.os === "linux";

interface RawRouter extends AsyncDisposable {
  session: RouterSession;
  conn: Deno.Conn;
  pid: number;
  /** Reads until `id`'s answer arrives. */
  answer(id: number | bigint): Promise<RpcResult>;
  send(request: Request): Promise<number | bigint>;
}

async function rawRouter(): Promise<RawRouter> {
  const dir = await Deno.makeTempDir({ prefix: "loom-bounds-" });
  const path = `${dir}/r.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      MAIN,
      "worker",
      "--connect",
      `unix:${path}`,
      "--shard-id",
      "0",
      "--cache-dir",
      `${dir}/cache`,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
    env: { LOOM_LOG: "error" },
  }).spawn();
  const conn = await listener.accept();
  listener.close();
  const session = createRouterSession();
  // The session's clock starts at 0 (its handshake deadline is 5 s).
  const t0 = performance.now();
  const buf = new Uint8Array(1 << 16);
  const pump = async (): Promise<void> => {
    for (let out; (out = session.pollTransmit()) !== undefined;) {
      for (let at = 0; at < out.length;) {
        at += await conn.write(out.subarray(at));
      }
    }
  };
  const answers = new Map<string, RpcResult>();
  const readEvents = async (): Promise<void> => {
    const n = await conn.read(buf);
    assert.ok(n !== null, "worker closed the connection");
    session.receive(buf.subarray(0, n), performance.now() - t0);
    for (let e; (e = session.pollEvent()) !== undefined;) {
      if (e.type === "admission") session.admit({ worker_id: 1 });
      if (e.type === "response") answers.set(String(e.id), e.result);
    }
    await pump();
  };
  while (session.state !== "open") await readEvents();
  return {
    session,
    conn,
    pid: child.pid,
    async answer(id) {
      while (!answers.has(String(id))) await readEvents();
      return answers.get(String(id))!;
    },
    async send(request) {
      const id = session.call(request);
      await pump();
      return id;
    },
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch {
        // gone
      }
      await child.status;
      try {
        conn.close();
      } catch {
        // closed
      }
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Resident memory of a process in bytes (`ps`, no /proc access needed). */
async function rssOf(pid: number): Promise<number> {
  const out = await new Deno.Command("ps", {
    args: ["-o", "rss=", "-p", String(pid)],
    stdout: "piped",
    stderr: "null",
  }).output();
  return Number(new TextDecoder().decode(out.stdout).trim()) * 1024;
}

/** Samples `pid`'s RSS every 100 ms until `work` settles; the peak. */
async function peakRssDuring<T>(
  pid: number,
  work: Promise<T>,
): Promise<{ value: T; peak: number }> {
  let done = false;
  let peak = 0;
  const sampling = (async () => {
    while (!done) {
      peak = Math.max(peak, await rssOf(pid));
      await sleep(100);
    }
  })();
  try {
    return { value: await work, peak };
  } finally {
    done = true;
    await sampling;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

Deno.test({
  name:
    "worker: a router that never reads answers cannot grow the worker past its outbound limit",
  ignore: !linux,
  async fn() {
    await using r = await rawRouter();
    // One shard of 60k symbols: every UpdateFile answer carries all of
    // them (about 3 MB uncompressed; no zstd is negotiated).
    const files: FileText[] = [];
    for (let f = 0; f < 60; f++) {
      let text = "";
      for (let c = 0; c < 1000; c++) text += `class C${f}x${c} {}\n`;
      files.push({ path: `/w/pkg/F${f}.java`, text });
    }
    const first = await r.answer(
      await r.send({ type: "index_shard", revision: 1, files }),
    );
    assert.equal(first.status, "ok");
    await sleep(500);
    const base = await rssOf(r.pid);
    // 100 tiny updates; not one answer is read from here on.
    for (let i = 0; i < 100; i++) {
      await r.send({
        type: "update_file",
        revision: 2 + i,
        file: { path: "/w/pkg/F0.java", text: `class U${i} {}\n` },
      });
    }
    const { peak } = await peakRssDuring(r.pid, sleep(6000));
    // Unbounded, 100 answers of ~3 MB each would add ~300 MB.
    const grown = peak - base;
    assert.ok(
      grown < 120 * MiB,
      `worker RSS grew by ${(grown / MiB).toFixed(0)} MiB`,
    );
  },
});

Deno.test({
  name:
    "worker: an answer over max_packet_len is a typed too_large error, built only up to the limit",
  ignore: !linux,
  async fn() {
    await using r = await rawRouter();
    // One file, a 16 000-byte path, 40 000 classes: the ShardIndex answer
    // would be ~640 MB (the path repeats per symbol).
    const path = `/w/${"p".repeat(15_990)}.java`;
    let text = "";
    for (let c = 0; c < 40_000; c++) text += `class C${c}{}\n`;
    const started = performance.now();
    const id = await r.send({
      type: "index_shard",
      revision: 1,
      files: [{ path, text }],
    });
    const { value: result, peak } = await peakRssDuring(r.pid, r.answer(id));
    const ms = performance.now() - started;
    assert.equal(result.status, "err");
    if (result.status !== "err") return;
    assert.equal(result.error.code, "too_large");
    const details = JSON.parse(result.error.details!);
    assert.equal(details.limit, "max_packet_len");
    assert.equal(details.max, 64 * MiB);
    assert.ok(details.actual > details.max);
    assert.ok(peak < 500 * MiB, `peak RSS ${(peak / MiB).toFixed(0)} MiB`);
    assert.ok(ms < 30_000, `answered after ${ms.toFixed(0)} ms`);
    // The worker still serves.
    const stats = await r.answer(await r.send({ type: "get_worker_stats" }));
    assert.equal(stats.status, "ok");
  },
});
