import assert from "node:assert/strict";
import {
  MAX_OUTPUT_LINE_BYTES,
  OUTPUT_TRUNCATED_MARKER,
  type SupervisorEvent,
  WORKER_ENV_PASSTHROUGH,
  WorkerSupervisor,
} from "./supervisor.ts";
import { waitFor } from "./router_test_util.ts";

function supervisor(
  script: string,
  events: SupervisorEvent[],
  delays: number[] = [],
): WorkerSupervisor {
  return new WorkerSupervisor({
    shards: [0],
    command: ["sh", "-c", script, "worker"],
    connect: "unix:/nowhere.sock",
    cacheDir: "/nowhere",
    handshakeTimeoutMs: 5000,
    createBackoff: () => ({
      nextDelay: () => {
        const d = 20 * 2 ** delays.length;
        delays.push(d);
        return d;
      },
      reset() {},
    }),
    jitter: () => 0,
    onEvent: (e) => events.push(e),
  });
}

Deno.test("WorkerSupervisor relays output and cuts overlong lines", async () => {
  const events: SupervisorEvent[] = [];
  const sup = supervisor(
    `head -c 204800 /dev/zero | tr '\\0' a; echo; echo second >&2; sleep 5`,
    events,
  );
  sup.start();
  await waitFor(
    "output",
    () => events.filter((e) => e.type === "output").length >= 2,
  );
  await sup.stop(100);
  const out = events.flatMap((e) => e.type === "output" ? [e] : []);
  const long = out.find((e) => e.stream === "stdout")!;
  assert.ok(long.line.endsWith(OUTPUT_TRUNCATED_MARKER));
  assert.ok(
    long.line.length <=
      MAX_OUTPUT_LINE_BYTES + OUTPUT_TRUNCATED_MARKER.length + 2,
  );
  assert.equal(out.filter((e) => e.stream === "stdout").length, 1);
  assert.deepEqual(out.find((e) => e.stream === "stderr")?.line, "second");
});

Deno.test("WorkerSupervisor restarts with backoff and passes the token only by environment", async () => {
  const events: SupervisorEvent[] = [];
  const delays: number[] = [];
  const sup = supervisor(
    `echo "args:$*"; echo "env:\${LOOM_WORKER_AUTH_TOKEN:+set}"; exit 3`,
    events,
    delays,
  );
  sup.start();
  await waitFor(
    "three exits",
    () => events.filter((e) => e.type === "exited").length >= 3,
  );
  await sup.stop(100);
  const exits = events.flatMap((e) => e.type === "exited" ? [e] : []);
  assert.ok(exits.every((e) => e.code === 3 && e.beforeHandshake));
  assert.deepEqual(delays.slice(0, 2), [20, 40]);
  const lines = events.flatMap((e) => e.type === "output" ? [e.line] : []);
  const args = lines.find((l) => l.startsWith("args:"))!;
  assert.match(
    args,
    /--connect unix:\/nowhere.sock --shard-id 0 --cache-dir \/nowhere --auth-token-env LOOM_WORKER_AUTH_TOKEN/,
  );
  assert.ok(lines.includes("env:set"));
  assert.ok(sup.attempts(0) >= 3);
});

Deno.test("WorkerSupervisor kills a child that misses the handshake deadline", async () => {
  const events: SupervisorEvent[] = [];
  const sup = new WorkerSupervisor({
    shards: [0],
    command: ["sh", "-c", "exec sleep 30", "worker"],
    connect: "unix:/nowhere.sock",
    cacheDir: "/nowhere",
    handshakeTimeoutMs: 100,
    createBackoff: () => ({ nextDelay: () => 10_000, reset() {} }),
    onEvent: (e) => events.push(e),
  });
  sup.start();
  await waitFor("deadline", () => events.some((e) => e.type === "exited"));
  assert.ok(events.some((e) => e.type === "handshake_timeout"));
  const exit = events.find((e) => e.type === "exited");
  assert.equal(exit?.type === "exited" && exit.signal, "SIGKILL");
  await sup.stop(100);
});

Deno.test("WorkerSupervisor spawns children with a minimal environment, never the router's secrets", async () => {
  const secret = "LOOM_TEST_EXTERNAL_TOKEN";
  Deno.env.set(secret, "s3cr3t-canary");
  const events: SupervisorEvent[] = [];
  const sup = supervisor(`env; echo END; sleep 5`, events);
  try {
    sup.start();
    await waitFor(
      "env dump",
      () => events.some((e) => e.type === "output" && e.line === "END"),
    );
  } finally {
    await sup.stop(100);
    Deno.env.delete(secret);
  }
  const lines = events.flatMap((e) => e.type === "output" ? [e.line] : []);
  const names = lines.filter((l) => l.includes("=")).map((l) =>
    l.slice(0, l.indexOf("="))
  );
  assert.ok(!lines.some((l) => l.includes("s3cr3t-canary")));
  assert.ok(names.includes("LOOM_WORKER_AUTH_TOKEN"));
  assert.ok(names.includes("PATH"));
  for (const name of names) {
    assert.ok(
      name === "LOOM_WORKER_AUTH_TOKEN" || name === "PWD" || name === "SHLVL" ||
        name === "_" || WORKER_ENV_PASSTHROUGH.includes(name),
      `unexpected variable ${name}`,
    );
  }
});
