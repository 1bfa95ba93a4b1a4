/**
 * Identity derivations of the ledger, pure: every id is a 32-byte BLAKE3
 * derive-key hash over length-prefixed parts under a fixed context, so
 * different kinds of id never collide and the same inputs always give the
 * same id. The secret hash is BLAKE3 in keyed mode with the tenant's secret
 * key, so the database never holds a value that can be checked against a
 * guess without that key.
 *
 * @module
 */

import { blake3 } from "@noble/hashes/blake3.js";
import type { ScanSettings } from "./config.ts";
import type { RuleSet } from "./rules.ts";

const utf8 = new TextEncoder();

/** Derive-key contexts. */
export const ID_CONTEXTS = {
  /** The policy hash (rules + options). */
  policy: "loom/ledger/v1/policy",
  /** Object-version ids. */
  ovid: "gossip/persistence/v1/ovid",
  /** Stable item ids. */
  item: "gossip/item-id/v1",
  /** Rule fingerprints. */
  rule: "loom/ledger/v1/rule-fingerprint",
  /** Finding ids. */
  finding: "gossip/finding/v1",
  /** Occurrence ids. */
  occurrence: "gossip/occurrence/v1",
  /** Observation ids. */
  observation: "gossip/observation/v1",
  /** Secret hashing (keyed mode). */
  secret: "gossip/secret-hash/v1",
} as const;

/** One part of a derivation: bytes, text, or an unsigned integer. */
export type IdPart = Uint8Array | string | bigint | number;

function frame(parts: readonly IdPart[]): Uint8Array {
  const encoded = parts.map((p) => {
    if (p instanceof Uint8Array) return p;
    if (typeof p === "string") return utf8.encode(p);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(p), true);
    return b;
  });
  const total = encoded.reduce((n, e) => n + 8 + e.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const e of encoded) {
    view.setBigUint64(at, BigInt(e.length), true);
    out.set(e, at + 8);
    at += 8 + e.length;
  }
  return out;
}

/**
 * A 32-byte id: BLAKE3 derive-key(context) over the length-prefixed parts.
 *
 * @param context The derive-key context.
 * @param parts The parts.
 * @returns 32 bytes.
 *
 * @example
 * ```ts
 * import { deriveId } from "./ids.ts";
 * console.assert(deriveId("ctx", ["a", "bc"]).length === 32);
 * console.assert(deriveId("ctx", ["ab", "c"])[0] !== deriveId("ctx", ["a", "bc"])[0] || true);
 * ```
 */
export function deriveId(
  context: string,
  parts: readonly IdPart[],
): Uint8Array {
  let base = contextHashers.get(context);
  if (base === undefined) {
    base = blake3.create({ context: utf8.encode(context) });
    contextHashers.set(context, base);
  }
  // Cloning the initialised hasher skips re-deriving the context key.
  const h = base.clone();
  h.update(frame(parts));
  return h.digest();
}

const contextHashers = new Map<string, ReturnType<typeof blake3.create>>();

/** The version of the scan engine's semantics, part of the policy hash. */
export const ENGINE_VERSION = "loom-scan/1";

/**
 * The policy hash: everything that changes what a scan finds (the rules'
 * canonical text, decode depth, binary and archive handling, anchor mode,
 * engine version). Changing any of them rescans every item.
 *
 * @param rules The rule set.
 * @param scan The scanner settings.
 * @param decodeDepth The effective decode depth.
 * @returns 32 bytes.
 *
 * @example
 * ```ts
 * import { policyHash } from "./ids.ts";
 * import { defaultRuleSet } from "./default_rules.ts";
 * const s = { rulesFile: null, decodeDepth: null, scanBinary: false, skipArchives: false, anchorMode: "manual" } as const;
 * console.assert(policyHash(defaultRuleSet(), s, 2).length === 32);
 * ```
 */
export function policyHash(
  rules: RuleSet,
  scan: ScanSettings,
  decodeDepth: number,
): Uint8Array {
  return deriveId(ID_CONTEXTS.policy, [
    ENGINE_VERSION,
    rules.canonical,
    decodeDepth,
    scan.scanBinary ? 1 : 0,
    scan.skipArchives ? 1 : 0,
    scan.anchorMode,
  ]);
}

/**
 * The object-version id of a file-system item: its path and content hash.
 *
 * @param path The path relative to the scan root.
 * @param contentHash A hash of the content.
 * @returns 32 bytes.
 *
 * @example
 * ```ts
 * import { fsOvid } from "./ids.ts";
 * console.assert(fsOvid("a.txt", new Uint8Array(32)).length === 32);
 * ```
 */
export function fsOvid(path: string, contentHash: Uint8Array): Uint8Array {
  return deriveId(ID_CONTEXTS.ovid, ["fs", path, contentHash]);
}

/**
 * The object-version id of a git blob (content-addressed already).
 *
 * @param blobOid The blob's hex oid.
 * @returns 32 bytes.
 *
 * @example
 * ```ts
 * import { gitOvid } from "./ids.ts";
 * console.assert(gitOvid("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391").length === 32);
 * ```
 */
export function gitOvid(blobOid: string): Uint8Array {
  return deriveId(ID_CONTEXTS.ovid, ["git", blobOid]);
}

/**
 * The stable item id: the item's identity across versions.
 *
 * @param source `fs` or `git`.
 * @param path The path (for git: the first path the blob was seen at).
 * @returns 32 bytes.
 *
 * @example
 * ```ts
 * import { stableItemId } from "./ids.ts";
 * console.assert(stableItemId("fs", "a.txt").length === 32);
 * ```
 */
export function stableItemId(source: string, path: string): Uint8Array {
  return deriveId(ID_CONTEXTS.item, [source, path]);
}

/**
 * The fingerprint of a rule (its id and regex).
 *
 * @param ruleId The rule id.
 * @param regexSource The regex.
 * @returns 32 bytes.
 *
 * @example
 * ```ts
 * import { ruleFingerprint } from "./ids.ts";
 * console.assert(ruleFingerprint("jwt", "eyJ").length === 32);
 * ```
 */
export function ruleFingerprint(
  ruleId: string,
  regexSource: string,
): Uint8Array {
  return deriveId(ID_CONTEXTS.rule, [ruleId, regexSource]);
}

/**
 * The keyed hash of a secret.
 *
 * @param key The 32-byte secret key.
 * @param secret The secret's bytes.
 * @returns 32 bytes.
 *
 * @example
 * ```ts
 * import { secretHash } from "./ids.ts";
 * console.assert(secretHash(new Uint8Array(32).fill(1), new Uint8Array([1])).length === 32);
 * ```
 */
export function secretHash(key: Uint8Array, secret: Uint8Array): Uint8Array {
  const ctx = utf8.encode(ID_CONTEXTS.secret);
  const framed = new Uint8Array(8 + ctx.length + secret.length);
  new DataView(framed.buffer).setBigUint64(0, BigInt(ctx.length), true);
  framed.set(ctx, 8);
  framed.set(secret, 8 + ctx.length);
  return blake3(framed, { key });
}
