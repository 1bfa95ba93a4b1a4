/**
 * The scan worker's bindings: the embedded SQLite ledger, the git blob
 * source and the local scan loop, plus everything of `../mod.ts`.
 *
 * @example
 * ```ts
 * import { openSqliteLedger } from "./mod.ts";
 * const ledger = await openSqliteLedger(":memory:");
 * await ledger.close();
 * ```
 *
 * @module
 */

export * from "../mod.ts";
export * from "./sqlite_store.ts";
export * from "./git_source.ts";
export * from "./scan_runner.ts";
export * from "./etcd_client.ts";
export * from "./etcd_coordinator.ts";
export {
  openPostgresLedger,
  type PgConnectOptions,
  type PostgresLedgerOptions,
} from "./postgres_store.ts";
export * from "./connector.ts";
