import assert from "node:assert/strict";
import * as tls from "node:tls";
import { encodeSeedMessage } from "../messages.ts";
import { isSeedError } from "../errors.ts";
import {
  createClusterCa,
  createCsr,
  generateNodeKeys,
  selfSignedPem,
} from "./certs.ts";
import type { ClusterMember, MemberEvent } from "./joiner.ts";
import { closeAll, join, rawClient, startSeed, waitFor } from "./_test_util.ts";
import type { SeedNodeEvent } from "../seed_machine.ts";
import { computeProof, sha256Digest } from "../auth.ts";
import type { SeedMessage } from "../messages.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
/** For tests about ranks, not health: 50 joiners in one process stall its event loop. */
const slow = { heartbeatTimeoutMs: 30_000, handshakeTimeoutMs: 30_000 };

function events(m: ClusterMember): MemberEvent[] {
  const list: MemberEvent[] = [];
  m.on((e) => list.push(e));
  return list;
}

/** Connects to a member's mesh listener presenting `cert`/`key` and a mesh_hello. */
async function meshProbe(
  target: ClusterMember,
  cred: { cert?: string; key?: string },
  hello?: SeedMessage,
): Promise<"refused" | "accepted"> {
  const [host, port] = [
    target.address.split(":")[0],
    Number(target.address.split(":")[1]),
  ];
  const socket = tls.connect({
    host,
    port,
    ca: [target.caCertPem],
    cert: cred.cert,
    key: cred.key,
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
  });
  socket.on("error", () => {});
  const result = await new Promise<"refused" | "accepted">((resolve) => {
    const t = setTimeout(() => resolve("accepted"), 1500);
    socket.once("close", () => {
      clearTimeout(t);
      resolve("refused");
    });
    socket.once("secureConnect", () => {
      if (hello !== undefined) socket.write(encodeSeedMessage(hello));
    });
    socket.on("data", () => {
      clearTimeout(t);
      resolve("accepted");
    });
  });
  socket.destroy();
  return result;
}

Deno.test({
  name:
    "mtls_rejects_foreign_cert + mtls_identity_matches_rank + node A's cert used by node B",
  ...opts,
  fn: async () => {
    const s = await startSeed({ expectedWorldSize: 3 });
    const members = await Promise.all([join(s), join(s), join(s)]);
    try {
      await Promise.all(members.map((m) => m.whenMeshReady()));
      const [a, b, c] = [...members].sort((x, y) => x.rank - y.rank);
      const clusterId = a.clusterId;
      const hello = (nodeId: string, rank: number): SeedMessage => ({
        type: "mesh_hello",
        clusterId,
        nodeId,
        rank,
        generation: a.generation,
        lane: "control",
      });
      // The legitimate identity is accepted (sanity check of the probe).
      assert.equal(
        await meshProbe(
          a,
          { cert: c.leafCertPem, key: c.privateKeyPem },
          hello(c.nodeId, c.rank),
        ),
        "accepted",
      );
      // No certificate, a self-signed one, one from a foreign CA: refused.
      assert.equal(await meshProbe(a, {}, hello(c.nodeId, c.rank)), "refused");
      const keys = await generateNodeKeys();
      const { privateKeyPem } = await import("./certs.ts");
      const keyPem = await privateKeyPem(keys.privateKey);
      assert.equal(
        await meshProbe(
          a,
          { cert: await selfSignedPem(keys), key: keyPem },
          hello(c.nodeId, c.rank),
        ),
        "refused",
      );
      const foreign = await createClusterCa({ clusterId });
      const forged = await foreign.issueLocal(c.nodeId, c.address);
      assert.equal(
        await meshProbe(
          a,
          { cert: forged.cert, key: forged.key },
          hello(c.nodeId, c.rank),
        ),
        "refused",
      );
      // Node c's certificate claiming node b's rank, or node b's id: refused.
      assert.equal(
        await meshProbe(
          a,
          { cert: c.leafCertPem, key: c.privateKeyPem },
          hello(c.nodeId, b.rank),
        ),
        "refused",
      );
      assert.equal(
        await meshProbe(
          a,
          { cert: c.leafCertPem, key: c.privateKeyPem },
          hello(b.nodeId, b.rank),
        ),
        "refused",
      );
      void createCsr;
    } finally {
      await closeAll(s, members);
    }
  },
});

Deno.test({
  name:
    "elastic_join_queued_until_checkpoint + checkpoint_applies_same_delta_everywhere",
  ...opts,
  fn: async () => {
    const s = await startSeed({
      expectedWorldSize: 2,
      maxWorldSize: 4,
      autoCheckpoint: false,
    });
    const members = await Promise.all([join(s), join(s)]);
    try {
      const late = join(s);
      await waitFor(
        () => s.seed.snapshot.pending.length === 1,
        5000,
        "pending join",
      );
      const snap = s.seed.snapshot;
      assert.equal(snap.pending[0].rank, 2);
      assert.equal(snap.members.length, 2);
      await new Promise((r) => setTimeout(r, 200));
      for (const m of members) {
        assert.equal(m.worldSize, 2, "unchanged until the checkpoint");
      }
      s.seed.checkpoint();
      const x = await late;
      const all = [...members, x];
      await waitFor(
        () => all.every((m) => m.generation === x.generation),
        5000,
        "same generation",
      );
      for (const m of all) {
        assert.equal(m.worldSize, 3);
        assert.deepEqual(m.peers, x.peers);
      }
      assert.equal(x.rank, 2);
      await x.whenMeshReady();
      await Promise.all(all.map((m) => m.whenMeshReady()));
      members.push(x);
    } finally {
      await closeAll(s, members);
    }
  },
});

Deno.test({
  name:
    "elastic_max_world_size: join M+1 gets Reject(full) and no rank is used up",
  ...opts,
  fn: async () => {
    const s = await startSeed({ expectedWorldSize: 1, maxWorldSize: 2 });
    const members = [await join(s)];
    try {
      members.push(await join(s));
      let err: unknown;
      try {
        await join(s);
      } catch (e) {
        err = e;
      }
      assert.ok(isSeedError(err, "rejected"));
      assert.equal(err.rejectCode, "full");
      assert.equal(s.seed.snapshot.members.length, 2);
      assert.equal(s.seed.snapshot.pending.length, 0);
      await members[1].leave();
      await waitFor(() => s.seed.snapshot.members.length === 1, 5000, "leave");
      members.push(await join(s));
      assert.equal(members[2].rank, 1, "rank 1 reused, no gap");
    } finally {
      await closeAll(s, members);
    }
  },
});

Deno.test({
  name:
    "elastic_failed_welcome_releases_rank: a joiner gone before its ack frees its rank",
  ...opts,
  fn: async () => {
    const s = await startSeed({ expectedWorldSize: 1, maxWorldSize: 3 });
    const members = [await join(s)];
    const seen: SeedNodeEvent[] = [];
    s.seed.on((e) => seen.push(e));
    try {
      const raw = await rawClient(s.addr);
      const nonce = new Uint8Array(32).fill(3);
      raw.send({
        type: "hello",
        version: 1,
        nodeId: "ghost",
        listenAddr: "127.0.0.1:9",
        nonce,
      });
      const ch = await raw.next() as Extract<
        SeedMessage,
        { type: "challenge" }
      >;
      const keys = await generateNodeKeys();
      raw.send({
        type: "auth",
        proof: computeProof(s.token, "joiner", {
          binding: sha256Digest(raw.serverCert),
          joinerNonce: nonce,
          seedNonce: ch.nonce,
          nodeId: "ghost",
        }),
        csr: await createCsr(keys, "ghost"),
      });
      let w: SeedMessage | undefined;
      do w = await raw.next(); while (w?.type === "heartbeat");
      assert.equal(w?.type, "welcome");
      assert.equal((w as { rank: number }).rank, 1);
      assert.ok(!JSON.stringify(w).includes("PRIVATE"));
      raw.close();
      await waitFor(
        () => seen.some((e) => e.type === "released"),
        5000,
        "release",
      );
      const next = await join(s);
      members.push(next);
      assert.equal(next.rank, 1);
      assert.equal(next.worldSize, 2);
    } finally {
      await closeAll(s, members);
    }
  },
});

Deno.test({
  name:
    "concurrent_joins_unique_ranks: 50 concurrent elastic joiners get unique dense ranks",
  ...opts,
  fn: async () => {
    const s = await startSeed({
      expectedWorldSize: 2,
      maxWorldSize: 60,
      checkpointDelayMs: 300,
      checkpointTimeoutMs: 20_000,
      handshakeTimeoutMs: 20_000,
      heartbeatTimeoutMs: 20_000,
    });
    const members = await Promise.all([join(s, slow), join(s, slow)]);
    try {
      const joined = await Promise.all(
        Array.from({ length: 50 }, () => join(s, slow)),
      );
      members.push(...joined);
      await waitFor(
        () =>
          members.every((m) =>
            m.worldSize === 52 && m.generation === members[0].generation
          ),
        20_000,
        "convergence",
      );
      assert.deepEqual(
        members.map((m) => m.rank).sort((a, b) => a - b),
        Array.from({ length: 52 }, (_, i) => i),
      );
    } finally {
      await closeAll(s, members);
    }
  },
});

Deno.test({
  name:
    "leave_renumbers_and_notifies: the leaver is told, survivors renumber in order",
  ...opts,
  fn: async () => {
    const s = await startSeed({ expectedWorldSize: 4 });
    const members = (await Promise.all([0, 1, 2, 3].map(() => join(s)))).sort((
      a,
      b,
    ) => a.rank - b.rank);
    try {
      const leaverEvents = events(members[1]);
      await members[1].leave();
      assert.ok(
        leaverEvents.some((e) => e.type === "removed" && e.code === "left"),
      );
      const rest = [members[0], members[2], members[3]];
      await waitFor(
        () => rest.every((m) => m.worldSize === 3),
        5000,
        "renumbering",
      );
      assert.deepEqual(rest.map((m) => m.rank), [0, 1, 2]);
      assert.deepEqual(
        rest.map((m) => m.peers.map((p) => p.nodeId)),
        rest.map(() => rest.map((m) => m.nodeId)),
      );
    } finally {
      await closeAll(s, members);
    }
  },
});

Deno.test({
  name:
    "heartbeat_not_visible_to_control_consumers: traffic and a checkpoint 3 s after the mesh came up",
  ...opts,
  fn: async () => {
    const s = await startSeed({ expectedWorldSize: 2, maxWorldSize: 3 });
    const members = (await Promise.all([join(s), join(s)])).sort((a, b) =>
      a.rank - b.rank
    );
    try {
      await Promise.all(members.map((m) => m.whenMeshReady()));
      const got: string[] = [];
      members[0].onMessage((m) =>
        got.push(`${m.lane}:${new TextDecoder().decode(m.payload)}`)
      );
      await new Promise((r) => setTimeout(r, 3000));
      members[1].send(0, new TextEncoder().encode("control-msg"), "control");
      members[1].send(0, new Uint8Array(4 << 20), "bulk");
      members[1].send(0, new TextEncoder().encode("after-bulk"), "control");
      await waitFor(() => got.length === 3, 10_000, "payloads");
      assert.deepEqual(got.filter((g) => g.startsWith("control")), [
        "control:control-msg",
        "control:after-bulk",
      ]);
      const x = await join(s);
      members.push(x);
      assert.equal(x.worldSize, 3);
    } finally {
      await closeAll(s, members);
    }
  },
});

Deno.test({
  name:
    "silent_peer_detected_by_receive_timeout: a peer that stops sending but keeps its sockets is dead within timeout + interval",
  ...opts,
  fn: async () => {
    const s = await startSeed({
      expectedWorldSize: 3,
      heartbeatIntervalMs: 100,
      heartbeatTimeoutMs: 2000, // longer than the members: their own detection is measured
    });
    const members = (await Promise.all([0, 1, 2].map(() =>
      join(s, { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 600 })
    ))).sort((a, b) =>
      a.rank - b.rank
    );
    try {
      await Promise.all(members.map((m) =>
        m.whenMeshReady()
      ));
      const e0 = events(members[0]);
      const t0 = performance.now();
      members[2].goSilent();
      await waitFor(
        () =>
          e0.some((e) =>
            e.type === "peer_dead" && e.nodeId === members[2].nodeId
          ),
        5000,
        "detection",
      );
      const elapsed = performance.now() - t0;
      // Timeout plus interval, with slack for a loaded machine (the bench measures it).
      assert.ok(elapsed <= 600 + 100 + 1500, `detected after ${elapsed} ms`);
      // The seed sees the same silence and renumbers the survivors.
      await waitFor(
        () => members[0].worldSize === 2 && members[1].worldSize === 2,
        5000,
        "renumbering",
      );
      assert.deepEqual([members[0].rank, members[1].rank], [0, 1]);
    } finally {
      await closeAll(s, members);
    }
  },
});

Deno.test({
  name:
    "recovery_requires_quorum: 2 of 3 lost blocks the rebuild; 1 of 3 lost rebuilds",
  ...opts,
  fn: async () => {
    const s = await startSeed({ expectedWorldSize: 3 });
    const seen: SeedNodeEvent[] = [];
    s.seed.on((e) => seen.push(e));
    const members = (await Promise.all([0, 1, 2].map(() => join(s)))).sort((
      a,
      b,
    ) => a.rank - b.rank);
    try {
      await members[1].close();
      await members[2].close();
      await waitFor(
        () => seen.some((e) => e.type === "no_quorum"),
        5000,
        "no_quorum",
      );
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(
        s.seed.snapshot.members.length,
        3,
        "minority does not rebuild",
      );
      assert.equal(members[0].worldSize, 3);
    } finally {
      await closeAll(s, members);
    }
    const t = await startSeed({ expectedWorldSize: 3 });
    const ms = (await Promise.all([0, 1, 2].map(() => join(t)))).sort((a, b) =>
      a.rank - b.rank
    );
    try {
      await ms[0].close();
      await waitFor(
        () => ms[1].worldSize === 2 && ms[2].worldSize === 2,
        5000,
        "majority rebuild",
      );
      assert.deepEqual([ms[1].rank, ms[2].rank], [0, 1]);
    } finally {
      await closeAll(t, ms);
    }
  },
});

Deno.test({
  name: "certificate renewal through the seed keeps the mesh working",
  ...opts,
  fn: async () => {
    const s = await startSeed({ expectedWorldSize: 2 });
    const members = (await Promise.all([join(s), join(s)])).sort((a, b) =>
      a.rank - b.rank
    );
    try {
      const before = members[0].leafCertPem;
      await members[0].renew();
      assert.notEqual(members[0].leafCertPem, before);
      await Promise.all(members.map((m) => m.whenMeshReady()));
      const got = new Promise<string>((r) =>
        members[0].onMessage((m) => r(new TextDecoder().decode(m.payload)))
      );
      members[1].send(0, new TextEncoder().encode("after renewal"));
      assert.equal(await got, "after renewal");
    } finally {
      await closeAll(s, members);
    }
  },
});
