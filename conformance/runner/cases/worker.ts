/**
 * Worker-contract cases: request semantics on Java fixtures, cancellation,
 * the shard cache across restarts, shutdown and lifecycle.
 *
 * @module
 */

import type { FileText, RpcResult } from "../../../lib/wire/types.ts";
import { type CaseDef, defineCase } from "../case.ts";
import type { CaseContext } from "../harness.ts";
import {
  bulkFiles,
  bytes,
  cborText,
  EMOJI_JAVA,
  EMOJI_SYMBOLS,
  expectEqual,
  expectSymbols,
  indexShard,
  open,
  OUTER_JAVA,
  OUTER_SYMBOLS,
  rawRequest,
  RW,
  simpleClass,
  simpleClassSymbols,
  sortedSymbols,
  stats,
  symbolsFor,
  WIRE,
} from "./_util.ts";

function describe(result: RpcResult): string {
  if (result.status === "ok") return `ok ${result.value.type}`;
  if (result.status === "err") {
    return `err ${result.error.code} "${result.error.message}"`;
  }
  return "status unknown";
}

/** A case checking the exact symbols of some files. */
function symbolCase(
  id: string,
  title: string,
  rule: string,
  files: FileText[],
  expected: () => ReturnType<typeof symbolsFor>,
): CaseDef {
  return defineCase({
    id,
    title,
    rule,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      const index = await indexShard(conn, files);
      expectSymbols(index.symbols, expected());
    },
  });
}

const CRLF_JAVA =
  "package p;\r\n\r\nclass Win {\r\n    int crlf;\r\n}\r\nclass Mac {\r    int cr;\r}\r";
const CRLF_SYMBOLS: [string, number, number][] = [
  ["Mac", 5, 6],
  ["Win", 2, 6],
  ["cr", 6, 8],
  ["crlf", 3, 8],
];

const BODIES_JAVA = [
  "package p;",
  "",
  "class Host {",
  "    void work() {",
  "        class Local { int hidden; }",
  "        Runnable r = new Runnable() { public void run() {} };",
  '        String s = "class Fake { int f; }";',
  "        int inner = 1;",
  "    }",
  "    { int initializerLocal = 2; }",
  "    /* class Commented {} */",
  "    // int commentedField;",
  "    int visible;",
  "}",
  "",
].join("\n");
const BODIES_SYMBOLS: [string, number, number][] = [
  ["Host", 2, 6],
  ["visible", 12, 8],
  ["work", 3, 9],
];

const HEADER_INDENT_JAVA =
  "package p;\npublic class Flat {\npublic int flatField;\npublic void flatMethod() {}\n}\n";

/**
 * Semantic cases (request handling on Java fixtures).
 *
 * @example
 * ```ts
 * import { SEMANTIC_CASES } from "./worker.ts";
 * console.assert(SEMANTIC_CASES.length > 0 && SEMANTIC_CASES.every((c) => c.rule.includes("§")));
 * ```
 */
export const SEMANTIC_CASES: CaseDef[] = [
  defineCase({
    id: "sem.stats_initial",
    title:
      "A fresh worker reports revision 0, generation 0, 0 files, its shard",
    rule: `${RW} §3.4, §3.5`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const s = await stats(await open(ctx));
      expectEqual("shard_id", s.shard_id, ctx.shard);
      expectEqual("revision", s.revision, 0);
      expectEqual("index_generation", s.index_generation, 0);
      expectEqual("file_count", s.file_count, 0);
    },
  }),
  symbolCase(
    "sem.symbols_worked_example",
    "IndexShard on the digest's worked example returns exactly its 15 symbols",
    `${RW} §4.2-§4.6`,
    [{ path: "src/p/Outer.java", text: OUTER_JAVA }],
    () => symbolsFor("src/p/Outer.java", OUTER_SYMBOLS),
  ),
  symbolCase(
    "sem.symbols_utf16_columns",
    "Columns count UTF-16 code units (an emoji counts 2)",
    `${RW} §4.4 (LSP golden vector)`,
    [{ path: "Foo.java", text: EMOJI_JAVA }],
    () => symbolsFor("Foo.java", EMOJI_SYMBOLS),
  ),
  symbolCase(
    "sem.symbols_crlf_and_cr_lines",
    "CRLF and lone CR both break lines for symbol positions",
    `${RW} §4.4`,
    [{ path: "Nl.java", text: CRLF_JAVA }],
    () => symbolsFor("Nl.java", CRLF_SYMBOLS),
  ),
  symbolCase(
    "sem.symbols_nothing_from_bodies",
    "Nothing from method bodies, initializers, strings, comments, local or anonymous classes",
    `${RW} §4.2`,
    [{ path: "Host.java", text: BODIES_JAVA }],
    () => symbolsFor("Host.java", BODIES_SYMBOLS),
  ),
  symbolCase(
    "sem.symbols_sorted_across_files",
    "Symbols of several files are sorted by (name, path, line, column), byte-wise",
    `${RW} §4.5`,
    [
      { path: "b/Zeta.java", text: simpleClass("Zeta") },
      { path: "a/Alpha.java", text: simpleClass("Alpha") },
      { path: "c/Alpha.java", text: simpleClass("Alpha") },
    ],
    () =>
      sortedSymbols([
        ...symbolsFor("b/Zeta.java", simpleClassSymbols("Zeta")),
        ...symbolsFor("a/Alpha.java", simpleClassSymbols("Alpha")),
        ...symbolsFor("c/Alpha.java", simpleClassSymbols("Alpha")),
      ]),
  ),
  defineCase({
    id: "sem.modifier_members_at_header_indent",
    title:
      "Members indented no deeper than the class header (reference drops them)",
    rule: `${RW} §4.3 (recovery quirk), §7.2 #20`,
    severity: "implementation-defined",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      const index = await indexShard(conn, [{
        path: "Flat.java",
        text: HEADER_INDENT_JAVA,
      }]);
      const names = index.symbols.map((s) => s.name);
      ctx.note(
        names.includes("flatField")
          ? `indexes them (${names.join(", ")})`
          : `drops them like the reference (${names.join(", ")})`,
      );
    },
  }),
  defineCase({
    id: "sem.index_shard_fields",
    title:
      "ShardIndex echoes shard_id and revision; index_generation becomes 1",
    rule: `${RW} §3.5, §3.6`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const index = await indexShard(await open(ctx), [{
        path: "A.java",
        text: simpleClass("A"),
      }], 5);
      expectEqual("shard_id", index.shard_id, ctx.shard);
      expectEqual("revision", index.revision, 5);
      expectEqual("index_generation", index.index_generation, 1);
    },
  }),
  defineCase({
    id: "sem.generation_advances",
    title: "Each successful rebuild advances index_generation by one",
    rule: `${RW} §3.6`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      await indexShard(conn, [{ path: "A.java", text: simpleClass("A") }], 1);
      const second = await indexShard(conn, [{
        path: "B.java",
        text: simpleClass("B"),
      }], 2);
      expectEqual("index_generation", second.index_generation, 2);
      expectSymbols(
        second.symbols,
        symbolsFor("B.java", simpleClassSymbols("B")),
      );
    },
  }),
  defineCase({
    id: "sem.empty_shard",
    title: "IndexShard with no files returns an empty index",
    rule: `${RW} §3.5`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const index = await indexShard(await open(ctx), []);
      expectEqual("symbol count", index.symbols.length, 0);
    },
  }),
  defineCase({
    id: "sem.revision_u64",
    title: "A revision above 2^53 is carried exactly (index and stats)",
    rule: `${WIRE} §3.9; ${RW} §3.5`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      const rev = 2n ** 60n + 1n;
      const index = await indexShard(conn, [{
        path: "A.java",
        text: simpleClass("A"),
      }], rev);
      expectEqual("ShardIndex.revision", index.revision, rev);
      expectEqual("WorkerStats.revision", (await stats(conn)).revision, rev);
    },
  }),
  defineCase({
    id: "sem.load_files_ack",
    title: "LoadFiles answers Ack",
    rule: `${RW} §3.5`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      await conn.callOk({
        type: "load_files",
        revision: 3,
        files: [{ path: "A.java", text: simpleClass("A") }],
      }, "ack");
    },
  }),
  defineCase({
    id: "sem.load_files_no_rebuild",
    title:
      "LoadFiles sets revision and files but does not rebuild (generation unchanged)",
    rule: `${RW} §3.5`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      await indexShard(conn, [{ path: "A.java", text: simpleClass("A") }], 1);
      await conn.callOk({
        type: "load_files",
        revision: 4,
        files: [{ path: "A.java", text: simpleClass("A") }, {
          path: "B.java",
          text: simpleClass("B"),
        }],
      }, "ack");
      const s = await stats(conn);
      expectEqual("index_generation", s.index_generation, 1);
      expectEqual("revision", s.revision, 4);
      expectEqual("file_count", s.file_count, 2);
    },
  }),
  defineCase({
    id: "sem.update_file_adds",
    title:
      "UpdateFile of a new path rebuilds: old and new symbols, generation + 1",
    rule: `${RW} §3.5, §6.4 #58`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      await indexShard(conn, [{ path: "A.java", text: simpleClass("A") }], 1);
      const r = await conn.callOk({
        type: "update_file",
        revision: 2,
        file: { path: "G.java", text: simpleClass("Gamma") },
      }, "shard_index");
      expectEqual("index_generation", r.body.index_generation, 2);
      expectEqual("revision", r.body.revision, 2);
      expectSymbols(
        r.body.symbols,
        sortedSymbols([
          ...symbolsFor("A.java", simpleClassSymbols("A")),
          ...symbolsFor("G.java", simpleClassSymbols("Gamma")),
        ]),
      );
    },
  }),
  defineCase({
    id: "sem.update_file_replaces",
    title: "UpdateFile of an existing path replaces that file's symbols",
    rule: `${RW} §3.5`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      await indexShard(conn, [{ path: "A.java", text: simpleClass("A") }, {
        path: "B.java",
        text: simpleClass("B"),
      }], 1);
      const r = await conn.callOk({
        type: "update_file",
        revision: 2,
        file: { path: "A.java", text: simpleClass("Delta") },
      }, "shard_index");
      expectSymbols(
        r.body.symbols,
        sortedSymbols([
          ...symbolsFor("A.java", simpleClassSymbols("Delta")),
          ...symbolsFor("B.java", simpleClassSymbols("B")),
        ]),
      );
      expectEqual("file_count", (await stats(conn)).file_count, 2);
    },
  }),
  defineCase({
    id: "sem.update_after_load_files",
    title: "UpdateFile after LoadFiles indexes the loaded files too",
    rule: `${RW} §3.4, §3.5`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      await conn.callOk({
        type: "load_files",
        revision: 1,
        files: [{ path: "A.java", text: simpleClass("A") }],
      }, "ack");
      const r = await conn.callOk({
        type: "update_file",
        revision: 2,
        file: { path: "B.java", text: simpleClass("B") },
      }, "shard_index");
      expectSymbols(
        r.body.symbols,
        sortedSymbols([
          ...symbolsFor("A.java", simpleClassSymbols("A")),
          ...symbolsFor("B.java", simpleClassSymbols("B")),
        ]),
      );
    },
  }),
  defineCase({
    id: "sem.stats_counts",
    title: "GetWorkerStats counts files and reports revision and generation",
    rule: `${RW} §3.5`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      await indexShard(conn, bulkFiles(3, 200), 9);
      const s = await stats(conn);
      expectEqual("file_count", s.file_count, 3);
      expectEqual("revision", s.revision, 9);
      expectEqual("index_generation", s.index_generation, 1);
      expectEqual("shard_id", s.shard_id, ctx.shard);
    },
  }),
  defineCase({
    id: "sem.diagnostics_parse_error",
    title:
      "Diagnostics on a file with a syntax error returns at least one error",
    rule: `${RW} §3.5, §6.4 #59`,
    severity: "SHOULD",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      await indexShard(conn, [{
        path: "Bad.java",
        text: "class Bad {\n    int x = ;\n}\n",
      }]);
      const r = await conn.callOk(
        { type: "diagnostics", path: "Bad.java" },
        "diagnostics",
      );
      const errs = r.body.diagnostics.filter((d) => d.severity === "error");
      if (errs.length === 0) {
        ctx.fail(
          "at least one error diagnostic",
          JSON.stringify(r.body.diagnostics),
        );
      }
      ctx.note(
        `first: line ${errs[0].line}, column ${errs[0].column}: ${
          errs[0].message
        }`,
      );
    },
  }),
  defineCase({
    id: "sem.diagnostics_clean_file",
    title: "Diagnostics on a well-formed file returns no errors",
    rule: `${RW} §3.5`,
    severity: "SHOULD",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      await indexShard(conn, [{ path: "O.java", text: OUTER_JAVA }]);
      const r = await conn.callOk(
        { type: "diagnostics", path: "O.java" },
        "diagnostics",
      );
      const errs = r.body.diagnostics.filter((d) => d.severity === "error");
      if (errs.length) {
        ctx.fail("no error diagnostics", JSON.stringify(errs.slice(0, 3)));
      }
    },
  }),
  defineCase({
    id: "sem.diagnostics_unknown_path",
    title: "Diagnostics for an unknown path returns an empty list",
    rule: `${RW} §3.5; ${WIRE} §11 #2`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const r = await (await open(ctx)).callOk({
        type: "diagnostics",
        path: "Nope.java",
      }, "diagnostics");
      expectEqual("diagnostic count", r.body.diagnostics.length, 0);
    },
  }),
  defineCase({
    id: "sem.unknown_request_invalid_request",
    title: "An unknown request type is answered with err invalid_request",
    rule: `${WIRE} §7.9; ${RW} §3.5`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      const p = rawRequest("frobnicate", { arg: [0x01] });
      await conn.sendData(2, p);
      const got = await conn.waitResponse(2, 5000);
      if (!got) {
        ctx.fail(
          "an err invalid_request response",
          conn.eof ? "the worker closed the connection" : "no response",
        );
      }
      if (
        got.result.status !== "err" ||
        got.result.error.code !== "invalid_request"
      ) {
        ctx.fail("err invalid_request", describe(got.result));
      }
      await conn.expectAlive("an unknown request");
    },
  }),
  defineCase({
    id: "sem.unknown_request_error_shape",
    title: 'The unknown-request error reads "unknown request", retryable false',
    rule: `${RW} §3.5; ${WIRE} §12 (worker error values)`,
    severity: "SHOULD",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      const p = rawRequest("frobnicate");
      await conn.sendData(2, p);
      const got = await conn.waitResponse(2, 5000);
      if (!got || got.result.status !== "err") {
        ctx.fail("an err response", got ? describe(got.result) : "none");
      }
      const e = got.result.error;
      if (e.message !== "unknown request" || e.retryable !== false) {
        ctx.fail(
          'message "unknown request", retryable false',
          `message "${e.message}", retryable ${e.retryable}`,
        );
      }
    },
  }),
  defineCase({
    id: "sem.unknown_notification_ignored",
    title: "An unknown notification is ignored (no reply, connection kept)",
    rule: `${WIRE} §7.9 (Notification::Unknown dropped)`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      const p = bytes(
        [0xa2],
        cborText("type"),
        cborText("notification"),
        cborText("body"),
        [0xa1],
        cborText("type"),
        cborText("mystery_note"),
      );
      await conn.sendData(2, p);
      await conn.expectAlive("an unknown notification");
      if (conn.payloads.some((x) => String(x.id) === "2")) {
        ctx.fail("no reply to a notification", "a reply with id 2");
      }
    },
  }),
  defineCase({
    id: "sem.shutdown_replies_and_exits_0",
    title: "Shutdown is answered, then the worker exits 0 within 2 s",
    rule: `${RW} §3.5, §3.8`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      await stats(conn);
      await conn.callOk({ type: "shutdown" }, "shutdown");
      const exit = await ctx.workers[0].waitExit(2000);
      if (!exit) {
        ctx.fail("exit within 2 s of the Shutdown reply", "still running");
      }
      if (exit.code !== 0) {
        ctx.fail("exit code 0", `code ${exit.code}, signal ${exit.signal}`);
      }
    },
  }),
];

async function cancelScenario(ctx: CaseContext): Promise<RpcResult> {
  const conn = await open(ctx);
  await stats(conn);
  const id = await conn.request({
    type: "index_shard",
    revision: 1,
    files: bulkFiles(400, 2000),
  });
  await conn.cancel(id);
  const got = await conn.waitResponse(id, 20_000);
  if (!got) {
    ctx.fail(
      "a cancelled error or the completed index",
      conn.eof ? "the connection closed" : "no response within 20 s",
    );
  }
  const r = got.result;
  const ok = (r.status === "err" && r.error.code === "cancelled") ||
    (r.status === "ok" && r.value.type === "shard_index");
  if (!ok) ctx.fail("err cancelled or ok shard_index", describe(r));
  ctx.note(`answer: ${describe(r)}`);
  await conn.expectAlive("a cancelled request");
  return r;
}

/**
 * Cancellation cases.
 *
 * @example
 * ```ts
 * import { CANCEL_CASES } from "./worker.ts";
 * console.assert(CANCEL_CASES.length > 0 && CANCEL_CASES.every((c) => c.rule.includes("§")));
 * ```
 */
export const CANCEL_CASES: CaseDef[] = [
  defineCase({
    id: "cancel.slow_index_shard_answered",
    title:
      "Cancelling a slow IndexShard yields cancelled or the result, never nothing",
    rule: `${WIRE} §7.9, §7.10; ${RW} §3.5`,
    severity: "MUST",
    timeoutMs: 40_000,
    async run(ctx: CaseContext) {
      await cancelScenario(ctx);
    },
  }),
  defineCase({
    id: "cancel.error_shape",
    title:
      'A cancelled request reads {cancelled, "request cancelled", retryable true}',
    rule: `${WIRE} §7.10; ${RW} §3.5`,
    severity: "SHOULD",
    timeoutMs: 40_000,
    async run(ctx: CaseContext) {
      const r = await cancelScenario(ctx);
      if (r.status !== "err") {
        ctx.skip("the request completed before the Cancel arrived");
      }
      if (
        r.error.message !== "request cancelled" || r.error.retryable !== true
      ) {
        ctx.fail(
          '"request cancelled", retryable true',
          `"${r.error.message}", retryable ${r.error.retryable}`,
        );
      }
    },
  }),
  defineCase({
    id: "cancel.unknown_id_ignored",
    title: "A Cancel for an unknown id is ignored",
    rule: `${WIRE} §7.9 (Cancel idempotent)`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      await conn.cancel(1000);
      await conn.expectAlive("a Cancel for an unknown id");
    },
  }),
  defineCase({
    id: "cancel.after_response_ignored",
    title: "A Cancel after the response is ignored (no second response)",
    rule: `${WIRE} §7.9`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      await conn.callOk({ type: "get_worker_stats" }, "worker_stats", {
        id: 2,
      });
      await conn.cancel(2);
      await conn.expectAlive("a late Cancel");
    },
  }),
  defineCase({
    id: "cancel.not_negotiated_ignored",
    title:
      "With cancel not negotiated a Cancel is ignored and the request completes",
    rule: `${WIRE} §7.9 (ignored when not negotiated)`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx, { router: { supports_cancel: false } });
      const id = await conn.request({
        type: "index_shard",
        revision: 1,
        files: bulkFiles(50, 1000),
      });
      await conn.cancel(id);
      const got = await conn.waitResponse(id, 10_000);
      if (!got) ctx.fail("the completed index", "no response");
      if (got.result.status !== "ok") {
        ctx.fail("ok shard_index (Cancel ignored)", describe(got.result));
      }
    },
  }),
  defineCase({
    id: "cancel.stats_during_rebuild",
    title:
      "GetWorkerStats latency during a long IndexShard (reference: waits behind it)",
    rule: `${RW} §3.4`,
    severity: "implementation-defined",
    timeoutMs: 40_000,
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      const big = await conn.request({
        type: "index_shard",
        revision: 1,
        files: bulkFiles(400, 2000),
      });
      const t0 = performance.now();
      const s = await conn.request({ type: "get_worker_stats" });
      const got = await conn.waitResponse(s, 20_000);
      const dt = performance.now() - t0;
      const bigDone = conn.payloads.some((p) => String(p.id) === String(big));
      ctx.note(
        `stats answered in ${dt.toFixed(0)} ms (${got ? "" : "no answer; "}${
          bigDone ? "after" : "before"
        } the IndexShard finished)`,
      );
      await conn.waitResponse(big, 20_000);
    },
  }),
];

async function seedCache(
  ctx: CaseContext,
): Promise<{ symbols: ReturnType<typeof symbolsFor>; revision: number }> {
  const conn = await open(ctx);
  const index = await indexShard(conn, [{ path: "O.java", text: OUTER_JAVA }, {
    path: "A.java",
    text: simpleClass("A"),
  }], 3);
  await conn.callOk({ type: "shutdown" }, "shutdown");
  const exit = await ctx.workers[0].waitExit(5000);
  if (!exit) ctx.fail("the first worker exits after Shutdown", "still running");
  conn.close();
  return { symbols: index.symbols, revision: 3 };
}

async function corruptCache(
  ctx: CaseContext,
  how: (b: Uint8Array) => Uint8Array,
): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir(ctx.cacheDir)) {
    if (!e.isFile) continue;
    const p = `${ctx.cacheDir}/${e.name}`;
    await Deno.writeFile(p, how(await Deno.readFile(p)));
    n++;
  }
  return n;
}

async function restartExpectMiss(
  ctx: CaseContext,
  label: string,
): Promise<void> {
  await ctx.startWorker();
  const conn = await ctx.accept();
  const hello = await conn.readHello();
  if (hello.cached_index_info !== null) {
    ctx.fail(
      `a cache miss for a ${label} cache`,
      `cached_index_info ${
        JSON.stringify({
          ...hello.cached_index_info,
          revision: String(hello.cached_index_info.revision),
          index_generation: String(hello.cached_index_info.index_generation),
        })
      }`,
    );
  }
  conn.welcome = conn.buildWelcome();
  await conn.writeFrame({ type: "welcome", body: conn.welcome });
  await stats(conn);
  const n = await conn.waitNotification("cached_index", 500);
  if (n) ctx.fail("no CachedIndex notification", "a CachedIndex notification");
}

/**
 * Shard cache cases.
 *
 * @example
 * ```ts
 * import { CACHE_CASES } from "./worker.ts";
 * console.assert(CACHE_CASES.length > 0 && CACHE_CASES.every((c) => c.rule.includes("§")));
 * ```
 */
export const CACHE_CASES: CaseDef[] = [
  defineCase({
    id: "cache.restart_presents_cached_info",
    title:
      "After IndexShard, a restarted worker's Hello carries cached_index_info",
    rule: `${RW} §3.2 step 5, §3.3, §6.4 #62`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const { symbols } = await seedCache(ctx);
      await ctx.startWorker();
      const conn = await ctx.accept();
      const hello = await conn.readHello();
      const info = hello.cached_index_info;
      if (!info) ctx.fail("cached_index_info present", "null");
      expectEqual("cached revision", info.revision, 3);
      expectEqual("cached index_generation", info.index_generation, 1);
      expectEqual("cached symbol_count", info.symbol_count, symbols.length);
    },
  }),
  defineCase({
    id: "cache.restart_sends_cached_index",
    title:
      "A restarted worker sends a CachedIndex notification with the cached symbols",
    rule:
      `${RW} §3.2 step 10; ${WIRE} §7.5 (first worker notification uses id 1)`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const { symbols } = await seedCache(ctx);
      await ctx.startWorker();
      const conn = await ctx.accept();
      await conn.handshake();
      const n = await conn.waitNotification("cached_index", 5000);
      if (!n || n.notification.type !== "cached_index") {
        ctx.fail("a CachedIndex notification", "none within 5 s");
      }
      const body = n.notification.body;
      expectEqual("CachedIndex.shard_id", body.shard_id, ctx.shard);
      expectEqual("CachedIndex.revision", body.revision, 3);
      expectSymbols(body.symbols, symbols);
      if (String(n.item.id) !== "1") {
        ctx.note(`notification id ${n.item.id} (reference uses 1)`);
      }
    },
  }),
  defineCase({
    id: "cache.generation_continues",
    title:
      "After a restart from cache the next rebuild continues the generation",
    rule: `${RW} §3.4 (index_generation starts at the cached one)`,
    severity: "SHOULD",
    async run(ctx: CaseContext) {
      await seedCache(ctx);
      await ctx.startWorker();
      const conn = await ctx.accept();
      await conn.handshake();
      const index = await indexShard(conn, [{
        path: "A.java",
        text: simpleClass("A"),
      }], 4);
      expectEqual("index_generation", index.index_generation, 2);
    },
  }),
  defineCase({
    id: "cache.corrupted_is_miss",
    title: "A corrupted cache file is a miss, not a crash",
    rule: `${RW} §3.7 (every validation failure is a miss)`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      await seedCache(ctx);
      const n = await corruptCache(ctx, (b) => {
        const c = b.slice();
        for (let i = 0; i < c.length; i += 7) c[i] ^= 0xa5;
        return c;
      });
      if (n === 0) ctx.skip("the worker wrote no cache file");
      await restartExpectMiss(ctx, "corrupted");
    },
  }),
  defineCase({
    id: "cache.truncated_is_miss",
    title: "A truncated cache file is a miss, not a crash",
    rule: `${RW} §3.7`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      await seedCache(ctx);
      const n = await corruptCache(
        ctx,
        (b) => b.slice(0, Math.floor(b.length / 2)),
      );
      if (n === 0) ctx.skip("the worker wrote no cache file");
      await restartExpectMiss(ctx, "truncated");
    },
  }),
  defineCase({
    id: "cache.empty_file_is_miss",
    title: "An empty cache file is a miss, not a crash",
    rule: `${RW} §3.7`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      await seedCache(ctx);
      const n = await corruptCache(ctx, () => new Uint8Array());
      if (n === 0) ctx.skip("the worker wrote no cache file");
      await restartExpectMiss(ctx, "empty");
    },
  }),
  defineCase({
    id: "cache.other_shard_is_miss",
    title: "A cache written for shard 7 is not used by a shard-8 worker",
    rule: `${RW} §3.7 (keyed by shard id)`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      await seedCache(ctx);
      await ctx.startWorker({ shard: 8 });
      const conn = await ctx.accept();
      const hello = await conn.readHello();
      if (hello.cached_index_info !== null) {
        ctx.fail(
          "no cached_index_info for another shard",
          "cached_index_info present",
        );
      }
    },
  }),
];

/**
 * Lifecycle cases.
 *
 * @example
 * ```ts
 * import { LIFECYCLE_CASES } from "./worker.ts";
 * console.assert(LIFECYCLE_CASES.length > 0 && LIFECYCLE_CASES.every((c) => c.rule.includes("§")));
 * ```
 */
export const LIFECYCLE_CASES: CaseDef[] = [
  defineCase({
    id: "life.unreachable_router_exits",
    title: "With nothing listening at the address the worker exits non-zero",
    rule: `${RW} §3.2 step 4, §3.8 (single attempt, exit 1)`,
    severity: "SHOULD",
    async run(ctx: CaseContext) {
      await ctx.listen();
      const base = ctx.connectAddress;
      const connect = base.startsWith("unix:")
        ? `unix:${ctx.dir}/nobody-listens.sock`
        : base.replace(/:\d+$/, ":1");
      const w = await ctx.startWorker({ connect });
      const exit = await w.waitExit(10_000);
      if (!exit) ctx.fail("a non-zero exit within 10 s", "still running");
      if (exit.code === 0) ctx.fail("a non-zero exit", "exit code 0");
      ctx.note(`exit code ${exit.code}`);
    },
  }),
  defineCase({
    id: "life.exit_when_router_closes",
    title: "The worker exits when the router closes the connection",
    rule: `${RW} §3.8 (the reference idles forever; issue 4 asks to exit)`,
    severity: "SHOULD",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      await stats(conn);
      conn.close();
      const exit = await ctx.workers[0].waitExit(5000);
      if (!exit) {
        ctx.fail("exit within 5 s of losing the router", "still running");
      }
      ctx.note(`exit code ${exit.code}`);
    },
  }),
  defineCase({
    id: "life.shutdown_closes_connection",
    title: "After the Shutdown reply the worker closes its connection",
    rule: `${RW} §3.8`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      await conn.callOk({ type: "shutdown" }, "shutdown");
      await conn.expectClosed("Shutdown", 3000);
    },
  }),
  defineCase({
    id: "life.no_stdout_protocol_noise",
    title: "The worker keeps stdout free of protocol data (logs go to stderr)",
    rule: `${RW} §3.2 (tracing to stderr)`,
    severity: "implementation-defined",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      await stats(conn);
      await conn.callOk({ type: "shutdown" }, "shutdown");
      await ctx.workers[0].waitExit(3000);
      const out = ctx.workers[0].stdout;
      if (out.length > 0) {
        ctx.note(`stdout: ${JSON.stringify(out.slice(0, 200))}`);
      }
    },
  }),
];
