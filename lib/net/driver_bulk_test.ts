import assert from "node:assert/strict";
import type { RpcResult } from "../wire/types.ts";
import { createTlsFixtures } from "./tls_mint.ts";
import { openPair, type TestTransport } from "./net_test_util.ts";

const ACK: RpcResult = { status: "ok", value: { type: "ack" } };

// Large uncompressed frames exercise the in-place reads of the rest of a
// frame and the reuse of written buffers (Deno sockets), or their absence
// (node:tls streams for mTLS), in both directions and with calls overlapping.
for (const transport of ["unix", "tcp", "mtls"] as const) {
  Deno.test(`${transport}: large uncompressed payloads arrive intact, 4 in flight`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "loom-bulk-" });
    const tls = transport === "mtls" ? await createTlsFixtures() : undefined;
    try {
      await using pair = await openPair(transport as TestTransport, dir, tls, {
        listen: { compression: false },
        connect: { compression: false },
      });
      const texts = [300_000, 1_100_000, 70_000, 2_500_000].map((n, i) =>
        String.fromCharCode(97 + i).repeat(n - 10) + `-${i}-end-${n}`
      );
      const seen: string[] = [];
      pair.worker.setRequestHandler((request) => {
        if (request.type === "update_file") seen.push(request.file.text);
        return ACK;
      });
      for (let round = 0; round < 3; round++) {
        // Staggered, so that frames are queued while others are written.
        const calls = [];
        for (const [i, text] of texts.entries()) {
          calls.push(pair.router.call({
            type: "update_file",
            revision: round * 10 + i + 1,
            file: { path: `F${i}.java`, text },
          }));
          if (round > 0) await new Promise((r) => setTimeout(r, round - 1));
        }
        await Promise.all(calls);
      }
      assert.equal(seen.length, 12);
      for (const text of seen) assert.ok(texts.includes(text));
      // And the other way: the worker sends large requests to the router.
      const back: string[] = [];
      pair.router.setRequestHandler((request) => {
        if (request.type === "update_file") back.push(request.file.text);
        return ACK;
      });
      await Promise.all(texts.map((text, i) =>
        pair.worker.call({
          type: "update_file",
          revision: i + 1,
          file: { path: `B${i}.java`, text },
        })
      ));
      assert.deepEqual(back.sort(), [...texts].sort());
    } finally {
      await tls?.remove();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
