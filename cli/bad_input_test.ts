// Every CLI fed bad input: the exit status and exactly one line on stderr,
// never a stack trace. Commands run as `deno task` runs them: the process's
// directory is the checkout, the user's directory is INIT_CWD.
import assert from "node:assert/strict";
import { tempWorkspace } from "../lib/net/router_test_util.ts";

const here = (rel: string): string =>
  decodeURIComponent(new URL(rel, import.meta.url).pathname);
const checkout = here("..");

interface Row {
  /** The script under cli/ and its arguments. */
  script: "main.ts" | "vectors.ts" | "conformance.ts";
  args: string[];
  code: number;
  message: RegExp;
}

const search = (...args: string[]): Row["args"] => ["search", ...args];
const serve = (...args: string[]): Row["args"] => ["router", "serve", ...args];

const ROWS: Row[] = [
  // loom itself
  {
    script: "main.ts",
    args: ["nope"],
    code: 2,
    message: /^loom: unknown subcommand "nope"/,
  },
  // search
  {
    script: "main.ts",
    args: search(),
    code: 2,
    message: /^search: need at least one --root and exactly one QUERY/,
  },
  {
    script: "main.ts",
    args: search("--root", "ok"),
    code: 2,
    message: /^search: need at least one --root and exactly one QUERY/,
  },
  {
    script: "main.ts",
    args: search("--root", "nope", "X"),
    code: 2,
    message: /^search: root nope: no such directory/,
  },
  {
    script: "main.ts",
    args: search("--root", "file.txt", "X"),
    code: 2,
    message: /^search: root file.txt: not a directory/,
  },
  {
    script: "main.ts",
    args: search("--root", "ok", "--root", "ok/", "X"),
    code: 2,
    message: /^search: root ok\/ is the same directory as root ok$/,
  },
  {
    script: "main.ts",
    args: search("--root", "ok", "--root", "./sub/../ok", "X"),
    code: 2,
    message: /same directory as root ok$/,
  },
  {
    script: "main.ts",
    args: search("--root", "ok", "--root", "link", "X"),
    code: 2,
    message: /^search: root link is the same directory as root ok$/,
  },
  {
    script: "main.ts",
    args: search("--root", "", "X"),
    code: 2,
    message: /^search: empty --root/,
  },
  {
    script: "main.ts",
    args: search("--root", "ok", "--workers", "0", "X"),
    code: 2,
    message: /--workers must be a positive integer/,
  },
  {
    script: "main.ts",
    args: search("--root", "ok", "--workers", "x", "X"),
    code: 2,
    message: /--workers must be a positive integer/,
  },
  {
    script: "main.ts",
    args: search("--root", "ok", "--limit", "-1", "X"),
    code: 2,
    message: /--limit must be a positive integer/,
  },
  {
    script: "main.ts",
    args: search("--root", "ok", "--bogus", "X"),
    code: 2,
    message: /^search: unknown flag --bogus/,
  },
  {
    script: "main.ts",
    args: search("--root", "ok", "--json=1", "X"),
    code: 2,
    message: /--json does not take a value/,
  },
  {
    script: "main.ts",
    args: search("--root", "ok", "--protocol", "2.9", "X"),
    code: 2,
    message: /--protocol must be 3.0 or 3.1/,
  },
  {
    script: "main.ts",
    args: search("--root", "ok", "--cache-dir", "file.txt", "X"),
    code: 2,
    message: /--cache-dir .*file.txt: not a directory/,
  },
  {
    script: "main.ts",
    args: search(
      "--root",
      "ok",
      "--worker-command",
      "/nonexistent/worker {connect}",
      "X",
    ),
    code: 1,
    message: /^search: worker for shard 0 failed to start/,
  },
  {
    script: "main.ts",
    args: search("--root", "ok", "--listen", "bogus:x", "X"),
    code: 1,
    message: /^search: .*"bogus"/,
  },
  {
    script: "main.ts",
    args: search(
      "--root",
      "ok",
      "--worker-command",
      "/bin/false {connect}",
      "X",
    ),
    code: 1,
    message:
      /^search: worker for shard 0 exited before connecting \(status 1\)$/,
  },
  // router serve
  {
    script: "main.ts",
    args: ["router"],
    code: 2,
    message: /^router: expected: router serve/,
  },
  {
    script: "main.ts",
    args: ["router", "start"],
    code: 2,
    message: /^router: unknown router command "start"/,
  },
  {
    script: "main.ts",
    args: serve(),
    code: 2,
    message: /^router: need --root/,
  },
  {
    script: "main.ts",
    args: serve("--root", "nope"),
    code: 2,
    message: /^router: root nope: no such directory/,
  },
  {
    script: "main.ts",
    args: serve("--root", "file.txt"),
    code: 2,
    message: /^router: root file.txt: not a directory/,
  },
  {
    script: "main.ts",
    args: serve("--root", "ok", "--root", "ok/"),
    code: 2,
    message: /^router: root ok\/ is the same directory as root ok$/,
  },
  {
    script: "main.ts",
    args: serve("--root", "ok", "--workers", "x"),
    code: 2,
    message: /--workers must be a positive integer/,
  },
  {
    script: "main.ts",
    args: serve("--root", "ok", "extra"),
    code: 2,
    message: /^router: unexpected argument extra/,
  },
  {
    script: "main.ts",
    args: serve("--root", "ok", "--protocol", "x"),
    code: 2,
    message: /--protocol must be 3.0 or 3.1/,
  },
  {
    script: "main.ts",
    args: serve("--root", "ok", "--auth-token-env", "LOOM_TEST_UNSET_VARIABLE"),
    code: 1,
    message:
      /^router: environment variable LOOM_TEST_UNSET_VARIABLE is empty or unset$/,
  },
  {
    script: "main.ts",
    args: serve("--root", "ok", "--listen", "bogus:1"),
    code: 1,
    message: /^router: .*"bogus"/,
  },
  {
    script: "main.ts",
    args: serve(
      "--root",
      "ok",
      "--listen",
      "tcp+tls:127.0.0.1:0",
      "--tls-cert",
      "nope.pem",
      "--tls-key",
      "nope.key",
    ),
    code: 1,
    message: /^router: .*nope/,
  },
  // worker
  {
    script: "main.ts",
    args: ["worker"],
    code: 1,
    message: /--connect is required/,
  },
  {
    script: "main.ts",
    args: ["worker", "--connect"],
    code: 1,
    message: /--connect requires value/,
  },
  {
    script: "main.ts",
    args: [
      "worker",
      "--connect",
      "bogus:x",
      "--shard-id",
      "0",
      "--cache-dir",
      "c",
    ],
    code: 1,
    message: /unsupported connect scheme "bogus"/,
  },
  {
    script: "main.ts",
    args: [
      "worker",
      "--connect",
      "unix:/tmp/x.sock",
      "--shard-id",
      "-1",
      "--cache-dir",
      "c",
    ],
    code: 1,
    message: /--shard-id/,
  },
  // conformance
  {
    script: "conformance.ts",
    args: ["--bogus"],
    code: 2,
    message: /^conformance: unknown argument: --bogus/,
  },
  {
    script: "conformance.ts",
    args: ["--transport", "carrier-pigeon"],
    code: 2,
    message: /^conformance: --transport/,
  },
  {
    script: "conformance.ts",
    args: ["--worker"],
    code: 2,
    message: /^conformance: --worker requires a value/,
  },
  {
    script: "conformance.ts",
    args: ["--worker", "w {nope}"],
    code: 2,
    message: /^conformance: bad --worker template/,
  },
  // demo
  {
    script: "main.ts",
    args: ["demo", "--bogus"],
    code: 1,
    message: /^demo: unknown flag --bogus$/,
  },
  // vectors
  {
    script: "vectors.ts",
    args: [],
    code: 2,
    message: /^usage: deno task vectors/,
  },
];

Deno.test("every CLI: bad input exits with a status and one line, no stack trace", async () => {
  await using ws = await tempWorkspace({
    "ok/p/A.java": "class A {}\n",
    "file.txt": "not a directory\n",
  });
  await Deno.mkdir(ws.path("sub"));
  await Deno.symlink(ws.path("ok"), ws.path("link"));
  for (const row of ROWS) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", here(`./${row.script}`), ...row.args],
      cwd: checkout,
      env: { INIT_CWD: ws.dir, LOOM_CACHE_DIR: ws.path("cache") },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    const label = `${row.script} ${JSON.stringify(row.args)}`;
    const stderr = new TextDecoder().decode(out.stderr);
    const lines = stderr.split("\n").filter((l) => l !== "");
    assert.equal(out.code, row.code, `${label}: exit ${out.code}\n${stderr}`);
    assert.equal(lines.length, 1, `${label}: ${lines.length} lines\n${stderr}`);
    assert.match(lines[0], row.message, label);
    assert.doesNotMatch(stderr, /^\s+at /m, label);
  }
});

Deno.test("search: relative roots resolve against INIT_CWD, not the process directory", async () => {
  await using ws = await tempWorkspace({
    "ok/p/Hello.java": "class Hello {}\n",
  });
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      here("./main.ts"),
      "search",
      "--root",
      "ok",
      "--cache-dir",
      "cache",
      "--no-progress",
      "Hello",
    ],
    cwd: checkout,
    env: { INIT_CWD: ws.dir },
    stdin: "null",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.equal(stdout, `${ws.path("ok/p/Hello.java")}:1:7  Hello\n`);
  // The cache directory was made where the user is, too.
  assert.ok((await Deno.stat(ws.path("cache"))).isDirectory);
});
