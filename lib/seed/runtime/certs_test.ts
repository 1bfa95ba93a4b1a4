import assert from "node:assert/strict";
import {
  createClusterCa,
  createCsr,
  derToPem,
  describeCertificate,
  generateNodeKeys,
  verifyIssuedBy,
} from "./certs.ts";
import { isSeedError } from "../errors.ts";

Deno.test("ca_and_leaf_properties: P-256 CA, CA:TRUE, bounded validity; leaf names the node and chains", async () => {
  const ca = await createClusterCa({
    clusterId: "c1",
    validityMs: 3600_000,
    leafValidityMs: 600_000,
  });
  const caFacts = describeCertificate(ca.certDer);
  assert.ok(caFacts.isCa);
  assert.equal(caFacts.curve, "P-256");
  assert.ok(caFacts.notAfter.getTime() - Date.now() <= 3600_000 + 1000);
  const keys = await generateNodeKeys();
  const leaf = await ca.issueLeaf({
    csr: await createCsr(keys, "node-a"),
    nodeId: "node-a",
    listenAddr: "127.0.0.1:7001",
  });
  const f = describeCertificate(leaf);
  assert.ok(!f.isCa);
  assert.equal(f.curve, "P-256");
  assert.deepEqual(f.uris, ["spiffe://loom-c1/node/node-a"]);
  assert.deepEqual(f.hosts, ["127.0.0.1"]);
  assert.deepEqual(f.extendedKeyUsages.sort(), [
    "1.3.6.1.5.5.7.3.1",
    "1.3.6.1.5.5.7.3.2",
  ]);
  assert.ok(f.notAfter.getTime() - Date.now() <= 600_000 + 1000);
  assert.ok(await verifyIssuedBy(leaf, ca.certDer));
  const other = await createClusterCa({ clusterId: "c2" });
  assert.ok(!(await verifyIssuedBy(leaf, other.certDer)));
  const dns = await ca.issueLeaf({
    csr: await createCsr(keys, "node-b"),
    nodeId: "node-b",
    listenAddr: "node-b.example:7001",
  });
  assert.deepEqual(describeCertificate(dns).hosts, ["node-b.example"]);
});

Deno.test("certs: a leaf never outlives its CA; bad CSRs are refused", async () => {
  const ca = await createClusterCa({
    clusterId: "c1",
    validityMs: 60_000,
    leafValidityMs: 3600_000,
  });
  const leaf = await ca.issueLeaf({
    csr: await createCsr(await generateNodeKeys(), "n"),
    nodeId: "n",
  });
  assert.ok(
    describeCertificate(leaf).notAfter.getTime() <= ca.notAfter.getTime(),
  );
  await assert.rejects(
    ca.issueLeaf({ csr: new Uint8Array([1, 2, 3]), nodeId: "n" }),
    (e: unknown) => isSeedError(e, "certificate"),
  );
  const csr = await createCsr(await generateNodeKeys(), "n");
  csr[csr.length - 5] ^= 0xff; // break the signature
  await assert.rejects(
    ca.issueLeaf({ csr, nodeId: "n" }),
    (e: unknown) => isSeedError(e, "certificate"),
  );
});

Deno.test({
  name: "certs: openssl verify accepts a leaf against the cluster CA",
  ignore: !(await Deno.stat("/usr/bin/openssl").then(() => true, () => false)),
  fn: async () => {
    const ca = await createClusterCa({ clusterId: "c1" });
    const leaf = await ca.issueLeaf({
      csr: await createCsr(await generateNodeKeys(), "n1"),
      nodeId: "n1",
      listenAddr: "127.0.0.1:1",
    });
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/ca.pem`, ca.certPem);
      await Deno.writeTextFile(
        `${dir}/leaf.pem`,
        derToPem(leaf, "CERTIFICATE"),
      );
      const out = await new Deno.Command("openssl", {
        args: [
          "verify",
          "-CAfile",
          `${dir}/ca.pem`,
          "-purpose",
          "sslclient",
          `${dir}/leaf.pem`,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
