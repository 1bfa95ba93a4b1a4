import assert from "node:assert/strict";

const DEMO = new URL("./demo_scan.ts", import.meta.url).pathname;

Deno.test("demo:scan: bad arguments exit 2 with one line and no stack trace", async () => {
  const table: [string[], string][] = [
    [
      ["--bogus"],
      "demo:scan: unknown argument '--bogus' (use --files=N, --keep)",
    ],
    [["--files=abc"], "demo:scan: --files must be an integer in 30..1000000"],
    [["--files=5"], "demo:scan: --files must be an integer in 30..1000000"],
    [
      ["--files=2000000"],
      "demo:scan: --files must be an integer in 30..1000000",
    ],
  ];
  for (const [args, line] of table) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", DEMO, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 2, args.join(" "));
    assert.equal(new TextDecoder().decode(out.stderr).trim(), line);
    assert.equal(new TextDecoder().decode(out.stdout), "");
  }
});
