// SIGINT to the process group and SIGTERM to the router leave no private
// socket directory behind (the router's temp dir lives under TMPDIR).
import assert from "node:assert/strict";
import { tempWorkspace } from "../lib/net/router_test_util.ts";

const main = decodeURIComponent(new URL("./main.ts", import.meta.url).pathname);

async function leftovers(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.name.startsWith("loom-router-")) out.push(e.name);
  }
  return out;
}

/** Starts `router serve`, waits until its worker connected, signals it. */
async function interrupt(
  how: "SIGINT to the group" | "SIGTERM to the router",
): Promise<{ code: number; left: string[]; stderr: string }> {
  await using ws = await tempWorkspace({ "ok/A.java": "class A {}\n" });
  const tmp = ws.path("tmp");
  await Deno.mkdir(tmp);
  const args = [
    "run",
    "-A",
    "--quiet",
    main,
    "router",
    "serve",
    "--root",
    ws.path("ok"),
    "--cache-dir",
    ws.path("cache"),
    "--no-progress",
  ];
  // setsid: a process group of its own, as a shell job has.
  const child = new Deno.Command(
    how === "SIGINT to the group" ? "setsid" : Deno.execPath(),
    {
      args: how === "SIGINT to the group" ? [Deno.execPath(), ...args] : args,
      env: { TMPDIR: tmp },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    },
  ).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes('"initial-index"')) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += value;
  }
  assert.match(seen, /"event":"ready"/);
  assert.equal((await leftovers(tmp)).length, 1, "the router made its dir");
  if (how === "SIGINT to the group") Deno.kill(-child.pid, "SIGINT");
  else child.kill("SIGTERM");
  const drain = (async () => {
    for (;;) if ((await reader.read()).done) break;
  })();
  const [status, stderr] = await Promise.all([
    child.status,
    new Response(child.stderr).text(),
    drain,
  ]);
  await child.stdin.close().catch(() => {});
  return { code: status.code, left: await leftovers(tmp), stderr };
}

Deno.test("router serve: SIGTERM removes the socket directory and exits 143", async () => {
  const { code, left, stderr } = await interrupt("SIGTERM to the router");
  assert.deepEqual(left, [], stderr);
  assert.equal(code, 143, stderr);
  assert.doesNotMatch(stderr, /^\s+at /m);
});

Deno.test("router serve: SIGINT to the process group removes the socket directory and exits 130", async () => {
  const { code, left, stderr } = await interrupt("SIGINT to the group");
  assert.deepEqual(left, [], stderr);
  assert.equal(code, 130, stderr);
  assert.doesNotMatch(stderr, /^\s+at /m);
});
