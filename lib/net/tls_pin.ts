/**
 * CA pinning for the worker's TLS client: the router's certificate must
 * chain to one of the CA certificates the worker was given, whatever else
 * the runtime trusts. `connect` asks `node:tls` for exactly these CAs and
 * checks the chain it got once more with {@link chainsToPinnedCa}.
 *
 * @module
 */

import { X509Certificate } from "node:crypto";
import type { DetailedPeerCertificate } from "node:tls";

const PEM_CERTIFICATE =
  /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Parses the certificates of PEM texts (each text may hold several).
 *
 * @param pems PEM texts.
 * @returns The certificates, in order.
 * @throws {TypeError} When a block is unreadable or there is no certificate.
 *
 * @example
 * ```ts
 * import { pinnedCas } from "./tls_pin.ts";
 * let error: unknown;
 * try {
 *   pinnedCas(["not a certificate"]);
 * } catch (err) {
 *   error = err;
 * }
 * console.assert(error instanceof TypeError);
 * ```
 */
export function pinnedCas(pems: readonly string[]): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const pem of pems) {
    for (const block of pem.match(PEM_CERTIFICATE) ?? []) {
      try {
        out.push(new X509Certificate(block));
      } catch (err) {
        throw new TypeError("tls.caCerts holds an unreadable certificate", {
          cause: err,
        });
      }
    }
  }
  if (out.length === 0) {
    throw new TypeError("tls.caCerts holds no PEM certificate");
  }
  return out;
}

/**
 * Whether a peer's chain, followed from the leaf through certificates that
 * each sign the one below (as `getPeerCertificate(true)` links them),
 * reaches one that a pinned CA signed, or a pinned CA itself.
 *
 * @param peer The peer's certificate with its issuer links.
 * @param anchors The pinned CA certificates.
 * @returns True when the chain is anchored in a pinned CA.
 *
 * @example
 * ```ts
 * import { chainsToPinnedCa } from "./tls_pin.ts";
 * import type { DetailedPeerCertificate } from "node:tls";
 * // No certificate at all (no TLS session) is never anchored.
 * console.assert(!chainsToPinnedCa({} as DetailedPeerCertificate, []));
 * ```
 */
export function chainsToPinnedCa(
  peer: DetailedPeerCertificate,
  anchors: readonly X509Certificate[],
): boolean {
  let node: DetailedPeerCertificate = peer;
  let cert = node.raw ? new X509Certificate(node.raw) : undefined;
  for (let depth = 0; cert !== undefined && depth < 16; depth++) {
    for (const ca of anchors) {
      if (cert.fingerprint256 === ca.fingerprint256) return true;
      if (cert.checkIssued(ca) && cert.verify(ca.publicKey)) return true;
    }
    const up: DetailedPeerCertificate | undefined = node.issuerCertificate;
    if (up === undefined || up === node || !up.raw) return false;
    const parent = new X509Certificate(up.raw);
    if (!cert.checkIssued(parent) || !cert.verify(parent.publicKey)) {
      return false;
    }
    node = up;
    cert = parent;
  }
  return false;
}
