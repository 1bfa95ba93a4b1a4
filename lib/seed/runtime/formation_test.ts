import assert from "node:assert/strict";
import * as tls from "node:tls";
import { computeProof, formatToken, sha256Digest } from "../auth.ts";
import { encodeFrameHeader } from "../frame.ts";
import { isSeedError } from "../errors.ts";
import type { SeedMessage } from "../messages.ts";
import { SeedNode } from "./seed_node.ts";
import { createCsr, generateNodeKeys } from "./certs.ts";
import { type ClusterMember, joinCluster } from "./joiner.ts";
import {
  closeAll,
  FAST,
  join,
  memoryLogger,
  rawClient,
  startSeed,
  type TestSeed,
  waitFor,
} from "./_test_util.ts";
import { generateToken, resolveSeedToken } from "./token.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

async function rejectCodeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return isSeedError(e) ? (e.rejectCode ?? e.code) : String(e);
  }
  return undefined;
}

Deno.test({
  name: "test_seed_bind: a seed on port 0 gets a non-zero port",
  ...opts,
  fn: async () => {
    const s = await startSeed({ expectedWorldSize: 1 });
    assert.ok(s.seed.address.port > 0);
    await closeAll(s, []);
  },
});

Deno.test({
  name:
    "formation_assigns_dense_ranks + welcome_peer_table_sorted_complete (4 joiners)",
  ...opts,
  fn: async () => {
    const s = await startSeed({ expectedWorldSize: 4 });
    const members = await Promise.all([0, 1, 2, 3].map(() => join(s)));
    try {
      assert.deepEqual(members.map((m) => m.rank).sort(), [0, 1, 2, 3]);
      for (const m of members) {
        assert.equal(m.worldSize, 4);
        assert.equal(m.generation, 1);
        assert.deepEqual(m.peers.map((p) => p.rank), [0, 1, 2, 3]);
        assert.deepEqual(
          m.peers.map((p) => p.addr),
          [...members].sort((a, b) => a.rank - b.rank).map((x) => x.address),
        );
        assert.equal(m.caCertPem, members[0].caCertPem);
        assert.ok(m.leafCertPem.includes("CERTIFICATE"));
      }
      assert.equal(new Set(members.map((m) => m.leafCertPem)).size, 4);
      await Promise.all(members.map((m) => m.whenMeshReady()));
      const formed = await s.seed.formed;
      assert.equal(formed.peers.length, 4);
    } finally {
      await closeAll(s, members);
    }
  },
});

Deno.test({
  name:
    "formation_timeout_reports_counts: 2 of 3 joined fails with joined=2, expected=3",
  ...opts,
  fn: async () => {
    const s = await startSeed({
      expectedWorldSize: 3,
      formationTimeoutMs: 1200,
    });
    const joins = [join(s), join(s)].map((p) => p.catch((e) => e));
    let err: unknown;
    try {
      await s.seed.formed;
    } catch (e) {
      err = e;
    }
    assert.ok(isSeedError(err, "formation_timeout"));
    assert.equal(err.joined, 2);
    assert.equal(err.expected, 3);
    for (const r of await Promise.all(joins)) {
      assert.ok(isSeedError(r), "joiners are told, not left hanging");
    }
    await closeAll(s, []);
  },
});

Deno.test({
  name:
    "bad_token / version_mismatch / non_hello_first: typed Rejects, formation continues",
  ...opts,
  fn: async () => {
    const s = await startSeed({ expectedWorldSize: 2 });
    const good1 = join(s);
    // A joiner with another token sees that the seed cannot prove its token
    // and stops before sending anything; a client that answers anyway with
    // a wrong proof gets Reject(auth).
    const wrong = await rejectCodeOf(join(s, { token: generateToken() }));
    assert.equal(wrong, "auth_failed");
    const liar = await rawClient(s.addr);
    liar.send({
      type: "hello",
      version: 1,
      nodeId: "liar",
      listenAddr: "127.0.0.1:9",
      nonce: new Uint8Array(32),
    });
    assert.equal((await liar.next())?.type, "challenge");
    liar.send({
      type: "auth",
      proof: new Uint8Array(32),
      csr: new Uint8Array([1]),
    });
    assert.equal(((await liar.next()) as { code: string }).code, "auth");
    await liar.closed;
    let versionErr: unknown;
    try {
      await join(s, { version: 2 });
    } catch (e) {
      versionErr = e;
    }
    assert.ok(isSeedError(versionErr, "rejected"));
    assert.equal(versionErr.rejectCode, "version");
    assert.deepEqual(versionErr.supportedVersions, [1]);
    const raw = await rawClient(s.addr);
    raw.send({ type: "heartbeat", generation: 0, seq: 0 });
    const r = await raw.next();
    assert.equal(r?.type, "reject");
    assert.equal((r as { code: string }).code, "malformed");
    await raw.closed;
    const good2 = join(s);
    const members = await Promise.all([good1, good2]);
    assert.deepEqual(members.map((m) => m.rank).sort(), [0, 1]);
    await closeAll(s, members);
  },
});

Deno.test({
  name:
    "silent_client_times_out, byte-at-a-time Hello, oversize Hello (pre-auth cap)",
  ...opts,
  fn: async () => {
    const s = await startSeed({
      expectedWorldSize: 1,
      handshakeTimeoutMs: 700,
    });
    const silent = await rawClient(s.addr);
    const t0 = Date.now();
    // Byte-at-a-time Hello still gets a Challenge.
    const slow = await rawClient(s.addr);
    const hello: SeedMessage = {
      type: "hello",
      version: 1,
      nodeId: "slow",
      listenAddr: "127.0.0.1:9",
      nonce: new Uint8Array(32),
    };
    const { encodeSeedMessage } = await import("../messages.ts");
    for (const b of encodeSeedMessage(hello)) {
      slow.write(new Uint8Array([b]));
      await new Promise((r) => setTimeout(r, 1));
    }
    assert.equal((await slow.next())?.type, "challenge");
    // Oversize: the header alone is enough to be refused.
    const big = await rawClient(s.addr);
    big.write(encodeFrameHeader({ length: 1 << 30, priority: 1, type: 1 }));
    const r = await big.next();
    assert.equal((r as { code: string } | undefined)?.code, "malformed");
    await big.closed;
    // Meanwhile a good joiner gets in.
    const m = await join(s);
    assert.equal(m.rank, 0);
    const sr = await silent.next(3000);
    assert.equal((sr as { code: string } | undefined)?.code, "timeout");
    await silent.closed;
    assert.ok(Date.now() - t0 >= 600);
    slow.close();
    await closeAll(s, [m]);
  },
});

Deno.test({
  name: "200 concurrent junk connections while good joiners still get in",
  ...opts,
  fn: async () => {
    const s = await startSeed({
      expectedWorldSize: 3,
      handshakeTimeoutMs: 1000,
      maxPendingHandshakes: 512,
    });
    const junk: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      junk.push((async () => {
        const c = await rawClient(s.addr).catch(() => undefined);
        if (c === undefined) return;
        if (i % 3 === 0) c.write(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]));
        else if (i % 3 === 1) {
          c.write(encodeFrameHeader({ length: 1 << 20, priority: 0, type: 1 }));
        }
        await c.next(3000);
        c.close();
      })());
    }
    const members = await Promise.all([join(s), join(s), join(s)]);
    assert.deepEqual(members.map((m) => m.rank).sort(), [0, 1, 2]);
    await Promise.all(junk);
    await closeAll(s, members);
  },
});

Deno.test({
  name:
    "no_auth_only_on_loopback: an insecure seed on a non-loopback address throws",
  ...opts,
  fn: async () => {
    await assert.rejects(
      SeedNode.bind("0.0.0.0:0", {
        expectedWorldSize: 1,
        insecureNoAuth: true,
      }),
      (e: unknown) => isSeedError(e, "invalid_option"),
    );
    await assert.rejects(
      SeedNode.bind("127.0.0.1:0", { expectedWorldSize: 1 }),
      (e: unknown) => isSeedError(e, "invalid_option"),
    );
    await assert.rejects(
      joinCluster({
        seed: "10.0.0.1:1",
        insecureNoAuth: true,
        listen: "127.0.0.1:0",
      }),
      (e: unknown) => isSeedError(e, "invalid_option"),
    );
    const lines: string[] = [];
    const s = await startSeed({
      expectedWorldSize: 1,
      insecureNoAuth: true,
      logger: memoryLogger(lines, "seed"),
    });
    assert.ok(lines.some((l) => l.includes("seed_insecure_mode")), "says so");
    const m = await join(s, { token: undefined, insecureNoAuth: true });
    assert.equal(m.rank, 0);
    await closeAll(s, [m]);
  },
});

Deno.test({
  name:
    "auto_token_random_and_usable: generated tokens differ; the printed form gets a joiner in",
  ...opts,
  fn: async () => {
    const saved = Deno.env.get("LOOM_CLUSTER_TOKEN");
    Deno.env.delete("LOOM_CLUSTER_TOKEN");
    try {
      const a = await resolveSeedToken(undefined);
      const b = await resolveSeedToken(undefined);
      assert.equal(a.source, "generated");
      assert.equal(a.token.length, 32);
      assert.notDeepEqual(a.token, b.token);
      Deno.env.set("LOOM_CLUSTER_TOKEN", formatToken(a.token));
      const c = await resolveSeedToken(undefined);
      assert.equal(c.source, "env");
      assert.deepEqual(c.token, a.token);
      const s = await startSeed({ expectedWorldSize: 1, token: a.token });
      const { resolveJoinToken } = await import("./token.ts");
      const m = await join(s, { token: await resolveJoinToken(undefined) });
      assert.equal(m.rank, 0);
      await closeAll(s, [m]);
    } finally {
      if (saved === undefined) Deno.env.delete("LOOM_CLUSTER_TOKEN");
      else Deno.env.set("LOOM_CLUSTER_TOKEN", saved);
    }
  },
});

Deno.test({
  name:
    "private_key_never_on_wire + token canary: no key, no token in any frame, log line or error",
  ...opts,
  fn: async () => {
    const frames: Uint8Array[] = [];
    const lines: string[] = [];
    const tap = (_d: string, b: Uint8Array) => frames.push(b.slice());
    const token = generateToken();
    const printed = formatToken(token);
    const s = await startSeed({
      expectedWorldSize: 3,
      token,
      tap,
      logger: memoryLogger(lines, "seed"),
    });
    const members: ClusterMember[] = await Promise.all(
      [0, 1, 2].map(() =>
        join(s, { tap, logger: memoryLogger(lines, "join") })
      ),
    );
    await Promise.all(members.map((m) => m.whenMeshReady()));
    const errors: string[] = [];
    try {
      await join(s, {
        token: generateToken(),
        logger: memoryLogger(lines, "join"),
      });
    } catch (e) {
      errors.push(String(e), JSON.stringify(e), (e as Error).stack ?? "");
    }
    const hay = frames.map((f) =>
      [...f].map((b) => b.toString(16).padStart(2, "0")).join("")
    );
    const hex = (u: Uint8Array) =>
      [...u].map((b) => b.toString(16).padStart(2, "0")).join("");
    const contains = (needle: Uint8Array) =>
      hay.some((h) => h.includes(hex(needle)));
    assert.ok(frames.length > 20, "frames were tapped");
    for (const m of members) {
      // The private scalar of each node's key (PKCS#8, P-256: 32 bytes after 04 20).
      const der = Uint8Array.from(
        atob(m.privateKeyPem.replace(/-----[^-]+-----|\s/g, "")),
        (c) => c.charCodeAt(0),
      );
      const i = der.findIndex((b, k) =>
        b === 0x04 && der[k + 1] === 0x20 && k > 20
      );
      const d = der.subarray(i + 2, i + 34);
      assert.equal(d.length, 32);
      assert.ok(!contains(d), "private scalar never on the wire");
      assert.ok(!contains(der), "PKCS#8 never on the wire");
    }
    assert.ok(!contains(token), "raw token never on the wire");
    assert.ok(
      !contains(new TextEncoder().encode(printed)),
      "printed token never on the wire",
    );
    const b64 = printed.slice("loomtok1.".length);
    for (const text of [...lines, ...errors]) {
      assert.ok(!text.includes(b64), "token never in a log line or error");
      assert.ok(
        !text.includes(hex(token)),
        "token (hex) never in a log line or error",
      );
    }
    assert.ok(lines.length > 0);
    await closeAll(s, members);
  },
});

Deno.test({
  name: "man in the middle without the token learns nothing usable",
  ...opts,
  fn: async () => {
    const s = await startSeed({ expectedWorldSize: 1 });
    // The MITM terminates TLS with its own certificate and relays frames.
    const { createClusterCa } = await import("./certs.ts");
    const evil = await (await createClusterCa({ clusterId: "evil" }))
      .issueLocal("mitm", "127.0.0.1:1");
    const seen: Uint8Array[] = [];
    const server = tls.createServer(
      { cert: evil.cert, key: evil.key },
      (client) => {
        const upstream = tls.connect({
          host: "127.0.0.1",
          port: s.seed.address.port,
          rejectUnauthorized: false,
        });
        client.on("data", (d: Uint8Array) => {
          seen.push(d);
          upstream.write(d);
        });
        upstream.on("data", (d: Uint8Array) => {
          seen.push(d);
          client.write(d);
        });
        client.on("close", () => upstream.destroy());
        upstream.on("close", () => client.destroy());
        client.on("error", () => {});
        upstream.on("error", () => {});
      },
    );
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    let err: unknown;
    try {
      await joinCluster({
        seed: `127.0.0.1:${port}`,
        token: s.token,
        listen: "127.0.0.1:0",
        ...FAST,
      });
    } catch (e) {
      err = e;
    }
    assert.ok(
      isSeedError(err, "auth_failed"),
      "the joiner detects the impostor",
    );
    const all = seen.map((d) =>
      [...d].map((b) => b.toString(16).padStart(2, "0")).join("")
    ).join("");
    assert.ok(
      !all.includes(
        [...s.token].map((b) => b.toString(16).padStart(2, "0")).join(""),
      ),
    );
    // A CSR (type byte 3, auth) never went through the MITM.
    assert.ok(
      !seen.some((d) => d.length >= 8 && d[5] === 3),
      "no Auth/CSR relayed",
    );
    // And the MITM cannot finish a handshake itself with what it saw.
    const raw = await rawClient(s.addr);
    raw.send({
      type: "hello",
      version: 1,
      nodeId: "mitm",
      listenAddr: "127.0.0.1:9",
      nonce: new Uint8Array(32),
    });
    const ch = await raw.next() as Extract<SeedMessage, { type: "challenge" }>;
    const keys = await generateNodeKeys();
    raw.send({
      type: "auth",
      proof: computeProof(generateToken(), "joiner", {
        binding: sha256Digest(raw.serverCert),
        joinerNonce: new Uint8Array(32),
        seedNonce: ch.nonce,
        nodeId: "mitm",
      }),
      csr: await createCsr(keys, "mitm"),
    });
    assert.equal(((await raw.next()) as { code: string }).code, "auth");
    assert.equal(s.seed.snapshot.pending.length, 0);
    server.close();
    await closeAll(s, []);
  },
});

Deno.test({
  name:
    "accept_loop_stops_on_close: close ends everything quickly; new connections are refused",
  ...opts,
  fn: async () => {
    const s: TestSeed = await startSeed({ expectedWorldSize: 2 });
    const m = join(s).catch((e) => e);
    await waitFor(
      () => s.seed.snapshot.pending.length === 1,
      5000,
      "admission",
    );
    const t0 = Date.now();
    await s.seed.close();
    assert.ok(Date.now() - t0 < 5000);
    assert.ok(isSeedError(await m), "waiting joiner is told");
    await assert.rejects(rawClient(s.addr));
    await assert.rejects(
      s.seed.formed,
      (e: unknown) => isSeedError(e, "closed"),
    );
  },
});

Deno.test({
  name:
    "hostile joiners in the elastic phase: wrong token, wrong version, silent, byte at a time, oversize, junk; a good joiner still gets in",
  ...opts,
  fn: async () => {
    const s = await startSeed({
      expectedWorldSize: 1,
      maxWorldSize: 3,
      handshakeTimeoutMs: 800,
    });
    const members = [await join(s)];
    try {
      assert.equal(
        await rejectCodeOf(join(s, { token: generateToken() })),
        "auth_failed",
      );
      assert.equal(await rejectCodeOf(join(s, { version: 7 })), "version");
      const silent = await rawClient(s.addr);
      const big = await rawClient(s.addr);
      big.write(encodeFrameHeader({ length: 1 << 28, priority: 1, type: 1 }));
      const junk = await Promise.all(
        Array.from({ length: 30 }, () => rawClient(s.addr)),
      );
      junk.forEach((c, i) => c.write(new Uint8Array([i, 1, 2, 3, 4, 5, 6, 7])));
      const liar = await rawClient(s.addr);
      const { encodeSeedMessage } = await import("../messages.ts");
      for (
        const b of encodeSeedMessage({
          type: "hello",
          version: 1,
          nodeId: "liar",
          listenAddr: "127.0.0.1:9",
          nonce: new Uint8Array(32),
        })
      ) liar.write(new Uint8Array([b]));
      assert.equal((await liar.next())?.type, "challenge");
      liar.send({
        type: "auth",
        proof: new Uint8Array(32),
        csr: new Uint8Array([1]),
      });
      assert.equal(((await liar.next()) as { code: string }).code, "auth");
      const good = await join(s);
      members.push(good);
      assert.equal(good.rank, 1);
      assert.equal(good.worldSize, 2);
      assert.equal(((await big.next()) as { code: string }).code, "malformed");
      assert.equal(
        ((await silent.next(3000)) as { code: string } | undefined)?.code,
        "timeout",
      );
      for (const c of junk) c.close();
      assert.equal(s.seed.snapshot.members.length, 2);
      assert.equal(s.seed.snapshot.pending.length, 0);
    } finally {
      await closeAll(s, members);
    }
  },
});
