/**
 * The TLS material of one run: a throwaway CA and server certificate for
 * `tls`, plus a client identity for `mtls` whose certificate and key are
 * copied into the run directory (mode 0600) for `{client_cert}` and
 * `{client_key}`.
 *
 * I/O lives here: files and the `openssl` tool (through `lib/net/`).
 *
 * @module
 */

import { createTlsFixtures } from "../../lib/net/tls_mint.ts";
import type { TlsMaterial, Transport } from "./harness.ts";

/** What {@link prepareTlsMaterial} returns. */
export interface RunTlsMaterial {
  /** The material for the harness; undefined for `unix` and `tcp`. */
  material: TlsMaterial | undefined;
  /** Deletes the files it created outside the run directory. */
  remove(): Promise<void>;
}

async function writePrivate(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(path, text, { mode: 0o600 });
  // The mode above is subject to the umask and ignored for existing files.
  await Deno.chmod(path, 0o600);
}

/**
 * Mints the TLS material `transport` needs.
 *
 * @param transport The run's transport.
 * @param runDir The run's private directory (receives the client files).
 * @returns The material and a cleanup function.
 *
 * @example
 * ```ts
 * import { prepareTlsMaterial } from "./tls_material.ts";
 * const none = await prepareTlsMaterial("unix", "/nonexistent");
 * console.assert(none.material === undefined);
 * await none.remove();
 * ```
 */
export async function prepareTlsMaterial(
  transport: Transport,
  runDir: string,
): Promise<RunTlsMaterial> {
  if (transport !== "tls" && transport !== "mtls") {
    return { material: undefined, remove: () => Promise.resolve() };
  }
  const fixtures = await createTlsFixtures();
  try {
    const material: TlsMaterial = {
      cert: fixtures.server.cert,
      key: fixtures.server.key,
      caCertPath: fixtures.ca.certPath,
    };
    if (transport === "mtls") {
      const dir = `${runDir}/client-identity`;
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
      const certPath = `${dir}/client.pem`;
      const keyPath = `${dir}/client.key`;
      await writePrivate(certPath, fixtures.client.cert);
      await writePrivate(keyPath, fixtures.client.key);
      material.clientCa = fixtures.ca.cert;
      material.client = {
        certPath,
        keyPath,
        fingerprint: fixtures.client.fingerprint,
      };
    }
    return { material, remove: () => fixtures.remove() };
  } catch (err) {
    await fixtures.remove();
    throw err;
  }
}
