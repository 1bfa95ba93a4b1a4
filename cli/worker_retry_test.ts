/**
 * A worker refused for capacity (the router closes the connection before
 * the handshake ends) retries with backoff over tcp: and gets in.
 */

import assert from "node:assert/strict";
import { listen } from "../lib/net/listen.ts";
import { createLogger } from "../lib/net/log.ts";

const MAIN = new URL("./main.ts", import.meta.url).pathname;

Deno.test("worker over tcp: retries with backoff after being closed for capacity", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loom-retry-" });
  const router = listen(`unix:${dir}/r.sock`, {
    logger: createLogger({ level: "error", write: () => {} }),
  });
  await router.ready;
  const front = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (front.addr as Deno.NetAddr).port;
  let refused = 0;
  const relays: Promise<unknown>[] = [];
  const proxy = (async () => {
    for await (const conn of front) {
      if (refused < 2) {
        // At capacity: closed before any handshake.
        refused++;
        conn.close();
        continue;
      }
      const back = await Deno.connect({
        transport: "unix",
        path: `${dir}/r.sock`,
      });
      relays.push(
        Promise.allSettled([
          conn.readable.pipeTo(back.writable),
          back.readable.pipeTo(conn.writable),
        ]),
      );
    }
  })();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      MAIN,
      "worker",
      "--connect",
      `tcp:127.0.0.1:${port}`,
      "--shard-id",
      "2",
      "--cache-dir",
      `${dir}/cache`,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env: { LOOM_LOG: "warn" },
  }).spawn();
  try {
    const conn = await router.accept();
    assert.equal(conn?.hello.shard_id, 2);
    assert.equal(refused, 2);
    await conn?.call({ type: "shutdown" });
    const out = await child.output();
    assert.equal(out.code, 0);
    const retries = new TextDecoder().decode(out.stderr).split("\n")
      .filter((l) => l.includes("retrying"));
    assert.equal(retries.length, 2);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // exited
    }
    front.close();
    await proxy.catch(() => {});
    await router.close();
    await Promise.allSettled(relays);
    await Deno.remove(dir, { recursive: true });
  }
});
