/**
 * A small etcd v3 client over etcd's JSON gateway (`POST /v3/...` with
 * base64 keys and values) and `fetch`: range, put, delete, txn with
 * compares, lease grant / one-shot keep-alive / revoke, and the maintenance
 * `Status` health check. Each request is bounded by a timeout; on a network
 * failure the next endpoint is tried. No dependency, and it recovers within
 * one request after an etcd restart (no circuit breaker to wait out).
 *
 * @module
 */

import { LedgerError } from "../errors.ts";

/** Options of {@link EtcdGatewayClient}. */
export interface EtcdClientOptions {
  /** Client URLs (`http://` or `https://`), tried in order. */
  readonly endpoints: readonly string[];
  /** Per-request timeout in ms. Default 5,000. */
  readonly requestTimeoutMs?: number;
  /** Optional user name for etcd auth. */
  readonly username?: string;
  /** Optional password for etcd auth (never logged). */
  readonly password?: string;
}

/** A stored key-value pair. */
export interface EtcdKeyValue {
  /** The key bytes. */
  readonly key: Uint8Array;
  /** The value bytes. */
  readonly value: Uint8Array;
  /** Revision of the key's creation. */
  readonly createRevision: bigint;
  /** Revision of the last modification. */
  readonly modRevision: bigint;
  /** The lease id the key is attached to ("0" when none). */
  readonly lease: string;
}

/** A txn compare. */
export type EtcdCompare =
  | {
    readonly key: Uint8Array;
    readonly target: "mod";
    readonly modRevision: bigint;
  }
  | {
    readonly key: Uint8Array;
    readonly target: "create";
    readonly createRevision: bigint;
  }
  | {
    readonly key: Uint8Array;
    readonly target: "value";
    readonly value: Uint8Array;
  }
  | {
    readonly key: Uint8Array;
    readonly target: "lease";
    readonly lease: string;
  };

/** A txn operation. */
export type EtcdOp =
  | {
    readonly put: Uint8Array;
    readonly value: Uint8Array;
    readonly lease?: string;
  }
  | { readonly delete: Uint8Array; readonly prefix?: boolean }
  | { readonly range: Uint8Array; readonly prefix?: boolean };

/** The answer to a txn. */
export interface EtcdTxnResult {
  /** Whether every compare held (the success branch ran). */
  readonly succeeded: boolean;
  /** Key-values of the range ops of the branch that ran, per op. */
  readonly ranges: readonly (readonly EtcdKeyValue[])[];
}

const enc = new TextEncoder();

function b64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function unb64(text: string | undefined): Uint8Array {
  if (text === undefined) return new Uint8Array();
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * The key bytes of a string key.
 *
 * @param key The key.
 * @returns UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { etcdKey } from "./etcd_client.ts";
 * console.assert(etcdKey("a").length === 1);
 * ```
 */
export function etcdKey(key: string): Uint8Array {
  return enc.encode(key);
}

function rangeEnd(prefix: Uint8Array): Uint8Array {
  const end = prefix.slice();
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.slice(0, i + 1);
    }
  }
  return new Uint8Array([0]);
}

type Json = Record<string, unknown>;

function kvOf(raw: Json): EtcdKeyValue {
  return {
    key: unb64(raw.key as string | undefined),
    value: unb64(raw.value as string | undefined),
    createRevision: BigInt((raw.create_revision as string | undefined) ?? "0"),
    modRevision: BigInt((raw.mod_revision as string | undefined) ?? "0"),
    lease: (raw.lease as string | undefined) ?? "0",
  };
}

function opJson(op: EtcdOp): Json {
  if ("put" in op) {
    return {
      request_put: {
        key: b64(op.put),
        value: b64(op.value),
        ...(op.lease ? { lease: op.lease } : {}),
      },
    };
  }
  if ("delete" in op) {
    return {
      request_delete_range: {
        key: b64(op.delete),
        ...(op.prefix ? { range_end: b64(rangeEnd(op.delete)) } : {}),
      },
    };
  }
  return {
    request_range: {
      key: b64(op.range),
      ...(op.prefix ? { range_end: b64(rangeEnd(op.range)) } : {}),
    },
  };
}

function compareJson(c: EtcdCompare): Json {
  const base = { key: b64(c.key), result: "EQUAL" };
  switch (c.target) {
    case "mod":
      return { ...base, target: "MOD", mod_revision: String(c.modRevision) };
    case "create":
      return {
        ...base,
        target: "CREATE",
        create_revision: String(c.createRevision),
      };
    case "value":
      return { ...base, target: "VALUE", value: b64(c.value) };
    case "lease":
      return { ...base, target: "LEASE", lease: c.lease };
  }
}

/**
 * The etcd JSON-gateway client.
 *
 * @example
 * ```ts ignore
 * import { EtcdGatewayClient, etcdKey } from "./etcd_client.ts";
 * const etcd = new EtcdGatewayClient({ endpoints: ["http://127.0.0.1:2379"] });
 * await etcd.status();
 * await etcd.put(etcdKey("/a"), new Uint8Array([1]));
 * ```
 */
export class EtcdGatewayClient {
  readonly #endpoints: string[];
  readonly #timeoutMs: number;
  readonly #username: string | undefined;
  readonly #password: string | undefined;
  #token: string | null = null;
  #preferred = 0;

  /**
   * Creates a client (no request is sent yet).
   *
   * @param options Endpoints, timeout, optional auth.
   */
  constructor(options: EtcdClientOptions) {
    if (options.endpoints.length === 0) {
      throw new RangeError("at least one etcd endpoint is needed");
    }
    this.#endpoints = options.endpoints.map((e) => e.replace(/\/+$/, ""));
    this.#timeoutMs = options.requestTimeoutMs ?? 5_000;
    this.#username = options.username;
    this.#password = options.password;
  }

  async #post(path: string, body: Json, allowAuthRetry = true): Promise<Json> {
    let lastError = "no endpoint answered";
    for (let i = 0; i < this.#endpoints.length; i++) {
      const index = (this.#preferred + i) % this.#endpoints.length;
      const endpoint = this.#endpoints[index];
      let response: Response;
      try {
        if (
          this.#username !== undefined && this.#token === null &&
          path !== "/v3/auth/authenticate"
        ) {
          await this.#authenticate();
        }
        response = await fetch(`${endpoint}${path}`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(this.#token === null ? {} : { authorization: this.#token }),
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
      } catch (error) {
        if (error instanceof LedgerError) throw error;
        lastError = (error as Error).name === "TimeoutError"
          ? "request timed out"
          : "connection failed";
        continue;
      }
      const text = await response.text();
      let json: Json;
      try {
        json = JSON.parse(text.split("\n")[0] || "{}") as Json;
      } catch {
        throw new LedgerError(
          "coordination_unavailable",
          `etcd answered ${path} with a non-JSON body`,
        );
      }
      if (!response.ok || json.error !== undefined) {
        const message = String(
          json.error ?? json.message ?? `HTTP ${response.status}`,
        );
        if (
          allowAuthRetry && this.#username !== undefined &&
          /token/i.test(message)
        ) {
          this.#token = null;
          return this.#post(path, body, false);
        }
        throw new LedgerError(
          "coordination_unavailable",
          `etcd ${path} failed: ${message.slice(0, 200)}`,
          {
            details: { path, status: response.status },
          },
        );
      }
      this.#preferred = index;
      return json;
    }
    throw new LedgerError(
      "coordination_unavailable",
      `etcd is unreachable (${lastError})`,
      { details: { path } },
    );
  }

  async #authenticate(): Promise<void> {
    const json = await this.#post("/v3/auth/authenticate", {
      name: this.#username,
      password: this.#password ?? "",
    });
    this.#token = String(json.token ?? "");
  }

  /**
   * The maintenance `Status` RPC (the health check).
   *
   * @returns The server version and the member id.
   */
  async status(): Promise<{ version: string; memberId: string }> {
    const json = await this.#post("/v3/maintenance/status", {});
    const header = (json.header ?? {}) as Json;
    return {
      version: String(json.version ?? ""),
      memberId: String(header.member_id ?? ""),
    };
  }

  /**
   * Reads one key, or every key under a prefix (sorted by key).
   *
   * @param key The key or prefix.
   * @param prefix Whether `key` is a prefix.
   * @returns The key-values.
   */
  async range(key: Uint8Array, prefix = false): Promise<EtcdKeyValue[]> {
    const json = await this.#post("/v3/kv/range", {
      key: b64(key),
      ...(prefix ? { range_end: b64(rangeEnd(key)) } : {}),
    });
    return ((json.kvs ?? []) as Json[]).map(kvOf);
  }

  /**
   * Writes one key.
   *
   * @param key The key.
   * @param value The value.
   * @param lease An optional lease id.
   */
  async put(key: Uint8Array, value: Uint8Array, lease?: string): Promise<void> {
    await this.#post("/v3/kv/put", {
      key: b64(key),
      value: b64(value),
      ...(lease ? { lease } : {}),
    });
  }

  /**
   * Deletes one key or a prefix.
   *
   * @param key The key or prefix.
   * @param prefix Whether `key` is a prefix.
   */
  async delete(key: Uint8Array, prefix = false): Promise<void> {
    await this.#post("/v3/kv/deleterange", {
      key: b64(key),
      ...(prefix ? { range_end: b64(rangeEnd(key)) } : {}),
    });
  }

  /**
   * An atomic transaction: if every compare holds, run `success`, else `failure`.
   *
   * @param compare The compares (all must hold).
   * @param success Ops when they hold.
   * @param failure Ops otherwise.
   * @returns Whether they held, and the range results.
   */
  async txn(
    compare: readonly EtcdCompare[],
    success: readonly EtcdOp[],
    failure: readonly EtcdOp[] = [],
  ): Promise<EtcdTxnResult> {
    const json = await this.#post("/v3/kv/txn", {
      compare: compare.map(compareJson),
      success: success.map(opJson),
      failure: failure.map(opJson),
    });
    const responses = (json.responses ?? []) as Json[];
    const ranges = responses
      .filter((r) => r.response_range !== undefined)
      .map((r) => (((r.response_range as Json).kvs ?? []) as Json[]).map(kvOf));
    return { succeeded: json.succeeded === true, ranges };
  }

  /**
   * Grants a lease.
   *
   * @param ttlSeconds Time to live.
   * @returns The lease id (decimal text).
   */
  async leaseGrant(ttlSeconds: number): Promise<string> {
    const json = await this.#post("/v3/lease/grant", { TTL: ttlSeconds });
    return String(json.ID);
  }

  /**
   * One keep-alive: one request, one reply.
   *
   * @param lease The lease id.
   * @returns The remaining TTL in seconds (0 when the lease is gone).
   */
  async leaseKeepAliveOnce(lease: string): Promise<number> {
    const json = await this.#post("/v3/lease/keepalive", { ID: lease });
    const result = (json.result ?? {}) as Json;
    return Number(result.TTL ?? 0);
  }

  /**
   * Revokes a lease (its keys are deleted). A lease that is already gone is fine.
   *
   * @param lease The lease id.
   */
  async leaseRevoke(lease: string): Promise<void> {
    try {
      await this.#post("/v3/lease/revoke", { ID: lease });
    } catch (error) {
      if (
        error instanceof LedgerError && /lease not found/i.test(error.message)
      ) return;
      throw error;
    }
  }
}
