/**
 * One timed local scan in its own process, for `bench/scan.ts`: runs the
 * scan, then prints one JSON line with the report's counts, the scan time
 * and the process's peak resident memory (`VmHWM`).
 *
 * Usage: `deno run -A bench/_scan_child.ts '<json args>'`.
 *
 * @module
 */

import process from "node:process";
import { defaultRuleSet } from "../lib/ledger/default_rules.ts";
import { CoordinationRecorder } from "../lib/ledger/recorder.ts";
import { openSqliteLedger } from "../lib/ledger/runtime/sqlite_store.ts";
import { runLocalScan } from "../lib/ledger/runtime/scan_runner.ts";

interface ChildArgs {
  source: "fs" | "git";
  path: string;
  stateDir: string;
  maxItems: number;
  maxBytes: number;
}

const args = JSON.parse(Deno.args[0]) as ChildArgs;
const quiet = (): void => {};
const ledger = await openSqliteLedger(`${args.stateDir}/ledger.sqlite3`);
const cpu0 = process.cpuUsage();
const started = performance.now();
const report = await runLocalScan({
  kind: "local",
  mode: "direct",
  source: args.source,
  path: args.path,
  budgets: { maxItems: args.maxItems, maxBytes: args.maxBytes },
  scan: {
    rulesFile: null,
    decodeDepth: null,
    scanBinary: false,
    skipArchives: false,
    anchorMode: "manual",
  },
  output: { format: "json", reveal: false, stateDir: args.stateDir },
}, {
  rules: defaultRuleSet(),
  ledger,
  secretKey: new Uint8Array(32).fill(7),
  recorder: new CoordinationRecorder({ emit: quiet }, quiet),
  fileVersionCache: ledger.fileVersionCache,
  gitListingCache: ledger.gitListingCache,
});
const ms = performance.now() - started;
const cpu = process.cpuUsage(cpu0);
await ledger.close();
const status = await Deno.readTextFile("/proc/self/status");
const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
console.log(JSON.stringify({
  ms,
  cpuMs: (cpu.user + cpu.system) / 1000,
  items: report.summary.itemsScanned,
  bytes: report.summary.bytesScanned,
  unchanged: report.summary.itemsUnchanged,
  findings: report.summary.findingsEmitted,
  previous: report.summary.findingsPreviouslyRecorded,
  stoppedBy: report.summary.stoppedBy,
  peakRss: hwm,
}));
