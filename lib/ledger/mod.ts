/**
 * The scan worker's library: launch configuration, redaction digest and
 * telemetry recorder, secret rules and the scan engine, archives, reports,
 * and the store contract with its merges and migrations. All pure; the
 * SQLite backend, the git source and the local scan loop are in
 * `runtime/`.
 *
 * @example Scan bytes with the built-in rules
 * ```ts
 * import { defaultRuleSet, ScanEngine } from "./mod.ts";
 * const engine = new ScanEngine({ rules: defaultRuleSet(), anchorMode: "manual" });
 * const findings = engine.scan(new TextEncoder().encode("id = AKIAQYLPMN5HFIQR7XYZ"), "a.txt");
 * console.assert(findings[0].ruleId === "aws-access-key-id");
 * ```
 *
 * @module
 */

export * from "./errors.ts";
export * from "./config.ts";
export * from "./secret.ts";
export * from "./digest.ts";
export * from "./recorder.ts";
export * from "./rules.ts";
export * from "./default_rules.ts";
export * from "./anchors.ts";
export * from "./engine.ts";
export * from "./archive.ts";
export * from "./item_scan.ts";
export * from "./git_batch.ts";
export * from "./ids.ts";
export * from "./report.ts";
export * from "./store.ts";
export * from "./sqlite_schema.ts";
export * from "./etcd_codec.ts";
export * from "./etcd_keyspace.ts";
export * from "./etcd_lease.ts";
export * from "./postgres_schema.ts";
export * from "./connector_rows.ts";
