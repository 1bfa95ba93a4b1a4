import assert from "node:assert/strict";
import { createTlsFixtures, type TlsFixtures } from "../../lib/net/tls_mint.ts";
import { openMtlsListener } from "./listeners.ts";
import { prepareTlsMaterial } from "./tls_material.ts";

/** An mtls listener with the fixtures' server identity and CA. */
function openFor(tls: TlsFixtures): ReturnType<typeof openMtlsListener> {
  return openMtlsListener({
    cert: tls.server.cert,
    key: tls.server.key,
    clientCa: tls.ca.cert,
  });
}

function port(connect: string): number {
  return Number(connect.split(":").at(-1));
}

Deno.test("the mtls listener hands out verified streams with the client fingerprint", async () => {
  await using tls = await createTlsFixtures();
  const listener = await openFor(tls);
  try {
    assert.match(listener.connect, /^tcp\+tls:localhost:\d+$/);
    const client = await Deno.connectTls({
      hostname: "localhost",
      port: port(listener.connect),
      caCerts: [tls.ca.cert],
      cert: tls.client.cert,
      key: tls.client.key,
    });
    try {
      const { stream, peerFingerprint } = await listener.accept();
      assert.equal(peerFingerprint, tls.client.fingerprint);
      await client.write(new TextEncoder().encode("ping"));
      const buf = new Uint8Array(16);
      const n = await stream.read(buf);
      assert.equal(new TextDecoder().decode(buf.subarray(0, n!)), "ping");
    } finally {
      client.close();
    }
  } finally {
    await listener.close();
  }
  await assert.rejects(listener.accept());
});

Deno.test("the mtls listener refuses a client without a certificate", async () => {
  await using tls = await createTlsFixtures();
  const listener = await openFor(tls);
  try {
    const pending = listener.accept();
    pending.catch(() => {});
    const client = await Deno.connectTls({
      hostname: "localhost",
      port: port(listener.connect),
      caCerts: [tls.ca.cert],
    });
    try {
      // TLS 1.3: the refusal shows on the client's first read.
      await client.write(new Uint8Array([1, 2, 3])).catch(() => 0);
      const got = await client.read(new Uint8Array(16)).catch(() => null);
      assert.equal(got, null);
    } finally {
      client.close();
    }
    for (let i = 0; i < 100 && listener.failedHandshakes.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(listener.failedHandshakes.length, 1);
    await listener.close();
    await assert.rejects(pending);
  } finally {
    await listener.close();
  }
});

Deno.test("prepareTlsMaterial writes the client identity 0600 into the run dir", async () => {
  const runDir = await Deno.makeTempDir({ prefix: "loom-conf-tls-" });
  try {
    const none = await prepareTlsMaterial("tcp", runDir);
    assert.equal(none.material, undefined);
    const tls = await prepareTlsMaterial("tls", runDir);
    try {
      assert.equal(tls.material!.client, undefined);
      assert.equal(tls.material!.clientCa, undefined);
    } finally {
      await tls.remove();
    }
    const mtls = await prepareTlsMaterial("mtls", runDir);
    try {
      const client = mtls.material!.client!;
      assert.ok(client.certPath.startsWith(`${runDir}/`));
      assert.ok(client.keyPath.startsWith(`${runDir}/`));
      for (const path of [client.certPath, client.keyPath]) {
        assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
      }
      assert.match(client.fingerprint, /^[0-9a-f]{64}$/);
      assert.match(mtls.material!.clientCa!, /BEGIN CERTIFICATE/);
      assert.match(await Deno.readTextFile(client.keyPath), /PRIVATE KEY/);
    } finally {
      await mtls.remove();
    }
  } finally {
    await Deno.remove(runDir, { recursive: true });
  }
});
