/**
 * Router configuration: option types, documented defaults, TLS client
 * certificate fingerprint normalization and the start-up validation that the
 * reference runs before binding (same order, same messages where the
 * reference has them).
 *
 * @module
 */

import type { Address } from "./address.ts";

/** TLS settings of a `tcp+tls:` router listener. */
export interface RouterTlsOptions {
  /** Server certificate chain (PEM file). */
  certFile: string;
  /** Server private key (PEM file). */
  keyFile: string;
  /** CA that signs worker client certificates (PEM file); enables mTLS. */
  clientCaFile?: string;
  /**
   * Refuse workers without a valid client certificate.
   * @default {true when clientCaFile is set}
   */
  requireClientAuth?: boolean;
}

/** TLS settings handed to spawned workers (as command-line flags). */
export interface WorkerTlsOptions {
  /** CA certificate the worker pins (`--tls-ca-cert`). */
  caCertFile: string;
  /** Server name to verify (`--tls-domain`). */
  domain?: string;
  /** Client certificate for mTLS (`--tls-client-cert`). */
  clientCertFile?: string;
  /** Client key for mTLS (`--tls-client-key`). */
  clientKeyFile?: string;
}

/** Client-certificate fingerprints allowed per shard and globally. */
export interface FingerprintAllowlist {
  /** Fingerprints allowed for every shard (a non-empty list guards all shards). */
  global?: readonly string[];
  /** Fingerprints allowed per shard id (an empty entry still guards the shard). */
  shards?: Readonly<Record<number, readonly string[]>>;
}

/** The normalized form of {@link FingerprintAllowlist}. */
export interface NormalizedAllowlist {
  global: Set<string>;
  shards: Map<number, Set<string>>;
}

/**
 * Normalizes a SHA-256 certificate fingerprint the reference way: trim,
 * strip a leading `SHA256 Fingerprint=`, drop `:` and whitespace, require 64
 * hex digits, lowercase.
 *
 * @param value A fingerprint as OpenSSL or a user writes it.
 * @returns 64 lowercase hex characters.
 * @throws {TypeError} When it is not a SHA-256 fingerprint.
 *
 * @example
 * ```ts
 * import { normalizeFingerprint } from "./router_config.ts";
 * const fp = normalizeFingerprint("SHA256 Fingerprint=" + Array(32).fill("AB").join(":"));
 * console.assert(fp === "ab".repeat(32));
 * ```
 */
export function normalizeFingerprint(value: string): string {
  let text = value.trim();
  if (text.toLowerCase().startsWith("sha256 fingerprint=")) {
    text = text.slice("sha256 fingerprint=".length);
  }
  text = text.replace(/[:\s]/g, "");
  if (!/^[0-9a-fA-F]*$/.test(text)) {
    throw new TypeError(
      `invalid TLS client certificate fingerprint "${value}": expected 64 hex characters`,
    );
  }
  if (text.length !== 64) {
    throw new TypeError(
      `invalid TLS client certificate fingerprint "${value}": expected 64 hex characters, got ${text.length}`,
    );
  }
  return text.toLowerCase();
}

/**
 * Normalizes every entry of an allowlist, naming the bad entry on failure.
 *
 * @example
 * ```ts
 * import { normalizeAllowlist } from "./router_config.ts";
 * const list = normalizeAllowlist({ shards: { 0: ["AA".repeat(32)] } });
 * console.assert(list.shards.get(0)!.has("aa".repeat(32)) && list.global.size === 0);
 * ```
 */
export function normalizeAllowlist(
  list: FingerprintAllowlist | undefined,
): NormalizedAllowlist {
  const out: NormalizedAllowlist = { global: new Set(), shards: new Map() };
  for (const entry of list?.global ?? []) {
    try {
      out.global.add(normalizeFingerprint(entry));
    } catch (err) {
      throw new TypeError(
        `normalize global TLS client certificate fingerprint "${entry}": ${
          (err as Error).message
        }`,
      );
    }
  }
  for (const [key, entries] of Object.entries(list?.shards ?? {})) {
    const shard = Number(key);
    const set = new Set<string>();
    for (const entry of entries) {
      try {
        set.add(normalizeFingerprint(entry));
      } catch (err) {
        throw new TypeError(
          `normalize TLS client certificate fingerprint for shard ${shard}: "${entry}": ${
            (err as Error).message
          }`,
        );
      }
    }
    out.shards.set(shard, set);
  }
  return out;
}

/**
 * Whether an allowlist has any entry (global or per shard).
 *
 * @example
 * ```ts
 * import { allowlistActive, normalizeAllowlist } from "./router_config.ts";
 * console.assert(!allowlistActive(normalizeAllowlist({})));
 * console.assert(allowlistActive(normalizeAllowlist({ shards: { 0: [] } })));
 * ```
 */
export function allowlistActive(list: NormalizedAllowlist): boolean {
  return list.global.size > 0 || list.shards.size > 0;
}

/**
 * The reference's shard authorization: when the global list is non-empty or
 * the shard has an entry, the peer fingerprint must be in one of the two.
 *
 * @example
 * ```ts
 * import { normalizeAllowlist, shardAuthorized } from "./router_config.ts";
 * const a = "a".repeat(64);
 * const c = "c".repeat(64);
 * const list = normalizeAllowlist({ global: [c], shards: { 0: [a] } });
 * console.assert(shardAuthorized(list, 0, a) && !shardAuthorized(list, 2, a) && shardAuthorized(list, 2, c));
 * ```
 */
export function shardAuthorized(
  list: NormalizedAllowlist,
  shard: number,
  fingerprint: string | undefined,
): boolean {
  const perShard = list.shards.get(shard);
  if (list.global.size === 0 && perShard === undefined) return true;
  if (fingerprint === undefined) return false;
  const fp = fingerprint.toLowerCase();
  return list.global.has(fp) || (perShard?.has(fp) ?? false);
}

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" ||
    /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** The facts {@link validateRouterConfig} checks. */
export interface RouterConfigFacts {
  address: Address;
  /** Whether any token (configured or generated) is in use. */
  tokenInUse: boolean;
  allowInsecureTcp: boolean;
  tls?: RouterTlsOptions;
  allowlist: NormalizedAllowlist;
}

/**
 * Validates a router configuration in the reference's order; throws a
 * `TypeError` with the reference's message for the first problem.
 *
 * Deliberate differences: spawning workers is allowed with every transport
 * (spawned children connect through private listeners, see `router.ts`), and
 * a spawning router does not invent a shared token, so plaintext loopback
 * `tcp:` without a configured token is accepted.
 *
 * @example
 * ```ts
 * import { validateRouterConfig } from "./router_config.ts";
 * let msg = "";
 * try {
 *   validateRouterConfig({
 *     address: { transport: "tcp", hostname: "127.0.0.1", port: 0 },
 *     tokenInUse: true, allowInsecureTcp: false,
 *     allowlist: { global: new Set(), shards: new Map() },
 *   });
 * } catch (err) { msg = (err as Error).message; }
 * console.assert(msg.includes("plaintext TCP") && msg.includes("auth token"));
 * ```
 */
export function validateRouterConfig(facts: RouterConfigFacts): void {
  const addr = facts.address;
  if (addr.transport === "pipe") {
    throw new TypeError(
      "pipe: listen addresses (Windows named pipes) are not supported by this runtime; use unix:",
    );
  }
  if (addr.transport === "tcp+tls" && facts.tls === undefined) {
    throw new TypeError("a tcp+tls: listen address needs TLS options");
  }
  if (allowlistActive(facts.allowlist)) {
    if (addr.transport === "tcp+tls") {
      if (
        facts.tls?.clientCaFile === undefined ||
        facts.tls.requireClientAuth === false
      ) {
        throw new TypeError(
          "TLS client certificate fingerprint allowlist requires mTLS client verification. Configure the router TLS server with a client CA certificate (TlsServerConfig::with_client_ca_cert).",
        );
      }
    } else if (addr.transport === "tcp") {
      throw new TypeError(
        `TLS client certificate fingerprint allowlist requires TLS (\`tcp+tls:\`); got plaintext TCP listen addr ${addr.hostname}:${addr.port}`,
      );
    } else {
      throw new TypeError(
        "TLS client certificate fingerprint allowlist requires TCP+TLS (`tcp+tls:`); local IPC transports do not provide TLS identities",
      );
    }
  }
  if (addr.transport === "tcp" && !facts.allowInsecureTcp) {
    if (facts.tokenInUse) {
      throw new TypeError(
        "refusing to start distributed router with plaintext TCP (`tcp:`) while an auth token is configured. The token and file contents would travel in cleartext; use `tcp+tls:` or a unix: socket, or opt in with allowInsecureTcp.",
      );
    }
    if (!isLoopback(addr.hostname)) {
      throw new TypeError(
        `refusing to listen on insecure plaintext TCP address ${addr.hostname}:${addr.port}. This address is not loopback; use \`tcp+tls:\` or opt in with allowInsecureTcp.`,
      );
    }
  }
}
