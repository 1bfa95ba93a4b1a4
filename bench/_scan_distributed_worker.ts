/**
 * One connector worker of `bench/scan_distributed.ts`: runs to the end of
 * the run and prints, as one JSON line, its report and the commit latency
 * of every shard (from the end of its scan to its fenced `complete`).
 *
 * @module
 */

import { defaultRuleSet } from "../lib/ledger/default_rules.ts";
import { runConnectorScan } from "../lib/ledger/runtime/connector.ts";
import { connectorConfig } from "../lib/testing/runtime/connector_fixture.ts";

interface WorkerArgs {
  path: string;
  etcdEndpoint: string;
  namespace: string;
  dsn: string;
  runId: string;
  workerId: string;
  itemsPerShard: number;
}

if (import.meta.main) {
  const a = JSON.parse(Deno.args[0]) as WorkerArgs;
  const scannedAt = new Map<bigint, number>();
  const commitMs: number[] = [];
  const report = await runConnectorScan(
    connectorConfig({
      path: a.path,
      etcdEndpoint: a.etcdEndpoint,
      namespace: a.namespace,
      dsn: a.dsn,
      runId: BigInt(a.runId),
      workerId: BigInt(a.workerId),
    }),
    {
      rules: defaultRuleSet(),
      log: { info: () => undefined, warn: () => undefined },
      itemsPerShard: a.itemsPerShard,
      onStep: (step, shard) => {
        if (step === "scanned") scannedAt.set(shard, performance.now());
        if (step === "completed") {
          commitMs.push(
            performance.now() - (scannedAt.get(shard) ?? performance.now()),
          );
        }
      },
    },
  );
  console.log(JSON.stringify({
    shards: report.shardsScanned,
    items: report.itemsScanned,
    bytes: report.bytesScanned,
    findings: report.findingsEmitted,
    commitMs,
  }));
}
