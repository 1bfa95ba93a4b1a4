import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { gzipSync, zipSync } from "fflate";
import { RULE_SAMPLES, seeded } from "../lib/testing/ledger_samples.ts";
import { runScan, type ScanIo } from "./scan.ts";

const enc = new TextEncoder();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function scan(
  args: string[],
  env: Record<string, string> = {},
): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const io: ScanIo = {
    env: (k) => env[k],
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
  };
  const code = await runScan(args, io);
  return { code, stdout, stderr };
}

function sample(id: string): { positive: string; secret: string } {
  return RULE_SAMPLES.find((s) => s.ruleId === id)!;
}

/** Unique canary secrets: each rule's shape with a distinct body. */
const CANARY = {
  plain: "ghp_" +
    seeded(
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
      36,
      901,
    ),
  zipped: "AKIA" + seeded("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 902),
  b64: "sk_live_" +
    seeded(
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
      30,
      903,
    ),
  tgz: "glpat-" +
    seeded(
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
      20,
      904,
    ),
  gitOnly: "npm_" +
    seeded(
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
      36,
      905,
    ),
  branch: "AIza" +
    seeded(
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
      35,
      906,
    ),
};

function tar(name: string, text: string): Uint8Array {
  const data = enc.encode(text);
  const h = new Uint8Array(512);
  h.set(enc.encode(name), 0);
  h.set(enc.encode(data.length.toString(8).padStart(11, "0") + "\0"), 124);
  h[156] = 0x30;
  h.set(enc.encode("ustar\0" + "00"), 257);
  const out = new Uint8Array(512 + Math.ceil(data.length / 512) * 512 + 1024);
  out.set(h);
  out.set(data, 512);
  return out;
}

async function fixtureTree(dir: string): Promise<void> {
  await Deno.mkdir(`${dir}/src/deep`, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/src/config.env`,
    `# settings\nGITHUB_TOKEN=${CANARY.plain}\n`,
  );
  await Deno.writeFile(
    `${dir}/bundle.zip`,
    zipSync({
      "inner/creds.txt": enc.encode(`aws_access_key_id = ${CANARY.zipped}\n`),
    }),
  );
  await Deno.writeTextFile(
    `${dir}/src/deep/blob.yaml`,
    `data: ${btoa(`STRIPE_KEY=${CANARY.b64}`)}\n`,
  );
  await Deno.writeFile(
    `${dir}/backup.tar.gz`,
    gzipSync(tar("ci/.gitlab", `token ${CANARY.tgz}\n`)),
  );
  await Deno.writeTextFile(
    `${dir}/negatives.txt`,
    RULE_SAMPLES.map((s) => s.negative).join("\n") + "\n",
  );
  await Deno.writeFile(
    `${dir}/image.bin`,
    new Uint8Array([0, 1, 2, ...enc.encode(sample("jwt").positive)]),
  );
}

async function git(dir: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("git", {
    args: ["-C", dir, ...args],
    env: {
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_AUTHOR_NAME: "Ada Planter",
      GIT_AUTHOR_EMAIL: "ada@example.test",
      GIT_COMMITTER_NAME: "Ada Planter",
      GIT_COMMITTER_EMAIL: "ada@example.test",
      GIT_AUTHOR_DATE: "2024-01-02T03:04:05Z",
      GIT_COMMITTER_DATE: "2024-01-02T03:04:05Z",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
}

async function fixtureRepo(dir: string): Promise<void> {
  await git(dir, "init", "-q", "-b", "main");
  await Deno.writeTextFile(`${dir}/README.md`, "hello\n");
  await git(dir, "add", ".");
  await git(dir, "commit", "-q", "-m", "init");
  await Deno.writeTextFile(
    `${dir}/.npmrc`,
    `//registry.npmjs.org/:_authToken=${CANARY.gitOnly}\n`,
  );
  await git(dir, "add", ".");
  await git(dir, "commit", "-q", "-m", "add npmrc");
  await Deno.remove(`${dir}/.npmrc`);
  await git(dir, "commit", "-q", "-am", "remove npmrc");
  await git(dir, "checkout", "-q", "-b", "feature");
  await Deno.writeFile(
    `${dir}/keys.zip`,
    zipSync({ "k.txt": enc.encode(`key=${CANARY.branch}&x=1\n`) }),
  );
  await Deno.writeTextFile(
    `${dir}/neg.txt`,
    RULE_SAMPLES.map((s) => s.negative).join("\n"),
  );
  await git(dir, "add", ".");
  await git(dir, "commit", "-q", "-m", "feature work");
  await git(dir, "checkout", "-q", "main");
}

interface JsonFinding {
  rule_id: string;
  path: string;
  member: string | null;
  line: number;
  encodings: string[];
  secret: string;
  git: { commit: string; author: string; email: string } | null;
}

function parseJson(
  text: string,
): {
  summary: Record<string, unknown>;
  findings: JsonFinding[];
  recorded_findings: { rule_id: string; location: string; line: number }[];
} {
  return JSON.parse(text);
}

function rawSecrets(): string[] {
  return Object.values(CANARY);
}

function assertNoSecret(where: string, text: string): void {
  for (const s of rawSecrets()) {
    assert.ok(!text.includes(s), `${where} leaks ${s.slice(0, 6)}...`);
  }
}

function dumpDatabase(path: string): string {
  const db = new DatabaseSync(path);
  const tables = db.prepare(
    "SELECT name FROM sqlite_schema WHERE type = 'table'",
  ).all()
    .map((r) => String(r.name));
  let out = "";
  const dec = new TextDecoder("latin1");
  for (const t of tables) {
    for (const row of db.prepare(`SELECT * FROM ${t}`).all()) {
      for (const v of Object.values(row)) {
        out += (v instanceof Uint8Array ? dec.decode(v) : String(v)) + "\n";
      }
    }
  }
  db.close();
  return out;
}

Deno.test("scan fs: every planted secret, no false positives; rescan skips; canary", async () => {
  const dir = await Deno.makeTempDir();
  const state = await Deno.makeTempDir();
  try {
    await fixtureTree(dir);
    const args = [
      "--mode=direct",
      `--state-dir=${state}`,
      "--format=json",
      "fs",
      dir,
    ];
    const first = await scan(args);
    assert.equal(first.code, 0, first.stderr);
    const report = parseJson(first.stdout);
    const got = report.findings.map((f) =>
      `${f.rule_id} ${f.path}${f.member ? "!" + f.member : ""}:${f.line} ${
        f.encodings.join(",")
      }`
    ).sort();
    assert.deepEqual(got, [
      "aws-access-key-id bundle.zip!inner/creds.txt:1 ",
      "github-pat src/config.env:2 ",
      "gitlab-pat backup.tar.gz!ci/.gitlab:1 ",
      "stripe-secret-key src/deep/blob.yaml:1 base64",
    ]);
    assert.equal(report.summary.items_scanned, 6);
    assert.equal(report.summary.items_binary, 1);
    assert.ok(first.stderr.includes('"event":"scan completed"'));
    assert.ok(first.stderr.includes('"findings_emitted":4'));
    // Canary: nothing raw in output, logs or the database without --reveal.
    assertNoSecret("json", first.stdout);
    assertNoSecret("log", first.stderr);
    assertNoSecret("database", dumpDatabase(`${state}/ledger.sqlite3`));
    const sarif = await scan([
      "--mode=direct",
      `--state-dir=${await Deno.makeTempDir()}`,
      "--format=sarif",
      dir,
    ]);
    assert.equal(sarif.code, 0);
    assertNoSecret("sarif", sarif.stdout);
    const log = JSON.parse(sarif.stdout);
    assert.equal(log.version, "2.1.0");
    assert.equal(log.runs[0].results.length, 4);
    const human = await scan([
      "--mode=direct",
      `--state-dir=${await Deno.makeTempDir()}`,
      dir,
    ]);
    assertNoSecret("human", human.stdout);
    // --reveal shows them.
    const reveal = await scan([
      "--mode=direct",
      `--state-dir=${await Deno.makeTempDir()}`,
      "--reveal=true",
      "--format=json",
      dir,
    ]);
    assert.ok(
      reveal.stdout.includes(CANARY.plain) &&
        reveal.stdout.includes(CANARY.b64),
    );
    assertNoSecret("log with --reveal", reveal.stderr);

    // Unchanged tree: nothing rescanned.
    const secondRun = await scan(args);
    const second = parseJson(secondRun.stdout);
    assert.equal(second.summary.items_scanned, 0);
    assert.equal(second.summary.items_unchanged, 6);
    assert.equal(second.summary.findings_previously_recorded, 4);
    assert.deepEqual(
      second.recorded_findings.map((r) => `${r.rule_id} ${r.location}`).sort(),
      [
        "aws-access-key-id bundle.zip!inner/creds.txt:1:21",
        "github-pat src/config.env:2:14",
        "gitlab-pat backup.tar.gz!ci/.gitlab:1:7",
        "stripe-secret-key src/deep/blob.yaml:1:7",
      ],
    );
    assertNoSecret("rescan json", secondRun.stdout);
    // A changed file is rescanned; the rest is not.
    await Deno.writeTextFile(
      `${dir}/src/config.env`,
      `GITHUB_TOKEN=${CANARY.plain}\n# edited\n`,
    );
    const third = parseJson((await scan(args)).stdout);
    assert.equal(third.summary.items_scanned, 1);
    assert.deepEqual(third.findings.map((f) => f.line), [1]);
    assert.equal(third.recorded_findings.length, 3);
    // Changing the policy (anchor mode) rescans everything.
    const fourth = parseJson(
      (await scan([...args, "--anchor-mode=derived"])).stdout,
    );
    assert.equal(fourth.summary.items_scanned, 6);
    assert.equal(fourth.findings.length, 4);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(state, { recursive: true });
  }
});

Deno.test("scan fs: skip-archives, scan-binary, decode depth 0", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await fixtureTree(dir);
    const run = async (...extra: string[]) =>
      parseJson(
        (await scan([
          "--mode=direct",
          `--state-dir=${await Deno.makeTempDir()}`,
          "--format=json",
          ...extra,
          dir,
        ])).stdout,
      )
        .findings.map((f) => f.rule_id).sort();
    assert.deepEqual(await run("--skip-archives=true"), [
      "github-pat",
      "stripe-secret-key",
    ]);
    assert.deepEqual(await run("--decode-depth=0"), [
      "aws-access-key-id",
      "github-pat",
      "gitlab-pat",
    ]);
    assert.ok((await run("--scan-binary=yes")).includes("jwt"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scan fs: a state directory inside the tree is not scanned", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/a.txt`, `GITHUB_TOKEN=${CANARY.plain}\n`);
    const args = [
      "--mode=direct",
      `--state-dir=${dir}/state`,
      "--format=json",
      dir,
    ];
    await scan(args);
    const r = parseJson((await scan(args)).stdout);
    assert.equal(r.summary.items_unchanged, 1);
    assert.equal(r.summary.items_scanned, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scan fs: budgets stop cleanly with the counts reached", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await fixtureTree(dir);
    const r = parseJson(
      (await scan([
        "--mode=direct",
        `--state-dir=${await Deno.makeTempDir()}`,
        "--format=json",
        "--max-items=2",
        dir,
      ])).stdout,
    );
    assert.equal(r.summary.items_scanned, 2);
    assert.equal(r.summary.stopped_by, "max_items");
    const b = parseJson(
      (await scan([
        "--mode=direct",
        `--state-dir=${await Deno.makeTempDir()}`,
        "--format=json",
        "--max-bytes=100",
        dir,
      ])).stdout,
    );
    assert.equal(b.summary.stopped_by, "max_bytes");
    assert.ok((b.summary.bytes_scanned as number) <= 100);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scan git: every blob of every ref, first commit, author and path", async () => {
  const dir = await Deno.makeTempDir();
  const state = await Deno.makeTempDir();
  try {
    await fixtureRepo(dir);
    const args = [
      "--mode=direct",
      `--state-dir=${state}`,
      "--format=json",
      "git",
      dir,
    ];
    const first = await scan(args);
    assert.equal(first.code, 0, first.stderr);
    const report = parseJson(first.stdout);
    const got = report.findings.map((f) =>
      `${f.rule_id} ${f.path}${f.member ? "!" + f.member : ""} ${f.git?.author}`
    ).sort();
    assert.deepEqual(got, [
      "google-api-key keys.zip!k.txt Ada Planter",
      "npm-token .npmrc Ada Planter",
    ]);
    const npm = report.findings.find((f) => f.rule_id === "npm-token")!;
    const log = await new Deno.Command("git", {
      args: ["-C", dir, "log", "--all", "--format=%H %s"],
      stdout: "piped",
    }).output();
    const addCommit =
      new TextDecoder().decode(log.stdout).split("\n").find((l) =>
        l.endsWith(" add npmrc")
      )!.split(" ")[0];
    assert.equal(npm.git?.commit, addCommit);
    assertNoSecret("git json", first.stdout);
    assertNoSecret("git log", first.stderr);
    assertNoSecret("git database", dumpDatabase(`${state}/ledger.sqlite3`));
    const again = parseJson((await scan(args)).stdout);
    assert.equal(again.summary.items_scanned, 0);
    assert.equal(again.summary.findings_previously_recorded, 2);
    assert.deepEqual(
      again.recorded_findings.map((r) => r.rule_id).sort(),
      ["google-api-key", "npm-token"],
    );
    // A new commit changes the refs: the new blob is scanned, the rest skipped.
    const extra = "ghp_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2";
    await Deno.writeTextFile(`${dir}/late.txt`, `token=${extra}\n`);
    await git(dir, "add", ".");
    await git(dir, "commit", "-q", "-m", "late");
    const third = parseJson((await scan(args)).stdout);
    assert.equal(third.summary.items_scanned, 1);
    assert.deepEqual(third.findings.map((f) => f.rule_id), ["github-pat"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(state, { recursive: true });
  }
});

/** [args, env, exit code, first stderr line] */
const BAD_INPUTS: [string[], Record<string, string>, number, string][] = [
  [["--mode"], {}, 2, "scan: invalid flag '--mode'"],
  [["--nope=1"], {}, 2, "scan: unknown flag '--nope'"],
  [
    ["--mode=direct", "a", "b", "c"],
    {},
    2,
    "scan: too many positional arguments",
  ],
  [
    ["--mode=direct", "/definitely/missing"],
    {},
    2,
    "scan: invalid value for path: /definitely/missing (path does not exist)",
  ],
  [
    ["/tmp"],
    {},
    2,
    "scan: missing required value for etcd_endpoints (set --etcd-endpoints=... or GOSSIP_ETCD_ENDPOINTS=...)",
  ],
  [
    ["--mode=direct", "--backend=production", "/tmp"],
    {},
    2,
    "scan: backend=production requires connector mode; direct mode cannot use real distributed backends",
  ],
  [
    ["--mode=direct", "--max-items=0", "/tmp"],
    {},
    2,
    "scan: invalid value for max_items: 0 (must be > 0)",
  ],
  [
    ["/tmp"],
    { GOSSIP_WORKER_MODE: "direct", GOSSIP_WORKER_SCAN_BINARY: "perhaps" },
    2,
    "scan: invalid value for scan_binary: perhaps (expected a boolean (true/false, yes/no, on/off, 1/0))",
  ],
  [
    ["--mode=direct", "--rules-file=/definitely/missing.toml", "/tmp"],
    {},
    2,
    "scan: invalid value for rules_file: /definitely/missing.toml (path does not exist)",
  ],
  [
    [
      "--mode=direct",
      "--state-dir=/proc/nope",
      "/tmp/.loom-empty-dir-for-test",
    ],
    {},
    2,
    "scan: invalid value for path: /tmp/.loom-empty-dir-for-test (path does not exist)",
  ],
  [
    ["--mode=direct", "--state-dir=/proc/forbidden", "git", "/tmp"],
    {},
    1,
    "scan: scan failed: worker runtime failed:",
  ],
  [
    ["/tmp"],
    {
      GOSSIP_ETCD_ENDPOINTS: "http://127.0.0.1:1",
      GOSSIP_ETCD_NAMESPACE: "/x",
      GOSSIP_DONE_LEDGER_POSTGRES_DSN: "postgres://u:TOPSECRETPW@localhost/d",
      GOSSIP_FINDINGS_POSTGRES_DSN: "postgres://u:TOPSECRETPW@localhost/f",
      GOSSIP_TENANT_ID: "11".repeat(32),
      GOSSIP_RUN_ID: "1",
      GOSSIP_WORKER_ID: "1",
      GOSSIP_POLICY_HASH: "22".repeat(32),
      GOSSIP_TENANT_SECRET_KEY: "00".repeat(32),
    },
    2,
    "scan: invalid value for tenant_secret_key: [redacted] (must not be all zeros)",
  ],
];

for (const [args, env, code, line] of BAD_INPUTS) {
  Deno.test(`scan bad input: ${args.join(" ")} ${Object.keys(env).join(",")}`, async () => {
    const r = await scan(args, env);
    assert.equal(r.code, code, r.stderr);
    const human = r.stderr.split("\n").filter((l) => l.startsWith("scan: "));
    assert.ok(human[0].startsWith(line), human[0]);
    assert.ok(!r.stderr.includes("    at "), "stack trace");
    assert.ok(!r.stderr.includes("TOPSECRETPW"));
    assert.equal(r.stdout, "");
  });
}

Deno.test("scan rules file: unknown key is a config error naming file:line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/rules.toml`,
      `[[rules]]\nid = "a"\nregex = '''x'''\nflavour = "y"\n`,
    );
    const r = await scan([
      "--mode=direct",
      `--rules-file=${dir}/rules.toml`,
      dir,
    ]);
    assert.equal(r.code, 2);
    assert.ok(
      r.stderr.includes(
        `scan: ${dir}/rules.toml:4: unknown key 'flavour' in [[rules]]`,
      ),
      r.stderr,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scan: --help prints the usage and exits 0; usage errors print it on stderr", async () => {
  const help = await scan(["--help"]);
  assert.equal(help.code, 0);
  assert.ok(help.stdout.startsWith("usage: scan"));
  const bad = await scan(["--mode"]);
  assert.ok(bad.stderr.includes("usage: scan"));
});

Deno.test("scan: a valid connector launch without the distributed runtime exits 1", async () => {
  const r = await scan(["/tmp"], {
    GOSSIP_ETCD_ENDPOINTS: "http://127.0.0.1:1",
    GOSSIP_ETCD_NAMESPACE: "/x",
    GOSSIP_DONE_LEDGER_POSTGRES_DSN: "postgres://u:TOPSECRETPW@localhost/d",
    GOSSIP_FINDINGS_POSTGRES_DSN: "postgres://u:TOPSECRETPW@localhost/f",
    GOSSIP_TENANT_ID: "11".repeat(32),
    GOSSIP_RUN_ID: "1",
    GOSSIP_WORKER_ID: "1",
    GOSSIP_POLICY_HASH: "22".repeat(32),
    GOSSIP_TENANT_SECRET_KEY: "33".repeat(32),
  });
  assert.equal(r.code, 1);
  assert.ok(
    r.stderr.includes(
      "scan: scan failed: worker startup failed: connector mode is not available",
    ),
  );
  assert.ok(!r.stderr.includes("TOPSECRETPW"));
});

Deno.test("scan: process exit codes and one-line errors (subprocess)", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./scan.ts", import.meta.url).pathname,
      "--mode=direct",
      "--max-items=x",
      "/tmp",
    ],
    stdout: "piped",
    stderr: "piped",
    env: { LOOM_LOG: "error" },
  }).output();
  assert.equal(out.code, 2);
  const lines = new TextDecoder().decode(out.stderr).trim().split("\n");
  assert.deepEqual(lines.filter((l) => !l.startsWith("{")), [
    "scan: invalid value for max_items: x (invalid digit found in string)",
  ]);
});
