import assert from "node:assert/strict";
import {
  expandWorkerCommand,
  loomWorkerCommand,
  splitCommandLine,
} from "./worker_command.ts";
import { startRouter } from "./router.ts";

const vars = {
  connect: "unix:/r/x.sock",
  shard: 3,
  cacheDir: "/c d",
  tokenEnv: "TOK",
};

Deno.test("splitCommandLine() handles quotes and escapes", () => {
  assert.deepEqual(splitCommandLine(`a 'b c' "d \\"e\\"" f\\ g ''`), [
    "a",
    "b c",
    'd "e"',
    "f g",
    "",
  ]);
  assert.throws(() => splitCommandLine("a 'b"), TypeError);
  assert.throws(() => splitCommandLine('a "b'), TypeError);
  assert.throws(() => splitCommandLine("   "), TypeError);
});

Deno.test("expandWorkerCommand() substitutes placeholders inside words", () => {
  assert.deepEqual(
    expandWorkerCommand(
      "w --connect={connect} --shard-id {shard} --cache-dir {cache_dir} --auth-token-env {token_env} {{x}}",
      vars,
    ),
    [
      "w",
      "--connect=unix:/r/x.sock",
      "--shard-id",
      "3",
      "--cache-dir",
      "/c d",
      "--auth-token-env",
      "TOK",
      "{x}",
    ],
  );
});

Deno.test("expandWorkerCommand() appends the reference arguments without placeholders", () => {
  assert.deepEqual(expandWorkerCommand(["nova-worker"], vars), [
    "nova-worker",
    "--connect",
    "unix:/r/x.sock",
    "--shard-id",
    "3",
    "--cache-dir",
    "/c d",
    "--auth-token-env",
    "TOK",
  ]);
  const noToken = { ...vars, tokenEnv: undefined };
  assert.ok(!expandWorkerCommand("w", noToken).includes("--auth-token-env"));
  assert.deepEqual(
    expandWorkerCommand(
      "w --shard-id {shard} --auth-token-env {token_env}",
      noToken,
    ),
    ["w", "--shard-id", "3"],
  );
});

Deno.test("expandWorkerCommand() fills {ca_cert} only when a CA is configured", () => {
  assert.deepEqual(
    expandWorkerCommand("w --tls-ca-cert {ca_cert}", {
      ...vars,
      caCert: "/ca.pem",
    }),
    ["w", "--tls-ca-cert", "/ca.pem"],
  );
  assert.throws(
    () => expandWorkerCommand("w {ca_cert}", vars),
    /no CA certificate/,
  );
});

Deno.test("expandWorkerCommand() rejects unknown placeholders", () => {
  assert.throws(
    () => expandWorkerCommand("w {nope}", vars),
    /unknown placeholder \{nope\}/,
  );
});

Deno.test("loomWorkerCommand() runs the given worker without a token in argv", () => {
  const argv = expandWorkerCommand(
    loomWorkerCommand({
      main: new URL("file:///opt/loom/cli/main.ts"),
      config: "/opt/loom/deno.json",
    }),
    vars,
  );
  assert.equal(argv[0], Deno.execPath());
  assert.ok(argv.some((a) => a.endsWith("cli/main.ts")));
  assert.deepEqual(argv.slice(-9), [
    "worker",
    "--connect",
    "unix:/r/x.sock",
    "--shard-id",
    "3",
    "--cache-dir",
    "/c d",
    "--auth-token-env",
    "TOK",
  ]);
});

Deno.test("startRouter() refuses to spawn workers without a command or a program", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const spawnWorkers of [true, { cacheDir: `${dir}/cache` }]) {
      await assert.rejects(
        () =>
          startRouter({
            roots: [`${dir}/a`],
            listen: `unix:${dir}/router.sock`,
            spawnWorkers,
          }),
        (err: unknown) =>
          err instanceof TypeError && /worker `command`/.test(err.message),
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
