/**
 * The worker's `caCerts` pin the router's CA exclusively: a router whose
 * certificate comes from another CA that the runtime trusts anyway (here a
 * CA added to Deno's root store with `--cert`, standing in for a public CA)
 * is refused, although `Deno.connectTls` with the same `caCerts` accepts it.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import type { DetailedPeerCertificate } from "node:tls";
import { formatAddress } from "./address.ts";
import { listen } from "./listen.ts";
import { createLogger } from "./log.ts";
import { createTlsFixtures } from "./tls_mint.ts";
import { chainsToPinnedCa, pinnedCas } from "./tls_pin.ts";

/** Run in a child process whose root store holds the other CA. */
const CHILD = `
import { connect } from ${JSON.stringify(import.meta.resolve("./connect.ts"))};
const [port, pinnedPath] = Deno.args;
const ca = Deno.readTextFileSync(pinnedPath);
try {
  const conn = await Deno.connectTls({ hostname: "localhost", port: Number(port), caCerts: [ca] });
  await conn.handshake();
  conn.close();
  console.log("connectTls accepted");
} catch {
  console.log("connectTls refused");
}
try {
  const conn = await connect("tcp+tls:localhost:" + port, { shardId: 0, tls: { caCerts: ca } });
  await conn.close();
  console.log("connect accepted");
} catch (err) {
  console.log("connect refused " + err.code);
}
`;

Deno.test("tls: the worker pins its CA certificates, whatever else the runtime trusts", async () => {
  await using pinned = await createTlsFixtures({ caName: "pinned CA" });
  await using other = await createTlsFixtures({ caName: "other CA" });
  const dir = await Deno.makeTempDir({ prefix: "loom-pin-" });
  try {
    await using listener = listen("tcp+tls:127.0.0.1:0", {
      tls: { cert: other.server.cert, key: other.server.key },
      logger: createLogger({ level: "error" }),
    });
    const address = formatAddress(await listener.ready);
    const port = address.slice(address.lastIndexOf(":") + 1);
    const script = `${dir}/child.ts`;
    await Deno.writeTextFile(script, CHILD);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--no-prompt",
        "--allow-all",
        "--cert",
        other.ca.certPath,
        script,
        port,
        pinned.ca.certPath,
      ],
      stdout: "piped",
      stderr: "null",
    }).output();
    const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
    // The runtime trusts the other CA (what a public CA would be)...
    assert.equal(lines[0], "connectTls accepted");
    // ...but a worker pinned to its own CA refuses that router.
    assert.equal(lines[1], "connect refused io_error");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A peer chain as `getPeerCertificate(true)` links it. */
function chain(...pems: string[]): DetailedPeerCertificate {
  const nodes = pems.map((pem) =>
    ({ raw: new X509Certificate(pem).raw }) as DetailedPeerCertificate
  );
  nodes.forEach((n, i) => n.issuerCertificate = nodes[i + 1] ?? n);
  return nodes[0];
}

Deno.test("chainsToPinnedCa: a chain is anchored only by a CA that signs it", async () => {
  await using a = await createTlsFixtures({ caName: "CA a" });
  await using b = await createTlsFixtures({ caName: "CA b" });
  const [caA] = pinnedCas([a.ca.cert]);
  const both = pinnedCas([`${a.ca.cert}\n${b.ca.cert}`]);
  assert.equal(both.length, 2);
  assert.ok(chainsToPinnedCa(chain(a.server.cert), [caA]));
  assert.ok(chainsToPinnedCa(chain(a.server.cert, a.ca.cert), [caA]));
  assert.ok(chainsToPinnedCa(chain(a.ca.cert), [caA])); // the CA itself
  assert.ok(!chainsToPinnedCa(chain(b.server.cert, b.ca.cert), [caA]));
  assert.ok(chainsToPinnedCa(chain(b.server.cert, b.ca.cert), both));
  // A pinned CA appended to a chain it did not sign does not anchor it.
  assert.ok(!chainsToPinnedCa(chain(b.server.cert, a.ca.cert), [caA]));
  assert.throws(() => pinnedCas([""]), TypeError);
  assert.throws(
    () =>
      pinnedCas([
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
      ]),
    TypeError,
  );
});
