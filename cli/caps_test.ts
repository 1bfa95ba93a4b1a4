/**
 * The `caps` command as a process: bad inputs (exit status and one line on
 * stderr, no stack trace), an embedded worker fed on stdin, and on a real
 * server a second process with the same instance id, clean shutdown, and
 * `submit --wait`.
 */

import assert from "node:assert/strict";
import { connectRedisBackend } from "../lib/caps/runtime/redis_backend.ts";
import {
  redisTestMode,
  startRedisServer,
} from "../lib/testing/redis_server.ts";

const MAIN = new URL("./main.ts", import.meta.url).pathname;
const QUIET = { LOOM_LOG: "error" };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function caps(args: string[], stdin?: string): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "-A", MAIN, "caps", ...args],
    env: QUIET,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

Deno.test("caps: bad inputs exit with a status and one line, no stack trace", async () => {
  const table: [string[], number, RegExp][] = [
    [["bogus"], 2, /^caps: unknown command "bogus"/],
    [["worker"], 2, /^caps worker: --caps is required/],
    [
      ["worker", "--caps", "gpu", "--bogus"],
      2,
      /^caps worker: Unknown option '--bogus'/,
    ],
    [
      ["worker", "--caps", "gpu", "extra"],
      2,
      /^caps worker: unexpected argument: extra/,
    ],
    [
      ["worker", "--caps", "gpu cuda"],
      2,
      /^caps worker: config: worker_config\.capabilities: capability token must not contain whitespace or control characters: "gpu cuda"$/,
    ],
    [
      ["worker", "--caps", "gpu,,cuda"],
      2,
      /capability token must not be empty/,
    ],
    [
      ["worker", "--caps", "gpu", "--lanes", ""],
      2,
      /^caps worker: config: worker_config: at least one lane is required/,
    ],
    [
      ["worker", "--caps", "gpu", "--lease-ttl-ms", "abc"],
      2,
      /--lease-ttl-ms must be a whole number/,
    ],
    [
      ["worker", "--caps", "gpu", "--concurrency", "0"],
      2,
      /--concurrency must be at least 1/,
    ],
    [
      ["worker", "--caps", "gpu", "--redis", "http://127.0.0.1:1"],
      2,
      /redis URL must start with redis:\/\//,
    ],
    [
      ["worker", "--caps", "gpu", "--redis", "redis://127.0.0.1:1"],
      1,
      /^caps worker: backend: connect: /,
    ],
    [["submit", "--requires", "gpu"], 2, /^caps submit: --redis is required/],
    [
      ["submit", "--redis", "redis://127.0.0.1:1", "--count", "0"],
      2,
      /--count must be at least 1/,
    ],
    [["list"], 2, /^caps list: --redis is required/],
    [["demo", "--bogus"], 2, /^caps demo: Unknown option '--bogus'/],
  ];
  const runs = await Promise.all(table.map(([args]) => caps(args)));
  table.forEach(([args, code, pattern], i) => {
    const run = runs[i];
    const label = args.join(" ");
    assert.equal(run.code, code, `${label}: ${run.stderr}`);
    const lines = run.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, `${label}: ${run.stderr}`);
    assert.match(lines[0], pattern, label);
    assert.doesNotMatch(run.stderr, /\n\s+at /, label);
  });
});

Deno.test("canary: a password in the redis URL never reaches the output", async () => {
  const url = "redis://user:canary-s3cret-7f@127.0.0.1:1";
  const runs = await Promise.all([
    caps(["worker", "--caps", "gpu", "--redis", url]),
    caps(["submit", "--requires", "gpu", "--redis", url]),
    caps(["list", "--redis", url]),
    caps(["demo", "--redis", url]),
  ]);
  for (const run of runs) {
    assert.equal(run.code, 1, run.stderr);
    assert.ok(!(run.stdout + run.stderr).includes("canary-s3cret"), run.stderr);
  }
});

Deno.test("caps worker on the embedded backend runs the jobs fed on stdin", async () => {
  const jobs = [
    { requires: ["gpu"], payload: "a" },
    { requires: [] },
    { requires: ["cuda", "gpu"] },
  ].map((j) => JSON.stringify(j)).join("\n") + "\n";
  const run = await caps([
    "worker",
    "--caps",
    "gpu,cuda",
    "--instance-id",
    "emb-1",
    "--poll-ms",
    "10",
    "--work-ms",
    "1",
    "--max-jobs",
    "3",
    "--stdin",
  ], jobs);
  assert.equal(run.code, 0, run.stderr);
  const events = run.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(events[0].event, "connected");
  assert.equal(events[0].caps, "cuda,gpu");
  assert.equal(events[0].caps_hash, "c952a6c4");
  assert.equal(events[0].backend, "embedded");
  assert.equal(events.filter((e) => e.event === "submitted").length, 3);
  assert.equal(events.filter((e) => e.event === "done").length, 3);
});

const mode = await redisTestMode();
Deno.test({
  name:
    "caps on a real server: duplicate instance process, clean shutdown, submit --wait",
  ignore: mode === "skip",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    if (mode === "fail") throw new Error("redis-server is missing and CI=true");
    const server = (await startRedisServer())!;
    const backend = await connectRedisBackend({ url: server.url });
    try {
      const first = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--quiet",
          "-A",
          MAIN,
          "caps",
          "worker",
          "--redis",
          server.url,
          "--caps",
          "gpu",
          "--instance-id",
          "dup-1",
          "--poll-ms",
          "20",
          "--work-ms",
          "1",
        ],
        env: QUIET,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const reader = first.stdout.pipeThrough(new TextDecoderStream())
        .getReader();
      let text = "";
      while (!text.includes('"connected"')) {
        const { value, done } = await reader.read();
        assert.ok(!done, "worker exited early");
        text += value;
      }
      const second = await caps([
        "worker",
        "--redis",
        server.url,
        "--caps",
        "gpu",
        "--instance-id",
        "dup-1",
      ]);
      assert.equal(second.code, 1);
      assert.equal(
        second.stderr,
        "caps worker: config: worker_connect.worker_instance_id: duplicate worker_instance_id 'dup-1': another process already holds ff:worker:default:dup-1:alive\n",
      );
      const submitted = await caps([
        "submit",
        "--redis",
        server.url,
        "--requires",
        "gpu",
        "--count",
        "3",
        "--wait",
        "--wait-ms",
        "10000",
      ]);
      assert.equal(submitted.code, 0, submitted.stderr);
      const done = submitted.stdout.trim().split("\n").map((l) => JSON.parse(l))
        .filter((e) => e.event === "success");
      assert.equal(done.length, 3);
      assert.ok(done.every((e) => e.worker_instance_id === "dup-1"));
      const listed = await caps(["list", "--redis", server.url]);
      assert.equal(JSON.parse(listed.stdout.trim()).workerInstanceId, "dup-1");
      first.kill("SIGTERM");
      await reader.cancel();
      assert.equal((await first.status).code, 0);
      await first.stderr.cancel();
      // clean shutdown released the alive key: the same id starts at once
      assert.equal(
        await backend.command(["EXISTS", "ff:worker:default:dup-1:alive"]),
        0,
      );
      assert.equal(
        await backend.command(["SISMEMBER", "ff:idx:default:workers", "dup-1"]),
        0,
      );
    } finally {
      await backend.close();
      await server.stop();
    }
  },
});
