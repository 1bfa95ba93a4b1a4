/**
 * The `seed` and `join` commands as real processes: bad inputs (exit code
 * and one line, no stack trace) and a cluster of 4 separate joiner
 * processes plus a seed process.
 */

import assert from "node:assert/strict";
import { formatToken } from "../lib/seed/auth.ts";
import { generateToken } from "../lib/seed/runtime/token.ts";

const MAIN = new URL("./main.ts", import.meta.url).pathname;
const PERMS = ["--allow-read", "--allow-write", "--allow-net", "--allow-env"];

async function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...PERMS, MAIN, ...args],
    env: { LOOM_LOG: "error", LOOM_CLUSTER_TOKEN: "", ...env },
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

Deno.test("seed/join CLI: bad inputs give exit 1 and a one-line error, no stack trace", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const open = `${dir}/open-token`;
    await Deno.writeTextFile(open, formatToken(generateToken()), {
      mode: 0o644,
    });
    await Deno.chmod(open, 0o644);
    const garbled = `${dir}/garbled`;
    await Deno.writeTextFile(garbled, "not a token", { mode: 0o600 });
    const cases: [string[], RegExp][] = [
      [["seed"], /--world-size is required/],
      [
        ["seed", "--world-size", "0", "--listen", "127.0.0.1:0"],
        /positive integer/,
      ],
      [
        ["seed", "--world-size", "two", "--listen", "127.0.0.1:0"],
        /positive integer/,
      ],
      [[
        "seed",
        "--world-size",
        "3",
        "--max-world-size",
        "2",
        "--listen",
        "127.0.0.1:0",
      ], /at least --world-size/],
      [["seed", "--world-size", "1"], /--listen is required/],
      [
        ["seed", "--world-size", "1", "--listen", "nonsense"],
        /bad listen address/,
      ],
      [[
        "seed",
        "--world-size",
        "1",
        "--listen",
        "0.0.0.0:0",
        "--insecure-no-token",
      ], /loopback/],
      [[
        "seed",
        "--world-size",
        "1",
        "--listen",
        "127.0.0.1:0",
        "--token-file",
        open,
      ], /chmod 600/],
      [[
        "seed",
        "--world-size",
        "1",
        "--listen",
        "127.0.0.1:0",
        "--token-file",
        garbled,
      ], /token starts with/],
      [["seed", "--bogus"], /unknown flag --bogus/],
      [[
        "seed",
        "--world-size",
        "1",
        "--listen",
        "127.0.0.1:0",
        "--heartbeat-timeout",
        "-5",
      ], /milliseconds/],
      [["join"], /--seed is required/],
      [["join", "--seed", "127.0.0.1:1"], /--listen is required/],
      [
        ["join", "--seed", "127.0.0.1:1", "--listen", "127.0.0.1:0"],
        /a token is required/,
      ],
      [[
        "join",
        "--seed",
        "127.0.0.1:1",
        "--listen",
        "127.0.0.1:0",
        "--token-file",
        `${dir}/missing`,
      ], /cannot read token file/],
      [[
        "join",
        "--seed",
        "nowhere",
        "--listen",
        "127.0.0.1:0",
        "--token-file",
        garbled,
      ], /token starts with/],
      [[
        "join",
        "--seed",
        "10.1.2.3:1",
        "--listen",
        "127.0.0.1:0",
        "--insecure-no-token",
      ], /loopback/],
      [[
        "join",
        "--seed",
        "127.0.0.1:1",
        "--listen",
        "0.0.0.0:0",
        "--insecure-no-token",
      ], /advertised address/],
      [[
        "join",
        "--seed",
        "127.0.0.1:1",
        "--listen",
        "127.0.0.1:0",
        "--insecure-no-token",
        "--node-id",
        "Bad/Id",
      ], /bad node id/],
      [["join", "x"], /unexpected argument/],
    ];
    for (const [args, pattern] of cases) {
      const r = await run(args);
      const label = args.join(" ");
      assert.equal(r.code, 1, `${label}: ${r.stderr}`);
      assert.match(r.stderr.split("\n")[0], pattern, label);
      assert.ok(r.stderr.startsWith("error: "), label);
      assert.ok(!/\n\s+at /.test(r.stderr), `${label}: no stack trace`);
    }
    for (const cmd of ["seed", "join"]) {
      const h = await run([cmd, "--help"]);
      assert.equal(h.code, 0);
      assert.ok(h.stdout.startsWith(`usage: ${cmd}`));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("seed CLI: formation timeout exits 2 with a one-line error", async () => {
  const r = await run([
    "seed",
    "--world-size",
    "2",
    "--listen",
    "127.0.0.1:0",
    "--formation-timeout",
    "300",
  ]);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /^error: cluster formation timed out: 0\/2 joined \[formation_timeout\]/,
  );
  assert.match(
    r.stdout,
    /^token: loomtok1\./m,
    "a generated token is printed once",
  );
  assert.equal(r.stdout.match(/loomtok1\./g)?.length, 1);
});

Deno.test({
  name:
    "process-level: a seed process and 4 separate join processes form a cluster",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const children: Deno.ChildProcess[] = [];
    try {
      const tokenFile = `${dir}/token`;
      const spawn = (
        args: string[],
      ): {
        child: Deno.ChildProcess;
        lines: string[];
        until: (re: RegExp, ms?: number) => Promise<string>;
      } => {
        const child = new Deno.Command(Deno.execPath(), {
          args: ["run", "--quiet", ...PERMS, MAIN, ...args],
          env: { LOOM_LOG: "error", LOOM_CLUSTER_TOKEN: "" },
          stdin: "null",
          stdout: "piped",
          stderr: "null",
        }).spawn();
        children.push(child);
        const lines: string[] = [];
        const waiters: (() => void)[] = [];
        (async () => {
          let buf = "";
          for await (
            const chunk of child.stdout.pipeThrough(new TextDecoderStream())
          ) {
            buf += chunk;
            const parts = buf.split("\n");
            buf = parts.pop()!;
            lines.push(...parts);
            for (const w of waiters.splice(0)) w();
          }
        })();
        const until = async (re: RegExp, ms = 30_000): Promise<string> => {
          const deadline = Date.now() + ms;
          for (;;) {
            const hit = lines.find((l) => re.test(l));
            if (hit !== undefined) return hit;
            if (Date.now() > deadline) {
              throw new Error(`no line ${re} in ${lines.join(" | ")}`);
            }
            await new Promise<void>((r) => {
              waiters.push(r);
              setTimeout(r, 200);
            });
          }
        };
        return { child, lines, until };
      };
      const seed = spawn([
        "seed",
        "--world-size",
        "4",
        "--listen",
        "127.0.0.1:0",
        "--token-file",
        tokenFile,
        "--heartbeat-timeout",
        "1500",
        "--heartbeat-interval",
        "200",
      ]);
      const listening = await seed.until(/^seed listening on /);
      const addr = listening.split(" ")[3];
      const joins = [0, 1, 2, 3].map(() =>
        spawn([
          "join",
          "--seed",
          addr,
          "--token-file",
          tokenFile,
          "--listen",
          "127.0.0.1:0",
          "--heartbeat-timeout",
          "1500",
          "--heartbeat-interval",
          "200",
        ])
      );
      await seed.until(/^formed generation \d+ world 4$/);
      const joined = await Promise.all(
        joins.map((j) => j.until(/^joined cluster /)),
      );
      const ranks = joined.map((l) => Number(/ rank (\d+) /.exec(l)![1]))
        .sort();
      assert.deepEqual(ranks, [0, 1, 2, 3]);
      for (const l of joined) assert.match(l, / world 4 generation \d+ /);
      await Promise.all(joins.map((j) => j.until(/^mesh ready/)));
      // Kill one process: survivors see it and are renumbered to world 3.
      joins[0].child.kill("SIGKILL");
      await seed.until(/^changed generation \d+ world 3 failed /);
      await Promise.all(joins.slice(1).map((j) => j.until(/ world 3/)));
      for (const c of children) {
        try {
          c.kill("SIGTERM");
        } catch {
          // already gone
        }
      }
      const codes = await Promise.all(children.map((c) => c.status));
      assert.equal(codes[0].code, 0, "seed stops cleanly");
    } finally {
      for (const c of children) {
        try {
          c.kill("SIGKILL");
        } catch {
          // already gone
        }
      }
      await Promise.all(children.map((c) => c.status.catch(() => {})));
      await Deno.remove(dir, { recursive: true });
    }
  },
});
