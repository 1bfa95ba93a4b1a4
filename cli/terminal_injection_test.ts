/**
 * Terminal injection: file names and peer messages with escape sequences
 * and newlines are printed escaped by every human-readable output (`--json`
 * keeps the exact text, JSON-escaped).
 */

import assert from "node:assert/strict";
import { formatAddress } from "../lib/net/address.ts";
import { listen } from "../lib/net/listen.ts";
import { createLogger } from "../lib/net/log.ts";
import { tempWorkspace } from "../lib/net/router_test_util.ts";

const main = new URL("./main.ts", import.meta.url).pathname;
const ESC = "\u001b";
const HOSTILE_NAME = `${ESC}]0;pwned\u0007${ESC}[2J\nFAKE_RESULT.java:9:9  X`;

async function loom(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", main, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

function assertNoControls(text: string, what: string): void {
  // Only the line feeds that end output lines.
  assert.ok(
    // deno-lint-ignore no-control-regex -- matching controls is the point
    !/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(text),
    `${what} carries control characters: ${JSON.stringify(text)}`,
  );
}

Deno.test("search: a file name with escape sequences and a newline is printed escaped on one line", async () => {
  await using ws = await tempWorkspace({});
  await ws.write(`a/${HOSTILE_NAME}.java`, "class Evil {}\n");
  await ws.write("a/Fine.java", "class EvilTwin {}\n");
  const base = ["search", "--no-progress", "--root", ws.path("a")];
  const text = await loom([...base, "--cache-dir", ws.path("c1"), "Evil"]);
  assert.equal(text.code, 0, text.stderr);
  assertNoControls(text.stdout, "stdout");
  assertNoControls(text.stderr, "stderr");
  const lines = text.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 2, text.stdout);
  assert.ok(!lines.some((l) => l.startsWith("FAKE_RESULT")));
  assert.ok(lines.some((l) => l.includes("\\x1b]0;pwned\\x07\\x1b[2J\\nFAKE")));
  const json = await loom([
    ...base,
    "--cache-dir",
    ws.path("c2"),
    "--json",
    "Evil",
  ]);
  const paths = json.stdout.trim().split("\n").map((l) => JSON.parse(l).path);
  assert.ok(paths.includes(ws.path(`a/${HOSTILE_NAME}.java`)));
});

Deno.test("worker: a router's Reject message is printed escaped on one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loom-inject-" });
  const listener = listen(`unix:${dir}/r.sock`, {
    logger: createLogger({ level: "error" }),
    admit: () => ({
      reject: {
        code: "unauthorized",
        message: `no${ESC}[2J${ESC}]0;owned\u0007\nFAKE: worker approved`,
      },
    }),
  });
  try {
    const address = formatAddress(await listener.ready);
    const out = await loom([
      "worker",
      "--connect",
      address,
      "--shard-id",
      "0",
      "--cache-dir",
      `${dir}/cache`,
    ]);
    assert.equal(out.code, 1, out.stderr);
    assertNoControls(out.stderr, "stderr");
    const lines = out.stderr.trimEnd().split("\n")
      .filter((l) => !l.startsWith("{"));
    assert.equal(lines.length, 1, out.stderr);
    assert.match(lines[0], /^error: v3 handshake failed: .*\\x1b\[2J/);
    assert.ok(!out.stderr.split("\n").some((l) => l.startsWith("FAKE")));
  } finally {
    await listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});
