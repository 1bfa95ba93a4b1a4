/**
 * Certificates for a cluster with `@peculiar/x509` on WebCrypto P-256: the
 * ephemeral cluster CA (its private key is never exported), key pairs and
 * PKCS#10 CSRs made by each joiner, leaves issued from a verified CSR with
 * the node's identity SAN and EKU serverAuth + clientAuth.
 *
 * @module
 */

import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { nodeUri } from "../identity.ts";
import { splitHostPort } from "../identity.ts";
import { SeedError } from "../errors.ts";

x509.cryptoProvider.set(crypto);

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const SKEW_MS = 60_000;

/**
 * Generates a P-256 key pair (private key extractable so the node can hand
 * it to its own TLS stack; it never leaves the node).
 *
 * @returns The key pair.
 *
 * @example
 * ```ts
 * import { generateNodeKeys } from "./certs.ts";
 * const keys = await generateNodeKeys();
 * console.assert(keys.privateKey.algorithm.name === "ECDSA");
 * ```
 */
export async function generateNodeKeys(): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
}

/**
 * Makes a PKCS#10 CSR for a node (subject `CN=<nodeId>`).
 *
 * @param keys The node's key pair.
 * @param nodeId The node id.
 * @returns CSR DER.
 *
 * @example
 * ```ts
 * import { createCsr, generateNodeKeys } from "./certs.ts";
 * const csr = await createCsr(await generateNodeKeys(), "n1");
 * console.assert(csr.length > 100);
 * ```
 */
export async function createCsr(
  keys: CryptoKeyPair,
  nodeId: string,
): Promise<Uint8Array> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${nodeId}`,
    keys,
    signingAlgorithm: ALG,
  });
  return new Uint8Array(csr.rawData);
}

/**
 * PEM text of DER bytes.
 *
 * @param der DER bytes.
 * @param label PEM label, e.g. `CERTIFICATE`.
 * @returns PEM text.
 *
 * @example
 * ```ts
 * import { derToPem } from "./certs.ts";
 * console.assert(derToPem(new Uint8Array([1]), "CERTIFICATE").startsWith("-----BEGIN CERTIFICATE-----"));
 * ```
 */
export function derToPem(der: Uint8Array, label: string): string {
  return x509.PemConverter.encode(
    der.slice().buffer as ArrayBuffer,
    label,
  );
}

/**
 * The PKCS#8 PEM of a private key (for the node's own TLS stack only).
 *
 * @param key The private key.
 * @returns PEM text.
 *
 * @example
 * ```ts
 * import { generateNodeKeys, privateKeyPem } from "./certs.ts";
 * const pem = await privateKeyPem((await generateNodeKeys()).privateKey);
 * console.assert(pem.includes("PRIVATE KEY"));
 * ```
 */
export async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = new Uint8Array(await crypto.subtle.exportKey("pkcs8", key));
  return derToPem(der, "PRIVATE KEY");
}

function randomSerial(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[0] &= 0x7f;
  b[0] |= 0x01;
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

function sanFor(
  clusterId: string,
  nodeId: string,
  addr?: string,
): x509.JsonGeneralName[] {
  const names: x509.JsonGeneralName[] = [{
    type: "url",
    value: nodeUri(clusterId, nodeId),
  }];
  const host = addr === undefined ? undefined : splitHostPort(addr)?.hostname;
  if (host !== undefined && host !== "0.0.0.0" && host !== "::") {
    const isIp = /^[0-9.]+$/.test(host) || host.includes(":");
    names.push({ type: isIp ? "ip" : "dns", value: host });
  }
  return names;
}

/** Options of {@link createClusterCa}. */
export interface ClusterCaOptions {
  /** Cluster id (the CA's CN and every leaf's SAN authority). */
  clusterId: string;
  /** CA validity; bound it to the cluster's expected lifetime. @default {604800000} (7 days) */
  validityMs?: number;
  /** Leaf validity. @default {86400000} (1 day) */
  leafValidityMs?: number;
}

/** A request to issue a leaf. */
export interface IssueLeafRequest {
  /** The joiner's CSR (DER); its signature is verified first. */
  csr: Uint8Array;
  /** Node id bound in the URI SAN. */
  nodeId: string;
  /** Advertised address; its host becomes an IP or DNS SAN. */
  listenAddr?: string;
}

/** An ephemeral cluster CA (its private key exists only in this object). */
export interface ClusterCa {
  /** Cluster id. */
  readonly clusterId: string;
  /** CA certificate DER. */
  readonly certDer: Uint8Array;
  /** CA certificate PEM. */
  readonly certPem: string;
  /** When the CA expires. */
  readonly notAfter: Date;
  /**
   * Issues a leaf from a CSR.
   *
   * @param request CSR, node id and address.
   * @returns Leaf DER.
   */
  issueLeaf(request: IssueLeafRequest): Promise<Uint8Array>;
  /**
   * Issues a leaf for a key generated here (the seed's own TLS identity).
   *
   * @param name Node id for the URI SAN.
   * @param addr Address for the IP/DNS SAN.
   * @returns Certificate and private key PEM.
   */
  issueLocal(
    name: string,
    addr?: string,
  ): Promise<{ cert: string; key: string; der: Uint8Array }>;
}

/**
 * Creates an ephemeral P-256 CA for one cluster.
 *
 * @param options Cluster id and validities.
 * @returns The CA.
 *
 * @example
 * ```ts
 * import { createClusterCa, createCsr, generateNodeKeys, verifyIssuedBy } from "./certs.ts";
 * const ca = await createClusterCa({ clusterId: "c1" });
 * const leaf = await ca.issueLeaf({ csr: await createCsr(await generateNodeKeys(), "n1"), nodeId: "n1", listenAddr: "127.0.0.1:1" });
 * console.assert(await verifyIssuedBy(leaf, ca.certDer));
 * ```
 */
export async function createClusterCa(
  options: ClusterCaOptions,
): Promise<ClusterCa> {
  const validity = options.validityMs ?? 7 * 24 * 3600_000;
  const leafValidity = options.leafValidityMs ?? 24 * 3600_000;
  const keys = await crypto.subtle.generateKey(ALG, false, ["sign", "verify"]);
  const now = Date.now();
  const notAfter = new Date(now + validity);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=loom cluster ${options.clusterId} CA`,
    notBefore: new Date(now - SKEW_MS),
    notAfter,
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const certDer = new Uint8Array(ca.rawData);
  const issue = async (
    publicKey: x509.PublicKey | CryptoKey,
    nodeId: string,
    addr: string | undefined,
  ): Promise<x509.X509Certificate> => {
    const t = Date.now();
    const leafNotAfter = new Date(
      Math.min(t + leafValidity, notAfter.getTime()),
    );
    return await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: `CN=${nodeId}`,
      issuer: ca.subject,
      notBefore: new Date(t - SKEW_MS),
      notAfter: leafNotAfter,
      signingAlgorithm: ALG,
      publicKey,
      signingKey: keys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([
          x509.ExtendedKeyUsage.serverAuth,
          x509.ExtendedKeyUsage.clientAuth,
        ]),
        new x509.SubjectAlternativeNameExtension(
          sanFor(options.clusterId, nodeId, addr),
        ),
        await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
  };
  return {
    clusterId: options.clusterId,
    certDer,
    certPem: ca.toString("pem"),
    notAfter,
    async issueLeaf(request: IssueLeafRequest): Promise<Uint8Array> {
      let csr: x509.Pkcs10CertificateRequest;
      try {
        csr = new x509.Pkcs10CertificateRequest(request.csr.slice());
      } catch (cause) {
        throw new SeedError("certificate", "CSR is not valid DER", { cause });
      }
      const alg = csr.publicKey.algorithm as {
        name?: string;
        namedCurve?: string;
      };
      if (alg.name !== "ECDSA" || alg.namedCurve !== "P-256") {
        throw new SeedError("certificate", "CSR key must be ECDSA P-256");
      }
      if (!(await csr.verify().catch(() => false))) {
        throw new SeedError("certificate", "CSR signature does not verify");
      }
      const leaf = await issue(
        csr.publicKey,
        request.nodeId,
        request.listenAddr,
      );
      return new Uint8Array(leaf.rawData);
    },
    async issueLocal(
      name: string,
      addr?: string,
    ): Promise<{ cert: string; key: string; der: Uint8Array }> {
      const k = await generateNodeKeys();
      const leaf = await issue(k.publicKey, name, addr);
      return {
        cert: leaf.toString("pem"),
        key: await privateKeyPem(k.privateKey),
        der: new Uint8Array(leaf.rawData),
      };
    },
  };
}

/**
 * A throwaway self-signed certificate for a key (used by a joiner's mesh
 * listener until its real leaf arrives; no connection is accepted meanwhile).
 *
 * @param keys The node's key pair.
 * @returns Certificate PEM.
 *
 * @example
 * ```ts
 * import { generateNodeKeys, selfSignedPem } from "./certs.ts";
 * console.assert((await selfSignedPem(await generateNodeKeys())).includes("CERTIFICATE"));
 * ```
 */
export async function selfSignedPem(keys: CryptoKeyPair): Promise<string> {
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: "CN=loom pending node",
    notBefore: new Date(now - SKEW_MS),
    notAfter: new Date(now + 3600_000),
    keys,
    signingAlgorithm: ALG,
  });
  return cert.toString("pem");
}

/**
 * True when `certDer` is signed by the CA `caDer` and valid now.
 *
 * @param certDer Certificate DER.
 * @param caDer CA certificate DER.
 * @returns Whether it chains.
 *
 * @example
 * ```ts ignore
 * console.assert(await verifyIssuedBy(leafDer, caDer));
 * ```
 */
export async function verifyIssuedBy(
  certDer: Uint8Array,
  caDer: Uint8Array,
): Promise<boolean> {
  try {
    const cert = new x509.X509Certificate(certDer.slice());
    const ca = new x509.X509Certificate(caDer.slice());
    if (cert.issuer !== ca.subject) return false;
    return await cert.verify({ publicKey: ca.publicKey, date: new Date() });
  } catch {
    return false;
  }
}

/** What {@link describeCertificate} reports. */
export interface CertificateFacts {
  /** Subject DN. */
  subject: string;
  /** Issuer DN. */
  issuer: string;
  /** Validity start. */
  notBefore: Date;
  /** Validity end. */
  notAfter: Date;
  /** True for a CA. */
  isCa: boolean;
  /** Named curve of the key. */
  curve: string | undefined;
  /** URI SANs. */
  uris: string[];
  /** IP and DNS SANs. */
  hosts: string[];
  /** Extended key usage OIDs. */
  extendedKeyUsages: string[];
}

/**
 * Reads the facts of a certificate that the cluster relies on.
 *
 * @param der Certificate DER.
 * @returns The facts.
 *
 * @example
 * ```ts
 * import { createClusterCa, describeCertificate } from "./certs.ts";
 * const ca = await createClusterCa({ clusterId: "c1" });
 * console.assert(describeCertificate(ca.certDer).isCa);
 * ```
 */
export function describeCertificate(der: Uint8Array): CertificateFacts {
  const cert = new x509.X509Certificate(der.slice());
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  const names = san?.names.toJSON() ?? [];
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    isCa: bc?.ca ?? false,
    curve: (cert.publicKey.algorithm as { namedCurve?: string }).namedCurve,
    uris: names.filter((n) => n.type === "url").map((n) => n.value),
    hosts: names.filter((n) => n.type === "ip" || n.type === "dns").map((n) =>
      n.value
    ),
    extendedKeyUsages: [...(eku?.usages ?? [])].map(String),
  };
}
