/**
 * One connector worker of `deno task demo:scan`: the `scan` command with a
 * short lease (3 s) and small shards, so a killed worker's shard is taken
 * over within seconds.
 *
 * @module
 */

import {
  executeConnectorMode,
  loadConnectorRules,
} from "../lib/ledger/runtime/connector.ts";
import { PROCESS_IO, runScan } from "./scan.ts";

if (import.meta.main) {
  Deno.exit(
    await runScan(Deno.args, PROCESS_IO, {
      connector: (config, io, log) =>
        executeConnectorMode(
          config,
          { log, loadRules: loadConnectorRules, stderr: (t) => io.stderr(t) },
          { leaseDurationMs: 3_000, itemsPerShard: 20, idleWaitMs: 100 },
        ),
    }),
  );
}
