/**
 * Wire-level cases: request ids and multiplexing, limits and malformed
 * input, chunking in both directions, compression.
 *
 * @module
 */

import { encodeRpcPayload } from "../../../lib/wire/codec.ts";
import { encodeFrame } from "../../../lib/wire/frame.ts";
import { nodeZstdCompressor } from "../../../lib/net/zstd.ts";
import type { CompressionAlgo, Request, U64 } from "../../../lib/wire/types.ts";
import { type CaseDef, defineCase } from "../case.ts";
import type { Conn, HandshakeOptions } from "../conn.ts";
import type { CaseContext } from "../harness.ts";
import { CaseFailure } from "../types.ts";
import {
  bulkFiles,
  bytes,
  cborHead,
  cborText,
  expectAliveAfter,
  expectCloseAfter,
  expectSymbols,
  framed,
  indexShard,
  open,
  openChunked,
  OUTER_JAVA,
  OUTER_SYMBOLS,
  rawRequest,
  stats,
  symbolsFor,
  WIRE,
} from "./_util.ts";

const STATS: Request = { type: "get_worker_stats" };

function statsPayload(): Uint8Array {
  return encodeRpcPayload({ type: "request", body: STATS });
}

async function chunk(
  conn: Conn,
  id: U64,
  seq: number,
  last: boolean,
  data: Uint8Array,
  compression: CompressionAlgo = "none",
): Promise<void> {
  await conn.writeFrame({
    type: "packet_chunk",
    body: { id, compression, seq, last, data },
  });
}

/** A {@link closeCase}: a MUST rule whose breach must close the connection. */
interface CloseCaseDef {
  /** Stable id. */
  id: string;
  /** One-line description. */
  title: string;
  /** Where the rule comes from. */
  rule: string;
  /** What is sent (for the evidence). */
  what: string;
  /** Sends the hostile bytes after a normal handshake and one stats call. */
  send: (conn: Conn) => Promise<void>;
  /** Handshake options. */
  handshake?: HandshakeOptions;
}

/** A MUST case: what `send` writes must make the worker close (3 s). */
function closeCase(def: CloseCaseDef): CaseDef {
  return defineCase({
    id: def.id,
    title: def.title,
    rule: def.rule,
    severity: "MUST",
    run: (ctx: CaseContext) =>
      expectCloseAfter(ctx, def.what, def.send, def.handshake),
  });
}

/**
 * Sends the stats request as stream 2 in two chunks: seq 0 (its first 4
 * bytes, uncompressed) and then the rest with the given seq and compression.
 */
async function twoStatsChunks(
  conn: Conn,
  secondSeq: number,
  secondCompression: CompressionAlgo = "none",
): Promise<void> {
  const p = statsPayload();
  await chunk(conn, 2, 0, false, p.subarray(0, 4));
  await chunk(conn, 2, secondSeq, true, p.subarray(4), secondCompression);
}

async function expectResponse(
  conn: Conn,
  id: U64,
  what: string,
): Promise<void> {
  const got = await conn.waitResponse(id, 5000);
  if (got === undefined) {
    throw new CaseFailure(
      `a response to ${what} (id ${id})`,
      conn.eof
        ? "the worker closed the connection"
        : "no response within 5000 ms",
    );
  }
}

function requireZstd(conn: Conn, ctx: { skip(reason: string): never }): void {
  if (
    !conn.welcome?.chosen_capabilities.supported_compression.includes("zstd")
  ) {
    ctx.skip("the worker does not offer zstd");
  }
}

/**
 * Waits for the answer to request `id` and notes whether the worker took the
 * reference decoder's leniency (answered) or was strict (closed).
 */
async function noteLeniency(
  ctx: CaseContext,
  conn: Conn,
  id: number,
): Promise<void> {
  const got = await conn.waitResponse(id, 3000);
  ctx.note(
    got
      ? "accepted (like the reference)"
      : conn.eof
      ? "closed the connection (strict decoder)"
      : "no answer",
  );
}

let bombCache: Uint8Array | undefined;
function zstdBomb(): Uint8Array {
  bombCache ??= nodeZstdCompressor.compress(
    "zstd",
    encodeRpcPayload({
      type: "request",
      body: {
        type: "load_files",
        revision: 1,
        files: [{ path: "Bomb.java", text: "a".repeat(4 << 20) }],
      },
    }),
  );
  return bombCache;
}

/**
 * Request id and multiplexing cases.
 *
 * @example
 * ```ts
 * import { ID_CASES } from "./wire.ts";
 * console.assert(ID_CASES.length > 0 && ID_CASES.every((c) => c.rule.includes("§")));
 * ```
 */
export const ID_CASES: CaseDef[] = [
  defineCase({
    id: "ids.response_echoes_id",
    title: "A response carries its request's id",
    rule: `${WIRE} §7.5`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      await conn.callOk(STATS, "worker_stats", { id: 2 });
    },
  }),
  defineCase({
    id: "ids.non_sequential_ids",
    title:
      "Arbitrary even ids (100, 4, 50) are each answered with their own id",
    rule: `${WIRE} §7.5`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      for (const id of [100, 4, 50]) await conn.request(STATS, { id });
      for (const id of [100, 4, 50]) {
        await expectResponse(conn, id, "GetWorkerStats");
      }
    },
  }),
  defineCase({
    id: "ids.multiplexed_in_flight",
    title: "Twelve requests in flight at once are all answered, matched by id",
    rule: `${WIRE} §7.5, §10.2 #40`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      await indexShard(conn, [{ path: "A.java", text: OUTER_JAVA }]);
      const ids: U64[] = [];
      for (let i = 0; i < 12; i++) {
        const r: Request = i % 3 === 0
          ? { type: "diagnostics", path: "A.java" }
          : i % 3 === 1
          ? STATS
          : {
            type: "update_file",
            revision: 10 + i,
            file: { path: `M${i}.java`, text: "class M {}" },
          };
        ids.push(await conn.request(r));
      }
      for (const id of ids) {
        await expectResponse(conn, id, "a pipelined request");
      }
    },
  }),
  defineCase({
    id: "ids.u64_id_above_2_53",
    title: "A request id above 2^53 (u64) is echoed exactly",
    rule: `${WIRE} §3.9`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      await conn.callOk(STATS, "worker_stats", { id: 2n ** 60n + 2n });
      await conn.callOk(STATS, "worker_stats", { id: 2n ** 53n });
    },
  }),
  defineCase({
    id: "ids.id_reuse_after_response",
    title: "An id may be reused once its response was sent",
    rule: `${WIRE} §7.5`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      await conn.callOk(STATS, "worker_stats", { id: 8 });
      await conn.callOk(STATS, "worker_stats", { id: 8 });
    },
  }),
  closeCase({
    id: "ids.odd_request_id_closes",
    title: "A router request with an odd id closes the connection",
    rule: `${WIRE} §7.5 (parity)`,
    what: "a Request with odd id 3",
    send: (c) => c.sendData(3, statsPayload()),
  }),
  closeCase({
    id: "ids.zero_id_closes",
    title: "A Packet with the reserved id 0 closes the connection",
    rule: `${WIRE} §7.5, §7.7`,
    what: "a Packet with id 0",
    send: (c) => c.sendData(0, statsPayload()),
  }),
  closeCase({
    id: "ids.corpus_packet_cancel_id0",
    title:
      "The fuzz-corpus frame packet_cancel.bin (Cancel with id 0) closes the connection",
    rule: `${WIRE} §8.3`,
    what: "the packet_cancel.bin corpus frame",
    send: async (c) => {
      const hex =
        "3b000000a26474797065667061636b657464626f6479a3626964006b636f6d7072657373696f6e646e6f6e6564646174614da164747970656663616e63656c";
      const raw = new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16)));
      await c.write(raw);
    },
  }),
];

/**
 * Limits and malformed input cases.
 *
 * @example
 * ```ts
 * import { LIMIT_CASES } from "./wire.ts";
 * console.assert(LIMIT_CASES.length > 0 && LIMIT_CASES.every((c) => c.rule.includes("§")));
 * ```
 */
export const LIMIT_CASES: CaseDef[] = [
  closeCase({
    id: "lim.oversize_prefix_closes",
    title:
      "A u32::MAX length prefix closes the connection without waiting for the bytes",
    rule: `${WIRE} §1, §10.2 #27`,
    what: "a 0xffffffff length prefix",
    send: (c) => c.write(bytes([0xff, 0xff, 0xff, 0xff])),
  }),
  closeCase({
    id: "lim.prefix_over_negotiated_closes",
    title: "A length prefix of max_frame_len + 1 closes the connection",
    rule: `${WIRE} §1, §7.7 step 1`,
    what: "a 65537-byte length prefix with max_frame_len 65536",
    send: (c) => c.write(bytes([0x01, 0x00, 0x01, 0x00])),
    handshake: { router: { max_frame_len: 65536 } },
  }),
  defineCase({
    id: "lim.frame_at_limit_accepted",
    title: "A frame of exactly max_frame_len bytes is accepted",
    rule: `${WIRE} §1`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx, { router: { max_frame_len: 4096 } });
      let n = 3900;
      let frame: Uint8Array = new Uint8Array();
      for (let i = 0; i < 400; i++) {
        const req: Request = {
          type: "load_files",
          revision: 1,
          files: [{ path: "P.java", text: "x".repeat(n) }],
        };
        frame = encodeFrame({
          type: "packet",
          body: {
            id: 2,
            compression: "none",
            data: encodeRpcPayload({ type: "request", body: req }),
          },
        });
        if (frame.length - 4 === 4096) break;
        n += frame.length - 4 < 4096 ? 1 : -1;
      }
      if (frame.length - 4 !== 4096) {
        ctx.skip("could not build an exact 4096-byte frame");
      }
      await conn.write(frame);
      await expectResponse(
        conn,
        2,
        "a LoadFiles frame of exactly max_frame_len",
      );
    },
  }),
  closeCase({
    id: "lim.zero_length_frame_closes",
    title: "A zero-length frame closes the connection",
    rule: `${WIRE} §1`,
    what: "a zero-length frame",
    send: (c) => c.write(bytes([0, 0, 0, 0])),
  }),
  closeCase({
    id: "lim.invalid_cbor_closes",
    title: "A frame of invalid CBOR closes the connection",
    rule: `${WIRE} §6, §7.7`,
    what: "a frame holding ff ff ff",
    send: (c) => c.write(framed(bytes([0xff, 0xff, 0xff]))),
  }),
  closeCase({
    id: "lim.truncated_cbor_closes",
    title: "A frame whose CBOR is cut short closes the connection",
    rule: `${WIRE} §6 rule 1, §10.1 #24`,
    what: "a truncated Packet frame",
    send: async (c) => {
      const f = encodeFrame({
        type: "packet",
        body: { id: 2, compression: "none", data: statsPayload() },
      });
      await c.write(framed(f.subarray(4, f.length - 3)));
    },
  }),
  closeCase({
    id: "lim.trailing_bytes_closes",
    title: "A frame with bytes after its CBOR item closes the connection",
    rule: `${WIRE} §6 rule 1`,
    what: "a Packet frame with a trailing byte",
    send: async (c) => {
      const f = encodeFrame({
        type: "packet",
        body: { id: 2, compression: "none", data: statsPayload() },
      });
      await c.write(framed(bytes(f.subarray(4), [0x00])));
    },
  }),
  closeCase({
    id: "lim.invalid_payload_closes",
    title: "A Packet whose data is not an RpcPayload closes the connection",
    rule: `${WIRE} §7.7 (process_packet)`,
    what: "Packet data ff",
    send: (c) => c.sendData(2, bytes([0xff])),
  }),
  closeCase({
    id: "lim.nesting_65_closes",
    title: "65 nested arrays inside an ignored field close the connection",
    rule: `${WIRE} §6 rule 2`,
    what: "a payload nested 66 levels deep",
    send: async (c) => {
      const deep = bytes(new Array(65).fill(0x81), [0x01]);
      const p = rawRequest("get_worker_stats", { x: deep });
      await c.sendData(2, p);
    },
  }),
  defineCase({
    id: "lim.nesting_within_limit_ok",
    title: "Nesting within the limit inside an ignored field is accepted",
    rule: `${WIRE} §6 rule 2, §4.1 (unknown keys ignored)`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const deep = bytes(new Array(60).fill(0x81), [0x01]);
      const p = rawRequest("get_worker_stats", { x: deep });
      const conn = await open(ctx);
      await conn.sendData(2, p);
      await expectResponse(
        conn,
        2,
        "a stats request with a 60-deep ignored field",
      );
    },
  }),
  closeCase({
    id: "lim.duplicate_key_closes",
    title: "A Packet body with a duplicate key closes the connection",
    rule: `${WIRE} §4.1 (duplicate keys are errors)`,
    what: "a Packet with a duplicate id key",
    send: async (c) => {
      const data = statsPayload();
      const f = bytes(
        [0xa2],
        cborText("type"),
        cborText("packet"),
        cborText("body"),
        [0xa4],
        cborText("id"),
        [0x02],
        cborText("id"),
        [0x02],
        cborText("compression"),
        cborText("none"),
        cborText("data"),
        cborHead(2, data.length),
        data,
      );
      await c.write(framed(f));
    },
  }),
  defineCase({
    id: "lim.unknown_fields_ignored",
    title: "Unknown keys in frames, payloads and requests are ignored",
    rule: `${WIRE} §4.1, §10.1 #17 #22`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const p = bytes(
        [0xa3],
        cborText("type"),
        cborText("request"),
        cborText("body"),
        [0xa2],
        cborText("type"),
        cborText("get_worker_stats"),
        cborText("future_field"),
        cborText("ignored"),
        cborText("xroot_extra"),
        [0x01],
      );
      const f = bytes(
        [0xa3],
        cborText("type"),
        cborText("packet"),
        cborText("body"),
        [0xa4],
        cborText("id"),
        [0x02],
        cborText("compression"),
        cborText("none"),
        cborText("data"),
        cborHead(2, p.length),
        p,
        cborText("xbody_extra"),
        [0xf6],
        cborText("xroot"),
        cborText("x"),
      );
      const conn = await open(ctx);
      await conn.write(framed(f));
      await expectResponse(conn, 2, "a stats request with unknown keys");
    },
  }),
  defineCase({
    id: "lim.unknown_frame_type_ignored",
    title:
      'A frame of unknown type without body ({"type":"mystery"}) is ignored',
    rule: `${WIRE} §7.7 (Unknown ignored), §4.1`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      await expectAliveAfter(
        ctx,
        "an unknown body-less frame",
        (c) =>
          c.write(framed(bytes([0xa1], cborText("type"), cborText("mystery")))),
      );
    },
  }),
  defineCase({
    id: "lim.unknown_frame_with_body",
    title:
      "An unknown frame type WITH a body: reference closes, tolerant peers may ignore",
    rule: `${WIRE} §4.1, §11 #5`,
    severity: "implementation-defined",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      await conn.write(
        framed(
          bytes(
            [0xa2],
            cborText("type"),
            cborText("mystery"),
            cborText("body"),
            [0xa0],
          ),
        ),
      );
      const closed = await conn.waitClosed(1500);
      ctx.note(
        closed
          ? "closed the connection (reference behaviour)"
          : "ignored the frame (tolerant)",
      );
    },
  }),
  defineCase({
    id: "lim.unknown_payload_ignored",
    title:
      'A Packet whose payload has an unknown type ({"type":"mystery"}) is ignored',
    rule: `${WIRE} §7.9 (RpcPayload::Unknown dropped)`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      await expectAliveAfter(
        ctx,
        "an unknown payload",
        (c) =>
          c.sendData(4, bytes([0xa1], cborText("type"), cborText("mystery"))),
      );
    },
  }),
  closeCase({
    id: "lim.welcome_after_handshake_closes",
    title: "A second Welcome after the handshake closes the connection",
    rule: `${WIRE} §7.7 (handshake frame after handshake)`,
    what: "a second Welcome",
    send: (c) => c.writeFrame({ type: "welcome", body: c.welcome! }),
  }),
  closeCase({
    id: "lim.hello_after_handshake_closes",
    title:
      "A Hello sent by the router after the handshake closes the connection",
    rule: `${WIRE} §7.7 (handshake frame after handshake)`,
    what: "a Hello frame",
    send: (c) => c.writeFrame({ type: "hello", body: c.hello! }),
  }),
  closeCase({
    id: "lim.packet_over_max_packet_len_closes",
    title: "Packet data larger than max_packet_len closes the connection",
    rule: `${WIRE} §7.7 (PacketTooLarge)`,
    what: "a 5000-byte Packet with max_packet_len 4096",
    send: (c) =>
      c.sendPayload(2, {
        type: "request",
        body: {
          type: "load_files",
          revision: 1,
          files: [{ path: "A.java", text: "y".repeat(5000) }],
        },
      }),
    handshake: { router: { max_packet_len: 4096 } },
  }),
  closeCase({
    id: "lim.garbage_after_handshake_closes",
    title: "Random garbage after the handshake closes the connection",
    rule: `${WIRE} §7.7, §8.4 (v3_framed_transport)`,
    what: "64 bytes of garbage",
    send: async (c) => {
      const junk = new Uint8Array(64);
      for (let i = 0; i < junk.length; i++) junk[i] = (i * 89 + 17) & 255;
      junk.set([40, 0, 0, 0], 0);
      await c.write(junk);
    },
  }),
  closeCase({
    id: "lim.negative_id_closes",
    title: "A Packet id encoded as a negative integer closes the connection",
    rule: `${WIRE} §3.9 (negative values are errors)`,
    what: "a Packet with id -2",
    send: (c) => c.write(framed(packetWithRawId([0x21], statsPayload()))),
  }),
  closeCase({
    id: "lim.float_id_closes",
    title: "A Packet id encoded as a float closes the connection",
    rule: `${WIRE} §3.9 (floats are errors)`,
    what: "a Packet with id 2.0",
    send: (c) =>
      c.write(framed(packetWithRawId([0xf9, 0x40, 0x00], statsPayload()))),
  }),
  closeCase({
    id: "lim.text_data_closes",
    title: "Packet data given as a text string closes the connection",
    rule: `${WIRE} §4.3 (a text string for data is rejected)`,
    what: "data as a text string",
    send: async (c) => {
      const f = bytes(
        [0xa2],
        cborText("type"),
        cborText("packet"),
        cborText("body"),
        [0xa3],
        cborText("id"),
        [0x02],
        cborText("compression"),
        cborText("none"),
        cborText("data"),
        cborText("abc"),
      );
      await c.write(framed(f));
    },
  }),
  closeCase({
    id: "lim.invalid_utf8_closes",
    title: "Invalid UTF-8 in a request's text closes the connection",
    rule: `${WIRE} §4.3 (invalid UTF-8 is an error)`,
    what: "a path with invalid UTF-8",
    send: async (c) => {
      const p = rawRequest("diagnostics", { path: [0x63, 0xc3, 0x28, 0x41] });
      await c.sendData(2, p);
    },
  }),
  closeCase({
    id: "lim.long_type_string_closes",
    title: 'A "type" string longer than 64 bytes closes the connection',
    rule: `${WIRE} §6 rule 9 (type <= 64 bytes)`,
    what: "a 65-byte type string",
    send: async (c) => {
      const p = bytes([0xa1], cborText("type"), cborText("x".repeat(65)));
      await c.sendData(2, p);
    },
  }),
  closeCase({
    id: "lim.map_over_1024_pairs_closes",
    title: "A map with 1025 pairs closes the connection",
    rule: `${WIRE} §6 rule 7 (MAX_CBOR_MAP_LEN)`,
    what: "a 1025-pair map",
    send: async (c) => {
      const pairs: Uint8Array[] = [
        cborText("type"),
        cborText("request"),
        cborText("body"),
        bytes([0xa1], cborText("type"), cborText("get_worker_stats")),
      ];
      for (let i = 0; i < 1023; i++) {
        pairs.push(cborText(`k${i}`), bytes([0x00]));
      }
      const p = bytes(cborHead(5, 1025), ...pairs);
      await c.sendData(2, p);
    },
  }),
  defineCase({
    id: "lim.lenient_non_minimal_int",
    title: "A non-minimally encoded packet id (the reference accepts it)",
    rule: `${WIRE} §4.3 (leniencies)`,
    severity: "implementation-defined",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      await conn.write(
        framed(packetWithRawId([0x1b, 0, 0, 0, 0, 0, 0, 0, 4], statsPayload())),
      );
      await noteLeniency(ctx, conn, 4);
    },
  }),
  defineCase({
    id: "lim.lenient_indefinite_map",
    title: "An indefinite-length map in a payload (the reference accepts it)",
    rule: `${WIRE} §4.3 (leniencies)`,
    severity: "implementation-defined",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      const p = bytes(
        [0xbf],
        cborText("type"),
        cborText("request"),
        cborText("body"),
        [0xa1],
        cborText("type"),
        cborText("get_worker_stats"),
        [0xff],
      );
      await conn.sendData(4, p);
      await noteLeniency(ctx, conn, 4);
    },
  }),
];

/** A hand-built Packet frame body: `id` as raw CBOR bytes, any compression. */
function packetWithRawId(
  id: number[],
  data: Uint8Array,
  compression = "none",
): Uint8Array {
  return bytes(
    [0xa2],
    cborText("type"),
    cborText("packet"),
    cborText("body"),
    [0xa3],
    cborText("id"),
    id,
    cborText("compression"),
    cborText(compression),
    cborText("data"),
    cborHead(2, data.length),
    data,
  );
}

/**
 * Chunking cases.
 *
 * @example
 * ```ts
 * import { CHUNK_CASES } from "./wire.ts";
 * console.assert(CHUNK_CASES.length > 0 && CHUNK_CASES.every((c) => c.rule.includes("§")));
 * ```
 */
export const CHUNK_CASES: CaseDef[] = [
  defineCase({
    id: "chunk.offered",
    title: "The worker offers chunking (the reference worker does)",
    rule: `${WIRE} §7.1 (transport defaults), §5 (nova-worker offer)`,
    severity: "SHOULD",
    async run(ctx: CaseContext) {
      await ctx.startWorker();
      const hello = await (await ctx.accept()).readHello();
      if (!hello.capabilities.supports_chunking) {
        ctx.fail(
          "supports_chunking: true",
          "false (large responses cannot be sent under a small max_frame_len)",
        );
      }
    },
  }),
  defineCase({
    id: "chunk.router_to_worker_reassembled",
    title:
      "A chunked IndexShard (max_frame_len 4096) is reassembled and indexed",
    rule: `${WIRE} §7.6, §7.7, §10.2 #42`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await openChunked(ctx, {
        router: { max_frame_len: 4096, supported_compression: ["none"] },
      });
      const files = [
        { path: "src/Outer.java", text: OUTER_JAVA },
        ...bulkFiles(6, 1500),
      ];
      const index = await indexShard(conn, files);
      const outer = index.symbols.filter((s) => s.path === "src/Outer.java");
      expectSymbols(outer, symbolsFor("src/Outer.java", OUTER_SYMBOLS));
    },
  }),
  defineCase({
    id: "chunk.single_chunk_stream",
    title: "A stream of one chunk (seq 0, last) is processed",
    rule: `${WIRE} §7.7`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await openChunked(ctx);
      await chunk(conn, 2, 0, true, statsPayload());
      await expectResponse(conn, 2, "a single-chunk request");
    },
  }),
  defineCase({
    id: "chunk.empty_chunks_allowed",
    title: "Empty chunks inside a stream are allowed",
    rule: `${WIRE} §7.7`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await openChunked(ctx);
      const p = statsPayload();
      await chunk(conn, 2, 0, false, new Uint8Array());
      await chunk(conn, 2, 1, false, p.subarray(0, 5));
      await chunk(conn, 2, 2, false, p.subarray(5));
      await chunk(conn, 2, 3, true, new Uint8Array());
      await expectResponse(conn, 2, "a request with empty chunks");
    },
  }),
  defineCase({
    id: "chunk.interleaved_streams",
    title: "Two chunk streams interleaved are both reassembled",
    rule: `${WIRE} §7.7, §10.2 #49`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await openChunked(ctx);
      const a = encodeRpcPayload({
        type: "request",
        body: {
          type: "update_file",
          revision: 1,
          file: {
            path: "A.java",
            text: "class A { int a; }" + " ".repeat(300),
          },
        },
      });
      const b = encodeRpcPayload({ type: "request", body: STATS });
      const size = 64;
      const n = Math.max(
        Math.ceil(a.length / size),
        Math.ceil(b.length / size),
      );
      for (let i = 0; i < n; i++) {
        for (const [id, d] of [[2, a], [4, b]] as const) {
          const part = d.subarray(i * size, (i + 1) * size);
          if (i * size < d.length || (i === 0)) {
            await chunk(conn, id, i, (i + 1) * size >= d.length, part);
          }
        }
      }
      await expectResponse(conn, 2, "interleaved stream 2");
      await expectResponse(conn, 4, "interleaved stream 4");
    },
  }),
  defineCase({
    id: "chunk.32_streams_in_progress_ok",
    title: "32 chunk streams in progress at once are accepted",
    rule: `${WIRE} §5 (MAX_INFLIGHT_CHUNKED_PACKETS = 32)`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await openChunked(ctx);
      const p = statsPayload();
      const ids = Array.from({ length: 32 }, (_, i) => 2 + 2 * i);
      for (const id of ids) await chunk(conn, id, 0, false, p.subarray(0, 3));
      for (const id of ids) await chunk(conn, id, 1, true, p.subarray(3));
      for (const id of ids) {
        await expectResponse(conn, id, "one of 32 chunked requests");
      }
    },
  }),
  closeCase({
    id: "chunk.33_streams_closes",
    title: "A 33rd concurrent chunk stream closes the connection",
    rule: `${WIRE} §7.7, §10.2 #47`,
    what: "33 open chunk streams",
    send: async (c) => {
      for (let i = 0; i < 33; i++) {
        await chunk(c, 2 + 2 * i, 0, false, bytes([0xa2]));
      }
    },
  }),
  closeCase({
    id: "chunk.seq_gap_closes",
    title: "A gap in chunk seq closes the connection",
    rule: `${WIRE} §7.7 (chunk seq mismatch)`,
    what: "chunks seq 0 then 2",
    send: (c) => twoStatsChunks(c, 2),
  }),
  closeCase({
    id: "chunk.nonzero_start_closes",
    title: "A chunk stream starting at seq 1 closes the connection",
    rule: `${WIRE} §7.7 (chunk seq mismatch)`,
    what: "a stream starting at seq 1",
    send: (c) => chunk(c, 2, 1, true, statsPayload()),
  }),
  closeCase({
    id: "chunk.duplicate_seq_closes",
    title: "A repeated chunk seq closes the connection",
    rule: `${WIRE} §7.7 (chunk seq mismatch)`,
    what: "chunks seq 0, 0",
    send: (c) => twoStatsChunks(c, 0),
  }),
  closeCase({
    id: "chunk.compression_change_closes",
    title:
      "A chunk stream that changes compression mid-stream closes the connection",
    rule: `${WIRE} §7.7 (chunk compression changed)`,
    what: "chunks none then zstd",
    send: (c) => twoStatsChunks(c, 1, "zstd"),
  }),
  closeCase({
    id: "chunk.not_negotiated_closes",
    title:
      "A PacketChunk when chunking was not negotiated closes the connection",
    rule: `${WIRE} §7.7 (chunking not negotiated)`,
    what: "a PacketChunk with chunking off",
    send: (c) => chunk(c, 2, 0, true, statsPayload()),
    handshake: {
      router: { supports_chunking: false },
    },
  }),
  closeCase({
    id: "chunk.zero_id_closes",
    title: "A PacketChunk with id 0 closes the connection",
    rule: `${WIRE} §7.7`,
    what: "a chunk with id 0",
    send: (c) => chunk(c, 0, 0, true, statsPayload()),
  }),
  closeCase({
    id: "chunk.reassembly_over_packet_len_closes",
    title: "Chunks adding up to more than max_packet_len close the connection",
    rule: `${WIRE} §7.7 (PacketTooLarge)`,
    what: "3 x 2000-byte chunks with max_packet_len 4096",
    send: async (c) => {
      const part = new Uint8Array(2000);
      await chunk(c, 2, 0, false, part);
      await chunk(c, 2, 1, false, part);
      await chunk(c, 2, 2, true, part);
    },
    handshake: { router: { max_packet_len: 4096 } },
  }),
  defineCase({
    id: "chunk.worker_stream_structure",
    title:
      "Worker chunk streams: seq from 0 without gaps, last only at the end, one compression",
    rule: `${WIRE} §7.6 step 5`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await openChunked(ctx, {
        router: { max_frame_len: 2048, supported_compression: ["none"] },
      });
      await indexShard(conn, bulkFiles(8, 1200));
      if (conn.monitor.workerChunkFrames === 0) {
        ctx.fail("a chunked response", "no chunks");
      }
    },
  }),
  defineCase({
    id: "chunk.worker_chunk_size",
    title:
      "Worker chunks carry max_frame_len - 256 data bytes (all but the last)",
    rule: `${WIRE} §7.6 step 5 (CHUNK_OVERHEAD_GUESS)`,
    severity: "SHOULD",
    async run(ctx: CaseContext) {
      const conn = await openChunked(ctx, {
        router: { max_frame_len: 2048, supported_compression: ["none"] },
      });
      await indexShard(conn, bulkFiles(8, 1200));
      const chunks = conn.frames.filter((f) => f.type === "packet_chunk");
      if (chunks.length < 2) ctx.fail("at least 2 chunks", `${chunks.length}`);
      const sizes = chunks.map((f) =>
        f.type === "packet_chunk" ? f.body.data.length : 0
      );
      const bad = sizes.slice(0, -1).filter((s) => s !== 2048 - 256);
      if (bad.length) {
        ctx.fail("1792-byte chunks", `sizes ${sizes.slice(0, 8).join(", ")}`);
      }
    },
  }),
  defineCase({
    id: "chunk.packet_when_it_fits",
    title: "The worker uses a plain Packet when the frame fits",
    rule: `${WIRE} §7.6 step 4`,
    severity: "SHOULD",
    async run(ctx: CaseContext) {
      const conn = await open(ctx, { router: { max_frame_len: 2048 } });
      await stats(conn);
      if (conn.monitor.workerChunkFrames > 0) {
        ctx.fail("no chunks for a small response", "chunks");
      }
    },
  }),
];

/**
 * Compression cases.
 *
 * @example
 * ```ts
 * import { ZSTD_CASES } from "./wire.ts";
 * console.assert(ZSTD_CASES.length > 0 && ZSTD_CASES.every((c) => c.rule.includes("§")));
 * ```
 */
export const ZSTD_CASES: CaseDef[] = [
  defineCase({
    id: "zstd.offer_reported",
    title: "Whether the worker offers zstd (informational)",
    rule: `${WIRE} §7.4; the reference worker offers none`,
    severity: "implementation-defined",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      ctx.note(
        `offers: ${conn.hello!.capabilities.supported_compression.join(", ")}`,
      );
    },
  }),
  defineCase({
    id: "zstd.compressed_request_accepted",
    title: "A zstd-compressed IndexShard is decompressed and answered",
    rule: `${WIRE} §7.8, §10.2 #43`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      requireZstd(conn, ctx);
      const r = await conn.callOk(
        {
          type: "index_shard",
          revision: 1,
          files: [{ path: "O.java", text: OUTER_JAVA }, ...bulkFiles(4, 2000)],
        },
        "shard_index",
        { compression: "zstd" },
      );
      expectSymbols(
        r.body.symbols.filter((s) => s.path === "O.java"),
        symbolsFor("O.java", OUTER_SYMBOLS),
      );
    },
  }),
  defineCase({
    id: "zstd.chunked_compressed_request",
    title: "A zstd-compressed request split into chunks is answered",
    rule: `${WIRE} §7.7 (same compression per stream), §7.8`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await openChunked(ctx, { router: { max_frame_len: 1024 } });
      requireZstd(conn, ctx);
      await conn.callOk(
        { type: "index_shard", revision: 1, files: bulkFiles(20, 3000) },
        "shard_index",
        { compression: "zstd", chunkSize: 300 },
      );
    },
  }),
  defineCase({
    id: "zstd.worker_packets_valid",
    title:
      "zstd packets from the worker decompress to valid payloads within max_packet_len",
    rule: `${WIRE} §7.6 step 3, §7.8`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      requireZstd(conn, ctx);
      await indexShard(conn, bulkFiles(40, 2000));
      ctx.note(
        `worker used: ${[...conn.monitor.workerCompressions].join(", ")}`,
      );
    },
  }),
  defineCase({
    id: "zstd.bomb_rejected",
    title:
      "A zstd bomb (4 MiB output, max_packet_len 1 MiB) closes the connection",
    rule: `${WIRE} §7.8 (bounded decompression)`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx, { router: { max_packet_len: 1 << 20 } });
      requireZstd(conn, ctx);
      await stats(conn);
      await conn.write(
        encodeFrame({
          type: "packet",
          body: { id: 2, compression: "zstd", data: zstdBomb() },
        }),
      );
      await conn.expectClosed("a zstd bomb", 5000);
    },
  }),
  defineCase({
    id: "zstd.corrupt_data_closes",
    title: "zstd-flagged data that is not zstd closes the connection",
    rule: `${WIRE} §7.8`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      requireZstd(conn, ctx);
      await stats(conn);
      await conn.writeFrame({
        type: "packet",
        body: {
          id: 2,
          compression: "zstd",
          data: bytes(new Array(64).fill(0x5a)),
        },
      });
      await conn.expectClosed("corrupt zstd data", 3000);
    },
  }),
  closeCase({
    id: "zstd.not_negotiated_closes",
    title: 'zstd data when only "none" was chosen closes the connection',
    rule: `${WIRE} §7.8 (UnsupportedCompression)`,
    what: "a zstd Packet with [none] chosen",
    send: (c) => c.sendData(2, statsPayload(), { compression: "zstd" }),
    handshake: {
      router: { supported_compression: ["none"] },
    },
  }),
  closeCase({
    id: "zstd.unknown_algorithm_closes",
    title: 'A Packet with compression "lz4" (unknown) closes the connection',
    rule: `${WIRE} §7.8, §10.1 #18`,
    what: 'compression "lz4"',
    send: async (c) => {
      const f = packetWithRawId([0x02], statsPayload(), "lz4");
      await c.write(framed(f));
    },
  }),
];
