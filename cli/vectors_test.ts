import assert from "node:assert/strict";

const CLI = new URL("./vectors.ts", import.meta.url).pathname;

async function run(args: string[]): Promise<{ code: number; stdout: string }> {
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code, stdout: new TextDecoder().decode(stdout) };
}

Deno.test("vectors CLI: passes the bundled files and prints the summary line", async () => {
  const dir = new URL("../conformance/vectors/", import.meta.url).pathname;
  const { code, stdout } = await run([
    `${dir}v3_reference.jsonl`,
    `${dir}loom_additions.jsonl`,
  ]);
  assert.equal(code, 0, stdout);
  assert.match(stdout, /^vectors: \d+ passed, 0 failed$/m);
});

Deno.test("vectors CLI: an unseen file with failures prints one line each and exits 1", async () => {
  const path = await Deno.makeTempFile({ suffix: ".jsonl" });
  try {
    const lines = [
      {
        name: "ok",
        kind: "rpc_payload",
        expect: "accept",
        canonical: true,
        hex: "a164747970656663616e63656c",
        value: { type: "cancel" },
        note: "n",
      },
      {
        name: "bad_value",
        kind: "rpc_payload",
        expect: "accept",
        canonical: false,
        hex: "a164747970656663616e63656c",
        value: { type: "unknown" },
        note: "n",
      },
      {
        name: "bad_reject",
        kind: "wire_frame",
        expect: "reject",
        canonical: false,
        hex: "a1647479706567756e6b6e6f776e",
        note: "n",
      },
    ];
    await Deno.writeTextFile(
      path,
      lines.map((l) => JSON.stringify(l)).join("\n") + "\n",
    );
    const { code, stdout } = await run([path]);
    assert.equal(code, 1);
    const out = stdout.trim().split("\n");
    assert.equal(out.length, 3);
    assert.match(out[0], /^bad_value: /);
    assert.match(out[1], /^bad_reject: /);
    assert.equal(out[2], "vectors: 1 passed, 2 failed");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("vectors CLI: no arguments is a usage error", async () => {
  const { code } = await run([]);
  assert.equal(code, 2);
});
