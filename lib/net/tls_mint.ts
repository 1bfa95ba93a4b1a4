/**
 * Throwaway TLS material for tests: a private CA, a server certificate for
 * `localhost` / `127.0.0.1`, and a client certificate for mutual TLS, all
 * minted with the `openssl` command-line tool into a temporary directory.
 *
 * The certificates are X.509 v3 with the extensions verifiers expect
 * (basicConstraints, keyUsage, extendedKeyUsage, subjectAltName) and ECDSA
 * P-256 keys in PKCS#8 PEM form. They are valid for two days.
 *
 * @module
 */

import { createHash, X509Certificate } from "node:crypto";

/** A certificate with its private key, as PEM text and file paths. */
export interface TlsIdentity {
  /** The certificate (PEM). */
  cert: string;
  /** The private key (PKCS#8 PEM). */
  key: string;
  /** Where the certificate is written. */
  certPath: string;
  /** Where the key is written. */
  keyPath: string;
  /** SHA-256 of the certificate's DER, lowercase hex without colons. */
  fingerprint: string;
}

/** Everything {@link createTlsFixtures} produces. */
export interface TlsFixtures extends AsyncDisposable {
  /** The temporary directory holding every file. */
  dir: string;
  /** The CA certificate (PEM) and its path. */
  ca: { cert: string; certPath: string };
  /** Server identity: SAN `DNS:localhost`, `IP:127.0.0.1`, EKU serverAuth. */
  server: TlsIdentity;
  /** Client identity: EKU clientAuth. */
  client: TlsIdentity;
  /** Removes the directory. */
  remove(): Promise<void>;
}

/** Options for {@link createTlsFixtures}. */
export interface TlsFixturesOptions {
  /** Common name of the CA. @default {"loom test CA"} */
  caName?: string;
  /** Common name of the client certificate. @default {"loom test worker"} */
  clientName?: string;
}

/**
 * SHA-256 fingerprint of a PEM certificate: lowercase hex, no colons.
 *
 * @param pem One PEM certificate.
 * @returns 64 hex characters.
 *
 * @example
 * ```ts ignore
 * import { certificateFingerprint } from "./tls_mint.ts";
 * const fp = certificateFingerprint(pemText);
 * ```
 */
export function certificateFingerprint(pem: string): string {
  const der = new X509Certificate(pem).raw;
  return createHash("sha256").update(der).digest("hex");
}

/** `openssl req` arguments for a fresh, unencrypted P-256 key. */
const NEW_EC_KEY = [
  "-newkey",
  "ec",
  "-pkeyopt",
  "ec_paramgen_curve:prime256v1",
  "-nodes",
];

async function openssl(args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command("openssl", {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr);
    throw new Error(`openssl ${args[0]} failed: ${err.trim()}`);
  }
}

function serial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  bytes[0] &= 0x7f;
  bytes[0] |= 0x10;
  return "0x" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(
    "",
  );
}

/** The extensions file of a leaf certificate. */
function leafExt(eku: string, san?: string): string {
  return [
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature,keyEncipherment",
    `extendedKeyUsage=${eku}`,
    "subjectKeyIdentifier=hash",
    "authorityKeyIdentifier=keyid,issuer",
    ...(san === undefined ? [] : [`subjectAltName=${san}`]),
    "",
  ].join("\n");
}

async function leaf(
  dir: string,
  name: string,
  subject: string,
  extensions: string,
): Promise<TlsIdentity> {
  const keyPath = `${dir}/${name}.key`;
  const certPath = `${dir}/${name}.pem`;
  await Deno.writeTextFile(`${dir}/${name}.ext`, extensions);
  await openssl([
    "req",
    "-new",
    ...NEW_EC_KEY,
    "-keyout",
    keyPath,
    "-out",
    `${name}.csr`,
    "-subj",
    `/CN=${subject}`,
  ], dir);
  await openssl([
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-set_serial",
    serial(),
    "-days",
    "2",
    "-sha256",
    "-extfile",
    `${name}.ext`,
    "-out",
    certPath,
  ], dir);
  const cert = await Deno.readTextFile(certPath);
  return {
    cert,
    key: await Deno.readTextFile(keyPath),
    certPath,
    keyPath,
    fingerprint: certificateFingerprint(cert),
  };
}

/**
 * Mints a CA, a server certificate and a client certificate with `openssl`.
 * Call `remove()` (or use `await using`) to delete the files.
 *
 * @param options Certificate names.
 * @returns The PEM texts, their paths, and the leaf fingerprints.
 *
 * @example
 * ```ts ignore
 * import { createTlsFixtures } from "./tls_mint.ts";
 * await using tls = await createTlsFixtures();
 * console.assert(tls.client.fingerprint.length === 64);
 * ```
 */
export async function createTlsFixtures(
  options: TlsFixturesOptions = {},
): Promise<TlsFixtures> {
  const dir = await Deno.makeTempDir({ prefix: "loom-tls-" });
  try {
    await Deno.writeTextFile(
      `${dir}/ca.ext`,
      [
        "basicConstraints=critical,CA:TRUE",
        "keyUsage=critical,keyCertSign,cRLSign",
        "subjectKeyIdentifier=hash",
        "",
      ].join("\n"),
    );
    await openssl([
      "req",
      "-x509",
      ...NEW_EC_KEY,
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "2",
      "-sha256",
      "-subj",
      `/CN=${options.caName ?? "loom test CA"}`,
      "-set_serial",
      serial(),
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ], dir);
    const [server, client] = await Promise.all([
      leaf(
        dir,
        "server",
        "localhost",
        leafExt("serverAuth", "DNS:localhost,IP:127.0.0.1"),
      ),
      leaf(
        dir,
        "client",
        options.clientName ?? "loom test worker",
        leafExt("clientAuth", "DNS:loom-worker"),
      ),
    ]);
    const caCert = await Deno.readTextFile(`${dir}/ca.pem`);
    const remove = async (): Promise<void> => {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    };
    return {
      dir,
      ca: { cert: caCert, certPath: `${dir}/ca.pem` },
      server,
      client,
      remove,
      [Symbol.asyncDispose]: remove,
    };
  } catch (err) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw err;
  }
}

/**
 * Mints another client certificate (EKU clientAuth, common name `name`)
 * signed by the fixtures' CA, into the fixtures' directory.
 *
 * @param tls Fixtures from {@link createTlsFixtures}.
 * @param name File name stem and common name.
 * @returns The new identity.
 *
 * @example
 * ```ts ignore
 * import { createTlsFixtures, mintClientIdentity } from "./tls_mint.ts";
 * await using tls = await createTlsFixtures();
 * const other = await mintClientIdentity(tls, "worker-2");
 * console.assert(other.fingerprint !== tls.client.fingerprint);
 * ```
 */
export function mintClientIdentity(
  tls: TlsFixtures,
  name: string,
): Promise<TlsIdentity> {
  return leaf(tls.dir, name, name, leafExt("clientAuth"));
}
