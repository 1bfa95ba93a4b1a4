/**
 * The etcd keyspace of the distributed scan: fixed-width lowercase hex ids
 * (tenant 64 characters, run and shard 16) under a validated namespace prefix.
 *
 * | Key | Meaning |
 * |---|---|
 * | `{p}/tenants/{tenant}/runs/{run}` | run record |
 * | `{p}/tenants/{tenant}/runs/{run}/shards/{shard}` | shard record |
 * | `{p}/tenants/{tenant}/runs/{run}/shards/{shard}/owner` | owner binding (on an etcd lease) |
 * | `{p}/tenants/{tenant}/runs/{run}/shards_active/{shard}` | active-shard marker |
 * | `{p}/tenants/{tenant}/runs_active/{run}` | active-run marker |
 *
 * Scan prefixes end with `/`, so `runs/` never matches `runs_active/`; a root
 * prefix `/` gives `/tenants/...`, never `//tenants/...`.
 *
 * @module
 */

import { LedgerError } from "./errors.ts";

const U64_MAX = (1n << 64n) - 1n;

/**
 * Checks an etcd namespace prefix: it starts with `/`, has no trailing `/`
 * unless it is exactly `/`, and contains no `//`. Surrounding whitespace is
 * trimmed first.
 *
 * @param raw The configured namespace.
 * @returns The trimmed namespace.
 * @throws {LedgerError} `invalid_etcd_config` when a rule is broken.
 *
 * @example
 * ```ts
 * import { validateEtcdNamespace } from "./etcd_keyspace.ts";
 * console.assert(validateEtcdNamespace(" /gossip/v1 ") === "/gossip/v1");
 * ```
 */
export function validateEtcdNamespace(raw: string): string {
  const ns = raw.trim();
  const fail = (reason: string): never => {
    throw new LedgerError(
      "invalid_etcd_config",
      `invalid etcd worker configuration: namespace ${reason}`,
      { details: { field: "etcd_namespace" } },
    );
  };
  if (!ns.startsWith("/")) fail("must start with '/'");
  if (ns.length > 1 && ns.endsWith("/")) fail("must not end with '/'");
  if (ns.includes("//")) fail("must not contain '//'");
  return ns;
}

/**
 * Formats a 32-byte tenant id as 64 lowercase hex characters.
 *
 * @param tenant The tenant id.
 * @returns The fixed-width hex.
 *
 * @example
 * ```ts
 * import { tenantKeyPart } from "./etcd_keyspace.ts";
 * console.assert(tenantKeyPart(new Uint8Array(32).fill(0x11)) === "11".repeat(32));
 * ```
 */
export function tenantKeyPart(tenant: Uint8Array): string {
  if (tenant.length !== 32) {
    throw new RangeError(`tenant id must be 32 bytes, got ${tenant.length}`);
  }
  let out = "";
  for (const b of tenant) out += b.toString(16).padStart(2, "0");
  return out;
}

/**
 * Formats a u64 id (run or shard) as 16 zero-padded lowercase hex characters.
 *
 * @param id The id, 0..2^64-1.
 * @returns The fixed-width hex.
 *
 * @example
 * ```ts
 * import { u64KeyPart } from "./etcd_keyspace.ts";
 * console.assert(u64KeyPart(42n) === "000000000000002a");
 * ```
 */
export function u64KeyPart(id: bigint): string {
  if (id < 0n || id > U64_MAX) throw new RangeError(`id ${id} is not a u64`);
  return id.toString(16).padStart(16, "0");
}

/**
 * Parses a 16-hex-character key part back into a u64.
 *
 * @param part The key part.
 * @returns The id, or null when the part is not exactly 16 lowercase hex characters.
 *
 * @example
 * ```ts
 * import { parseU64KeyPart } from "./etcd_keyspace.ts";
 * console.assert(parseU64KeyPart("000000000000002a") === 42n);
 * console.assert(parseU64KeyPart("2a") === null);
 * ```
 */
export function parseU64KeyPart(part: string): bigint | null {
  return /^[0-9a-f]{16}$/.test(part) ? BigInt(`0x${part}`) : null;
}

/**
 * The keys of one tenant's runs and shards under a namespace.
 *
 * @example
 * ```ts
 * import { EtcdKeyspace } from "./etcd_keyspace.ts";
 * const keys = new EtcdKeyspace("/gossip/v1", new Uint8Array(32).fill(0x11));
 * console.assert(keys.ownerKey(42n, 9n) ===
 *   `/gossip/v1/tenants/${"11".repeat(32)}/runs/000000000000002a/shards/0000000000000009/owner`);
 * ```
 */
export class EtcdKeyspace {
  /** The validated namespace. */
  readonly namespace: string;
  readonly #tenantRoot: string;

  /**
   * Binds a namespace and a tenant.
   *
   * @param namespace The namespace prefix (validated).
   * @param tenant The 32-byte tenant id.
   */
  constructor(namespace: string, tenant: Uint8Array) {
    this.namespace = validateEtcdNamespace(namespace);
    const base = this.namespace === "/" ? "" : this.namespace;
    this.#tenantRoot = `${base}/tenants/${tenantKeyPart(tenant)}`;
  }

  /**
   * Prefix of every run record (ends with `/`).
   *
   * @returns The prefix.
   */
  runsPrefix(): string {
    return `${this.#tenantRoot}/runs/`;
  }

  /**
   * The key of a run record.
   *
   * @param run Run id.
   * @returns The run record key.
   */
  runKey(run: bigint): string {
    return `${this.#tenantRoot}/runs/${u64KeyPart(run)}`;
  }

  /**
   * Prefix of active-run markers (ends with `/`).
   *
   * @returns The prefix.
   */
  runsActivePrefix(): string {
    return `${this.#tenantRoot}/runs_active/`;
  }

  /**
   * The key of a run's active marker.
   *
   * @param run Run id.
   * @returns The active-run marker key.
   */
  runActiveKey(run: bigint): string {
    return `${this.runsActivePrefix()}${u64KeyPart(run)}`;
  }

  /**
   * The prefix of a run's shard records (ends with `/`).
   *
   * @param run Run id.
   * @returns The prefix of the run's shard records (ends with `/`).
   */
  shardsPrefix(run: bigint): string {
    return `${this.runKey(run)}/shards/`;
  }

  /**
   * The key of a shard record (also the prefix of its owner key).
   *
   * @param run Run id.
   * @param shard Shard id.
   * @returns The shard record key (also the prefix of its owner key).
   */
  shardKey(run: bigint, shard: bigint): string {
    return `${this.shardsPrefix(run)}${u64KeyPart(shard)}`;
  }

  /**
   * The key of a shard's owner binding.
   *
   * @param run Run id.
   * @param shard Shard id.
   * @returns The owner binding key.
   */
  ownerKey(run: bigint, shard: bigint): string {
    return `${this.shardKey(run, shard)}/owner`;
  }

  /**
   * The prefix of a run's active-shard markers (ends with `/`).
   *
   * @param run Run id.
   * @returns The prefix of the run's active-shard markers (ends with `/`).
   */
  shardsActivePrefix(run: bigint): string {
    return `${this.runKey(run)}/shards_active/`;
  }

  /**
   * The key of a shard's active marker.
   *
   * @param run Run id.
   * @param shard Shard id.
   * @returns The active-shard marker key.
   */
  shardActiveKey(run: bigint, shard: bigint): string {
    return `${this.shardsActivePrefix(run)}${u64KeyPart(shard)}`;
  }
}

/**
 * The exclusive end of a prefix range (etcd's `range_end`): the prefix with
 * its last byte incremented (bytes of 0xff are dropped first).
 *
 * @param prefix The prefix bytes.
 * @returns The range end; a single 0 byte means "to the end of the keyspace".
 *
 * @example
 * ```ts
 * import { prefixRangeEnd } from "./etcd_keyspace.ts";
 * console.assert(new TextDecoder().decode(prefixRangeEnd(new TextEncoder().encode("a/"))) === "a0");
 * ```
 */
export function prefixRangeEnd(prefix: Uint8Array): Uint8Array {
  const end = prefix.slice();
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.slice(0, i + 1);
    }
  }
  return new Uint8Array([0]);
}
