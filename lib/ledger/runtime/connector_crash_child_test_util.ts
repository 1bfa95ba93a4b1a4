/**
 * A connector worker for the fault-injection tests: it runs against the
 * servers named in its JSON argument and kills itself with SIGKILL right
 * after the given commit step happens for the given time.
 *
 * @module
 */

import { defaultRuleSet } from "../default_rules.ts";
import { connectorConfig } from "../../testing/runtime/connector_fixture.ts";
import { type ConnectorStep, runConnectorScan } from "./connector.ts";

interface ChildArgs {
  path: string;
  etcdEndpoint: string;
  namespace: string;
  dsn: string;
  runId: string;
  workerId: string;
  maxItems: number;
  itemsPerShard: number;
  leaseDurationMs: number;
  crashStep: ConnectorStep | null;
  crashAt: number;
}

if (import.meta.main) {
  const a = JSON.parse(Deno.args[0]) as ChildArgs;
  let seen = 0;
  await runConnectorScan(
    connectorConfig({
      path: a.path,
      etcdEndpoint: a.etcdEndpoint,
      namespace: a.namespace,
      dsn: a.dsn,
      runId: BigInt(a.runId),
      workerId: BigInt(a.workerId),
      maxItems: a.maxItems,
    }),
    {
      rules: defaultRuleSet(),
      log: { info: () => undefined, warn: () => undefined },
      itemsPerShard: a.itemsPerShard,
      leaseDurationMs: a.leaseDurationMs,
      idleWaitMs: 50,
      onStep: (step) => {
        if (step === a.crashStep && ++seen === a.crashAt) {
          Deno.kill(Deno.pid, "SIGKILL");
        }
      },
    },
  );
}
