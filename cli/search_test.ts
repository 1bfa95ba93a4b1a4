import assert from "node:assert/strict";
import { parseFlags } from "./router_flags.ts";
import { planShards } from "./_shard_plan.ts";
import { tempWorkspace } from "../lib/net/router_test_util.ts";

const main = new URL("./main.ts", import.meta.url).pathname;

async function run(
  args: string[],
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", main, ...args],
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

Deno.test("parseFlags() takes --flag value, --flag=value, booleans and rejects unknown flags", () => {
  const f = parseFlags(["--root", "a", "--root=b", "--json", "--", "--q"], {
    values: ["root"],
    bools: ["json"],
  });
  assert.deepEqual(f.values.get("root"), ["a", "b"]);
  assert.ok(f.bools.has("json"));
  assert.deepEqual(f.positionals, ["--q"]);
  assert.throws(
    () => parseFlags(["--nope"], { values: [], bools: [] }),
    /unknown flag/,
  );
  assert.throws(
    () => parseFlags(["--root"], { values: ["root"], bools: [] }),
    /needs a value/,
  );
});

Deno.test("planShards() splits the largest root into subdirectories, at most N shards", async () => {
  await using ws = await tempWorkspace({
    "r/src/main/java/a/A.java": "class A {}",
    "r/src/main/java/b/B.java": "class B {}",
    "r/src/main/java/Top.java": "class Top {}",
  });
  assert.deepEqual(await planShards([ws.path("r")], 1), [ws.path("r")]);
  assert.deepEqual(await planShards([ws.path("r")], 2), [ws.path("r")]);
  assert.deepEqual(await planShards([ws.path("r")], 3), [
    ws.path("r"),
    ws.path("r/src/main/java/a"),
    ws.path("r/src/main/java/b"),
  ]);
});

Deno.test("search CLI: prints file:line:col, second run is warm from the cache", async () => {
  await using ws = await tempWorkspace({
    "a/src/FooBar.java": "package x;\npublic class FooBar {}\n",
    "b/src/Other.java": "class barfoo {}\n",
  });
  const args = [
    "search",
    "--root",
    ws.path("a/src"),
    "--root",
    ws.path("b/src"),
    "--cache-dir",
    ws.path("cache"),
    "foo",
  ];
  const first = await run(args);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(first.stdout.trim().split("\n"), [
    `${ws.path("a/src/FooBar.java")}:2:14  FooBar`,
    `${ws.path("b/src/Other.java")}:1:7  barfoo`,
  ]);
  assert.match(first.stderr, /0 shard\(s\) from cache, 2 indexed/);
  const second = await run(args);
  assert.equal(second.stdout, first.stdout);
  assert.match(second.stderr, /2 shard\(s\) from cache, 0 indexed/);
  // An edit on disk makes that shard stale again.
  await new Promise((r) => setTimeout(r, 20));
  await ws.write("b/src/Other.java", "class barfoo {}\nclass FooNew {}\n");
  const third = await run([...args.slice(0, -1), "--json", "FooNew"]);
  assert.match(third.stderr, /1 shard\(s\) from cache, 1 indexed/);
  assert.equal(JSON.parse(third.stdout.trim()).name, "FooNew");
  const usage = await run(["search"]);
  assert.equal(usage.code, 2);
});

Deno.test("router serve: JSON lines in, JSON lines out", async () => {
  await using ws = await tempWorkspace({ "a/A.java": "class Alpha {}\n" });
  const input = [
    { id: "x", method: "status" },
    { id: 1, method: "index" },
    {
      id: 2,
      method: "update",
      path: ws.path("a/B.java"),
      text: "class Beta {}",
    },
    { id: 3, method: "search", query: "bet", limit: 5 },
    { id: 4, method: "update", path: ws.path("a/notes.txt"), text: "" },
    { id: 5, method: "nope" },
    { id: 6, method: "shutdown" },
  ].map((l) => JSON.stringify(l)).join("\n") + "\n";
  const out = await run([
    "router",
    "serve",
    "--root",
    ws.path("a"),
    "--cache-dir",
    ws.path("cache"),
    "--no-index",
  ], input);
  assert.equal(out.code, 0, out.stderr);
  const lines = out.stdout.trim().split("\n").map((l) => JSON.parse(l));
  const byId = new Map(lines.filter((l) => "id" in l).map((l) => [l.id, l]));
  assert.equal(lines[0].event, "ready");
  assert.equal(byId.get(1).result.files, 1);
  assert.equal(byId.get(3).result[0].name, "Beta");
  assert.equal(byId.get(4).error.code, "invalid_request");
  assert.equal(byId.get(5).error.code, "invalid_request");
  assert.deepEqual(byId.get(6).result, { shutdown: true });
});

Deno.test("router serve --no-spawn: external mTLS workers, fingerprint allowlist", async () => {
  const { createTlsFixtures } = await import("../lib/net/tls_mint.ts");
  const { connect } = await import("../lib/net/connect.ts");
  const { createLogger } = await import("../lib/net/log.ts");
  await using tls = await createTlsFixtures();
  await using ws = await tempWorkspace({
    "a/A.java": "class RemoteAlpha {}\n",
  });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      main,
      "router",
      "serve",
      "--root",
      ws.path("a"),
      "--no-spawn",
      "--no-index",
      "--listen",
      "tcp+tls:127.0.0.1:0",
      "--tls-cert",
      tls.server.certPath,
      "--tls-key",
      tls.server.keyPath,
      "--tls-client-ca",
      tls.ca.certPath,
      "--allow-fingerprint",
      `0=${tls.client.fingerprint}`,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const nextLine = async (): Promise<Record<string, unknown>> => {
    while (!buffered.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("router exited");
      buffered += value;
    }
    const i = buffered.indexOf("\n");
    const line = buffered.slice(0, i);
    buffered = buffered.slice(i + 1);
    return JSON.parse(line);
  };
  const ready = await nextLine();
  assert.equal(ready.event, "ready");
  const worker = await connect(ready.address as string, {
    shardId: 0,
    logger: createLogger({ level: "error", write: () => {} }),
    tls: {
      caCerts: tls.ca.cert,
      serverName: "localhost",
      cert: tls.client.cert,
      key: tls.client.key,
    },
  });
  worker.setRequestHandler((req) =>
    req.type === "index_shard"
      ? {
        status: "ok",
        value: {
          type: "shard_index",
          body: {
            shard_id: 0,
            revision: req.revision,
            index_generation: 1,
            symbols: [{
              name: "RemoteAlpha",
              path: req.files[0].path,
              line: 0,
              column: 6,
            }],
          },
        },
      }
      : { status: "ok", value: { type: "shutdown" } }
  );
  const writer = child.stdin.getWriter();
  const send = (v: unknown) =>
    writer.write(new TextEncoder().encode(JSON.stringify(v) + "\n"));
  await send({ id: 1, method: "index" });
  await send({ id: 2, method: "search", query: "remote" });
  await send({ id: 3, method: "shutdown" });
  await writer.close();
  const answers = new Map<unknown, Record<string, unknown>>();
  while (answers.size < 3) {
    const line = await nextLine().catch(() => undefined);
    if (line === undefined) break;
    if ("id" in line) answers.set(line.id, line);
  }
  reader.releaseLock();
  await child.stdout.cancel().catch(() => {});
  assert.equal((await child.status).code, 0);
  assert.equal((answers.get(1)?.result as { files: number }).files, 1);
  assert.equal(
    (answers.get(2)?.result as { name: string }[])[0].name,
    "RemoteAlpha",
  );
  await worker.closed;
});
