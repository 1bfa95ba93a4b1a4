/**
 * Helpers for the router tests (not exported from the package).
 *
 * @module
 */

import { dirname, join } from "node:path";
import type { TlsFixtures, TlsIdentity } from "./tls_fixtures.ts";
import { certificateFingerprint } from "./tls_fixtures.ts";

const here = (rel: string): string =>
  decodeURIComponent(new URL(rel, import.meta.url).pathname);

/** The fixture worker as a command template. */
export function fixtureCommand(): string[] {
  return [
    Deno.execPath(),
    "run",
    "--quiet",
    "-A",
    "--config",
    here("../../deno.json"),
    here("./_fixture_worker.ts"),
    "--connect",
    "{connect}",
    "--shard-id",
    "{shard}",
    "--cache-dir",
    "{cache_dir}",
    "--auth-token-env",
    "{token_env}",
  ];
}

/** A temp directory with files written from a `relative path -> text` map. */
export interface TempWorkspace extends AsyncDisposable {
  dir: string;
  /** Absolute path of a relative one. */
  path(rel: string): string;
  /** Writes (or overwrites) a file. */
  write(rel: string, text: string | Uint8Array): Promise<void>;
}

/** Creates a {@link TempWorkspace}. */
export async function tempWorkspace(
  files: Record<string, string> = {},
): Promise<TempWorkspace> {
  const dir = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "loom-router-test-" }),
  );
  const ws: TempWorkspace = {
    dir,
    path: (rel) => join(dir, rel),
    async write(rel, text) {
      const p = join(dir, rel);
      await Deno.mkdir(dirname(p), { recursive: true });
      if (typeof text === "string") await Deno.writeTextFile(p, text);
      else await Deno.writeFile(p, text);
    },
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
  for (const [rel, text] of Object.entries(files)) await ws.write(rel, text);
  return ws;
}

/** Polls `check` every 10 ms until it returns a value other than undefined/false. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (true) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Sleeps. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Start times (ms) recorded by the fixture worker for a shard. */
export async function fixtureAttempts(
  cacheDir: string,
  shard: number,
): Promise<number[]> {
  try {
    return (await Deno.readTextFile(`${cacheDir}/attempts-shard${shard}.log`))
      .split("\n").filter((l) => l).map(Number);
  } catch {
    return [];
  }
}

/** Whether a file exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Mints another client certificate signed by the fixtures' CA. */
export async function mintClient(
  tls: TlsFixtures,
  name: string,
): Promise<TlsIdentity> {
  const run = async (args: string[]): Promise<void> => {
    const out = await new Deno.Command("openssl", {
      args,
      cwd: tls.dir,
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(
        `openssl failed: ${new TextDecoder().decode(out.stderr)}`,
      );
    }
  };
  await Deno.writeTextFile(
    `${tls.dir}/${name}.ext`,
    "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
  );
  await run([
    "req",
    "-new",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    `/CN=${name}`,
  ]);
  await run([
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-set_serial",
    String(Math.floor(Math.random() * 1e9) + 1000),
    "-days",
    "2",
    "-sha256",
    "-extfile",
    `${name}.ext`,
    "-out",
    `${name}.pem`,
  ]);
  const cert = await Deno.readTextFile(`${tls.dir}/${name}.pem`);
  return {
    cert,
    key: await Deno.readTextFile(`${tls.dir}/${name}.key`),
    certPath: `${tls.dir}/${name}.pem`,
    keyPath: `${tls.dir}/${name}.key`,
    fingerprint: certificateFingerprint(cert),
  };
}
