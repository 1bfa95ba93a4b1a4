/**
 * Interoperability cases: the worker driven by our own router-role session
 * (`lib/wire/session.ts`) instead of the runner's hand-rolled frames.
 *
 * @module
 */

import { nodeZstdCompressor } from "../../../lib/net/zstd.ts";
import type { RpcResult } from "../../../lib/wire/types.ts";
import { type CaseDef, defineCase } from "../case.ts";
import type { CaseContext } from "../harness.ts";
import { SessionDriver } from "../session_driver.ts";
import type { RouterSessionOptions } from "../../../lib/wire/session.ts";
import {
  bulkFiles,
  expectEqual,
  expectSymbols,
  OUTER_JAVA,
  OUTER_SYMBOLS,
  symbolsFor,
  WIRE,
} from "./_util.ts";

async function attach(
  ctx: CaseContext,
  options: ConstructorParameters<typeof SessionDriver>[1] = {},
): Promise<SessionDriver> {
  await ctx.startWorker();
  const conn = await ctx.accept();
  const driver = new SessionDriver(conn, options);
  return driver;
}

function okType(r: RpcResult): string {
  return r.status === "ok"
    ? r.value.type
    : r.status === "err"
    ? `err ${r.error.code}`
    : "unknown";
}

function large(): RouterSessionOptions {
  return {
    capabilities: { max_frame_len: 4096 },
    compressor: nodeZstdCompressor,
  };
}

/**
 * Cases driven through our router session.
 *
 * @example
 * ```ts
 * import { SESSION_CASES } from "./session.ts";
 * console.assert(SESSION_CASES.length > 0 && SESSION_CASES.every((c) => c.rule.includes("§")));
 * ```
 */
export const SESSION_CASES: CaseDef[] = [
  defineCase({
    id: "session.handshake_and_calls",
    title:
      "Our router session: handshake, IndexShard, stats and Shutdown with the worker",
    rule: `${WIRE} §7.2-§7.9 (interoperability)`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const d = await attach(ctx, {
        expectedAuthToken: ctx.token,
        admit: () => ({ worker_id: 3, revision: 0 }),
      });
      await d.handshake();
      const r = await d.call({
        type: "index_shard",
        revision: 2,
        files: [{ path: "O.java", text: OUTER_JAVA }],
      });
      if (r.status !== "ok" || r.value.type !== "shard_index") {
        ctx.fail("ok shard_index", okType(r));
      }
      expectSymbols(r.value.body.symbols, symbolsFor("O.java", OUTER_SYMBOLS));
      const s = await d.call({ type: "get_worker_stats" });
      if (s.status !== "ok" || s.value.type !== "worker_stats") {
        ctx.fail("ok worker_stats", okType(s));
      }
      expectEqual("file_count", s.value.body.file_count, 1);
      const down = await d.call({ type: "shutdown" });
      if (down.status !== "ok" || down.value.type !== "shutdown") {
        ctx.fail("ok shutdown", okType(down));
      }
      const exit = await ctx.workers[0].waitExit(2000);
      if (exit?.code !== 0) {
        ctx.fail(
          "exit 0 after Shutdown",
          exit ? `code ${exit.code}` : "still running",
        );
      }
    },
  }),
  defineCase({
    id: "session.chunked_both_ways",
    title:
      "Our router session with max_frame_len 4096: chunked request and response",
    rule: `${WIRE} §7.6, §7.7 (interoperability)`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const d = await attach(ctx, {
        capabilities: { max_frame_len: 4096, supported_compression: ["none"] },
      });
      await d.handshake();
      const done = d.events.find((e) => e.type === "handshake_done");
      if (
        done?.type === "handshake_done" &&
        !done.hello.capabilities.supports_chunking
      ) {
        ctx.skip("the worker does not offer chunking");
      }
      const files = [
        { path: "O.java", text: OUTER_JAVA },
        ...bulkFiles(10, 2000),
      ];
      const r = await d.call({ type: "index_shard", revision: 1, files });
      if (r.status !== "ok" || r.value.type !== "shard_index") {
        ctx.fail("ok shard_index", okType(r));
      }
      expectSymbols(
        r.value.body.symbols.filter((s) => s.path === "O.java"),
        symbolsFor("O.java", OUTER_SYMBOLS),
      );
      if (d.closeError) ctx.fail("no session error", d.closeError);
    },
  }),
  defineCase({
    id: "session.zstd_both_ways",
    title:
      "Our router session offering zstd: large compressed request and response",
    rule: `${WIRE} §7.6 step 3, §7.8 (interoperability)`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const d = await attach(ctx, large());
      await d.handshake();
      const done = d.events.find((e) => e.type === "handshake_done");
      if (
        done?.type === "handshake_done" &&
        !done.welcome.chosen_capabilities.supported_compression.includes("zstd")
      ) {
        ctx.skip("the worker does not offer zstd");
      }
      const r = await d.call({
        type: "index_shard",
        revision: 1,
        files: bulkFiles(30, 3000),
      });
      if (r.status !== "ok") ctx.fail("ok shard_index", okType(r));
      if (d.closeError) ctx.fail("no session error", d.closeError);
    },
  }),
  defineCase({
    id: "session.cancel",
    title: "Our router session cancelling a slow IndexShard gets an answer",
    rule: `${WIRE} §7.10 (interoperability)`,
    severity: "MUST",
    timeoutMs: 40_000,
    async run(ctx: CaseContext) {
      const d = await attach(ctx);
      await d.handshake();
      const id = d.send({
        type: "index_shard",
        revision: 1,
        files: bulkFiles(300, 2000),
      });
      d.cancel(id);
      const r = await d.response(id, 30_000);
      const ok = (r.status === "err" && r.error.code === "cancelled") ||
        (r.status === "ok" && r.value.type === "shard_index");
      if (!ok) ctx.fail("cancelled or the index", okType(r));
      ctx.note(`answer: ${okType(r)}`);
    },
  }),
  defineCase({
    id: "session.wrong_token_rejected",
    title:
      "Our router session expecting another token rejects the worker, which exits non-zero",
    rule: `${WIRE} §7.3 step 5 (interoperability)`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const d = await attach(ctx, { expectedAuthToken: `${ctx.token}-other` });
      const closed = await ctx.conns[0].waitFor(
        () => d.events.find((e) => e.type === "closed"),
        10_000,
      );
      if (!closed) ctx.fail("the session rejects the Hello", "no close");
      ctx.conns[0].close();
      const exit = await ctx.workers[0].waitExit(5000);
      if (!exit || exit.code === 0) {
        ctx.fail("a non-zero exit", exit ? "exit 0" : "still running");
      }
    },
  }),
];
