/**
 * Secret-scan benchmark on a real corpus, side by side in one run:
 *
 * - **fs, cold**: the JDK sources (Debian's `openjdk-17-source`,
 *   `/usr/lib/jvm/openjdk-17/lib/src.zip`, unpacked to a temporary
 *   directory) scanned with the built-in rules and an empty done-ledger;
 * - **ripgrep**: `rg` over the same files with the same rule regexes as one
 *   alternation (multi-line, as the PEM rule needs; once with its default
 *   threads and once with `-j1`, since the scanner is single-threaded);
 * - **fs, rescan**: the unchanged tree again with the ledger of a cold run;
 * - **git**: a repository generated here with `git fast-import` (a few
 *   hundred commits of JDK files plus planted secrets, some deleted later,
 *   some on a branch, one base64-encoded), cold and rescanned; every
 *   planted secret must be found;
 * - **memory**: peak resident memory of the cold scan with budgets larger
 *   than the corpus and with the default budgets (64 MiB).
 *
 * Each scan runs in its own process (`bench/_scan_child.ts`). Figures are
 * medians of `--rounds` runs (default 3); ratios are of medians of the same
 * run.
 *
 * ```sh
 * deno task bench:scan [--rounds 3] [--src /usr/lib/jvm/openjdk-17/lib/src.zip] [--commits 300]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { unzipSync } from "fflate";
import { defaultRuleSet } from "../lib/ledger/default_rules.ts";
import { RULE_SAMPLES } from "../lib/testing/ledger_samples.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "3" },
    src: { type: "string", default: "/usr/lib/jvm/openjdk-17/lib/src.zip" },
    commits: { type: "string", default: "300" },
  },
});
const rounds = Number(values.rounds);
const commits = Number(values.commits);
if (
  !Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(commits) ||
  commits < 10
) {
  console.error("bench:scan: --rounds must be >= 1 and --commits >= 10");
  Deno.exit(2);
}

interface ChildResult {
  ms: number;
  cpuMs: number;
  items: number;
  bytes: number;
  unchanged: number;
  findings: number;
  previous: number;
  stoppedBy: string | null;
  peakRss: number;
}

const CHILD = new URL("./_scan_child.ts", import.meta.url).pathname;
const MIB = 1024 * 1024;

async function child(
  source: "fs" | "git",
  path: string,
  stateDir: string,
  maxBytes = 64 * 1024 * MIB,
): Promise<ChildResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      CHILD,
      JSON.stringify({
        source,
        path,
        stateDir,
        maxItems: 10_000_000,
        maxBytes,
      }),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `scan child failed: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return JSON.parse(
    new TextDecoder().decode(out.stdout).trim().split("\n").pop()!,
  );
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function rg(
  dir: string,
  pattern: string,
  threads: number | null,
): Promise<{ ms: number; cpuMs: number; matches: number }> {
  const args = [
    "-f",
    "%U %S",
    "rg",
    "--no-config",
    "-uuu",
    "-U",
    "--count-matches",
    "--no-messages",
    "--regex-size-limit=1G",
    "--dfa-size-limit=1G",
    ...(threads === null ? [] : [`-j${threads}`]),
    "-e",
    pattern,
    dir,
  ];
  const t0 = performance.now();
  // GNU time reports rg's CPU time (user + system) on its last stderr line.
  const out = await new Deno.Command("/usr/bin/time", {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - t0;
  const err = new TextDecoder().decode(out.stderr).trim().split("\n");
  if (out.code > 1) throw new Error(`rg failed: ${err.join(" ")}`);
  const [user, sys] = err[err.length - 1].split(" ").map(Number);
  const matches = new TextDecoder().decode(out.stdout).split("\n").filter((
    l,
  ) => l !== "")
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(":") + 1)), 0);
  return { ms, cpuMs: (user + sys) * 1000, matches };
}

async function unpack(
  zipPath: string,
  dir: string,
): Promise<{ files: string[]; bytes: number }> {
  const entries = unzipSync(await Deno.readFile(zipPath));
  const files: string[] = [];
  let bytes = 0;
  for (const [name, data] of Object.entries(entries)) {
    if (name.endsWith("/")) continue;
    const path = `${dir}/${name}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeFile(path, data);
    files.push(name);
    bytes += data.length;
  }
  files.sort();
  return { files, bytes };
}

/** Builds a repository with `git fast-import`; returns the planted secrets. */
async function makeRepo(
  dir: string,
  corpus: string,
  files: string[],
): Promise<string[]> {
  const git = async (args: string[], input?: Uint8Array) => {
    const p = new Deno.Command("git", {
      args: ["-C", dir, ...args],
      stdin: input === undefined ? "null" : "piped",
      stdout: "null",
      stderr: "piped",
      env: { GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" },
    }).spawn();
    const writing = (async () => {
      if (input === undefined) return;
      const w = p.stdin.getWriter();
      try {
        await w.write(input);
        await w.close();
      } catch {
        // The process failed early; its stderr says why.
      }
    })();
    const out = await p.output();
    await writing;
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  };
  await git(["init", "-q", "-b", "main"]);
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const push = (s: string | Uint8Array) =>
    parts.push(typeof s === "string" ? enc.encode(s) : s);
  const data = (bytes: Uint8Array) => {
    push(`data ${bytes.length}\n`);
    push(bytes);
    push("\n");
  };
  const planted: string[] = [];
  const perCommit = 10;
  const samples = RULE_SAMPLES;
  let mark = 0;
  let lastMain = 0;
  for (let c = 0; c < commits; c++) {
    const branch = c >= commits - 20 ? "refs/heads/feature" : "refs/heads/main";
    if (branch === "refs/heads/main") lastMain = mark + 1;
    push(`commit ${branch}\nmark :${++mark}\n`);
    push(
      `author Bench Author <bench${c % 7}@example.test> ${
        1700000000 + c * 60
      } +0000\n`,
    );
    push(
      `committer Bench Author <bench@example.test> ${
        1700000000 + c * 60
      } +0000\n`,
    );
    data(enc.encode(`commit ${c}\n`));
    if (c === commits - 20) push(`from :${lastMain}\n`);
    for (const name of files.slice(c * perCommit, (c + 1) * perCommit)) {
      push(`M 100644 inline jdk/${name}\n`);
      data(await Deno.readFile(`${corpus}/${name}`));
    }
    if (c % 25 === 5) {
      const s = samples[(c / 25 | 0) % samples.length];
      planted.push(s.secret);
      const text = c % 50 === 5
        ? `data: ${btoa(s.positive)}\n`
        : `${s.positive}\n`;
      push(`M 100644 inline secrets/s${c}.txt\n`);
      data(enc.encode(text));
    }
    if (c % 25 === 15) push(`D secrets/s${c - 10}.txt\n`);
  }
  push("done\n");
  const total = parts.reduce((n, p) => n + p.length, 0);
  const stream = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    stream.set(p, at);
    at += p.length;
  }
  await git(["fast-import", "--quiet", "--done"], stream);
  return planted;
}

const work = await Deno.makeTempDir({ prefix: "scan-bench-" });
try {
  console.log(`corpus: ${values.src}`);
  const corpus = `${work}/jdk`;
  const { files, bytes } = await unpack(values.src, corpus);
  console.log(
    `  ${files.length} files, ${(bytes / MIB).toFixed(1)} MiB unpacked`,
  );
  const alternation = defaultRuleSet().rules.filter((r) => r.regex !== null)
    .map((r) => `(?:${r.regexSource})`).join("|");

  const cold: ChildResult[] = [];
  const warm: ChildResult[] = [];
  const rgAll: { ms: number; cpuMs: number; matches: number }[] = [];
  const rg1: { ms: number; cpuMs: number; matches: number }[] = [];
  const state = `${work}/state-warm`;
  await Deno.mkdir(state);
  for (let r = 0; r < rounds; r++) {
    const fresh = `${work}/state-cold-${r}`;
    await Deno.mkdir(fresh);
    cold.push(await child("fs", corpus, fresh));
    rgAll.push(await rg(corpus, alternation, null));
    rg1.push(await rg(corpus, alternation, 1));
    await Deno.remove(fresh, { recursive: true });
  }
  await child("fs", corpus, state);
  for (let r = 0; r < rounds; r++) warm.push(await child("fs", corpus, state));

  const coldMs = median(cold.map((c) => c.ms));
  const warmMs = median(warm.map((c) => c.ms));
  const rgMs = median(rgAll.map((c) => c.ms));
  const rg1Ms = median(rg1.map((c) => c.ms));
  const mibS = (ms: number) => (bytes / MIB / (ms / 1000)).toFixed(1);
  console.log(
    `fs cold scan:      median ${coldMs.toFixed(0)} ms (${
      mibS(coldMs)
    } MiB/s), ${cold[0].items} items, ${cold[0].findings} findings`,
  );
  console.log(
    `rg (default -j):   median ${rgMs.toFixed(0)} ms (${mibS(rgMs)} MiB/s), ${
      rgAll[0].matches
    } matches`,
  );
  console.log(
    `rg -j1:            median ${rg1Ms.toFixed(0)} ms (${mibS(rg1Ms)} MiB/s)`,
  );
  console.log(
    `fs rescan:         median ${warmMs.toFixed(0)} ms, ${
      warm[0].unchanged
    } unchanged items, ${warm[0].items} rescanned`,
  );
  console.log(
    `ratio throughput scan/rg (default -j): ${
      (rgMs / coldMs).toFixed(2)
    }x   (goal >= 0.5x)`,
  );
  console.log(
    `ratio throughput scan/rg -j1:          ${(rg1Ms / coldMs).toFixed(2)}x`,
  );
  console.log(
    `ratio cold/rescan:                     ${
      (coldMs / warmMs).toFixed(1)
    }x   (goal >= 20x)`,
  );
  const cpu = (xs: { cpuMs: number }[]) => median(xs.map((x) => x.cpuMs));
  console.log(
    `CPU time (user+sys), medians: scan cold ${
      cpu(cold).toFixed(0)
    } ms, rescan ${cpu(warm).toFixed(0)} ms, rg ${
      cpu(rgAll).toFixed(0)
    } ms, rg -j1 ${cpu(rg1).toFixed(0)} ms`,
  );
  console.log(
    `ratio by CPU time: scan/rg ${
      (cpu(rgAll) / cpu(cold)).toFixed(2)
    }x, scan/rg -j1 ${(cpu(rg1) / cpu(cold)).toFixed(2)}x, cold/rescan ${
      (cpu(cold) / cpu(warm)).toFixed(1)
    }x`,
  );

  const budgeted = `${work}/state-budget`;
  await Deno.mkdir(budgeted);
  const small = await child("fs", corpus, budgeted, 64 * MIB);
  console.log(
    `memory: peak RSS ${
      (median(cold.map((c) => c.peakRss)) / MIB).toFixed(0)
    } MiB for the whole ${(bytes / MIB).toFixed(0)} MiB corpus; ` +
      `${
        (small.peakRss / MIB).toFixed(0)
      } MiB with the default 64 MiB budget (stopped by ${small.stoppedBy} after ${small.items} items)`,
  );

  const repo = `${work}/repo`;
  await Deno.mkdir(repo);
  const planted = await makeRepo(repo, corpus, files);
  const gitState = `${work}/state-git`;
  await Deno.mkdir(gitState);
  const gitCold = await child("git", repo, gitState);
  const gitWarm: ChildResult[] = [];
  for (let r = 0; r < rounds; r++) {
    gitWarm.push(await child("git", repo, gitState));
  }
  const gitWarmMs = median(gitWarm.map((c) => c.ms));
  console.log(
    `git: ${commits} commits, ${gitCold.items} unique blobs (${
      (gitCold.bytes / MIB).toFixed(1)
    } MiB), ${planted.length} planted secrets, ${gitCold.findings} findings`,
  );
  console.log(
    `git cold scan: ${gitCold.ms.toFixed(0)} ms; rescan median ${
      gitWarmMs.toFixed(0)
    } ms; ratio ${(gitCold.ms / gitWarmMs).toFixed(1)}x`,
  );
  if (gitCold.findings < planted.length) {
    console.error(
      `bench:scan: only ${gitCold.findings} of ${planted.length} planted secrets found`,
    );
    Deno.exitCode = 1;
  }
} finally {
  await Deno.remove(work, { recursive: true });
}
