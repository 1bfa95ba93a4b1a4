/**
 * Handshake and authentication cases.
 *
 * @module
 */

import { encodeWireFrame } from "../../../lib/wire/codec.ts";
import { type CaseDef, defineCase } from "../case.ts";
import type { CaseContext } from "../harness.ts";
import { CaseFailure } from "../types.ts";
import {
  bulkFiles,
  expectEqual,
  indexShard,
  open,
  openChunked,
  RW,
  stats,
  WIRE,
} from "./_util.ts";

async function helloOnly(ctx: CaseContext) {
  await ctx.startWorker();
  const conn = await ctx.accept();
  const hello = await conn.readHello();
  return { conn, hello };
}

async function expectExitNonZero(
  ctx: CaseContext,
  after: string,
  timeoutMs = 5000,
): Promise<number> {
  const w = ctx.workers.at(-1)!;
  const exit = await w.waitExit(timeoutMs);
  if (exit === undefined) {
    throw new CaseFailure(
      `the worker exits with a non-zero code after ${after}`,
      `still running after ${timeoutMs} ms`,
    );
  }
  if (exit.code === 0) {
    throw new CaseFailure(
      `a non-zero exit code after ${after}`,
      "exit code 0",
    );
  }
  return exit.code ?? -1;
}

async function rejectScenario(
  ctx: CaseContext,
  code: "unauthorized" | "unsupported_version" | "invalid_request" | "internal",
  message: string,
): Promise<void> {
  const { conn } = await helloOnly(ctx);
  await conn.reject({ code, message });
  conn.close();
  await expectExitNonZero(ctx, `a Reject{${code}}`);
}

/**
 * Handshake cases.
 *
 * @example
 * ```ts
 * import { HANDSHAKE_CASES } from "./handshake.ts";
 * console.assert(HANDSHAKE_CASES.length > 0 && HANDSHAKE_CASES.every((c) => c.rule.includes("§")));
 * ```
 */
export const HANDSHAKE_CASES: CaseDef[] = [
  defineCase({
    id: "hs.hello_first_frame",
    title: "The worker's first frame is a Hello",
    rule: `${WIRE} §7.2`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      await helloOnly(ctx);
    },
  }),
  defineCase({
    id: "hs.hello_version_3_0",
    title: "Hello.supported_versions includes 3.0",
    rule: `${WIRE} §3.2, §7.3 step 6`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const { hello } = await helloOnly(ctx);
      const { min, max } = hello.supported_versions;
      const le = (
        a: { major: number; minor: number },
        b: { major: number; minor: number },
      ) => a.major < b.major || (a.major === b.major && a.minor <= b.minor);
      const v = { major: 3, minor: 0 };
      if (!le(min, v) || !le(v, max)) {
        ctx.fail(
          "min <= 3.0 <= max",
          `${min.major}.${min.minor} - ${max.major}.${max.minor}`,
        );
      }
    },
  }),
  defineCase({
    id: "hs.hello_shard_id",
    title: "Hello.shard_id is the shard given on the command line",
    rule: `${RW} §3.3`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const { hello } = await helloOnly(ctx);
      expectEqual("hello.shard_id", hello.shard_id, ctx.shard);
    },
  }),
  defineCase({
    id: "hs.hello_shard_id_u32_max",
    title: "The full u32 shard id range round-trips (shard 4294967295)",
    rule: `${WIRE} §3.9; ${RW} §3.1`,
    severity: "MUST",
    shard: 4294967295,
    async run(ctx: CaseContext) {
      const { conn, hello } = await helloOnly(ctx);
      expectEqual("hello.shard_id", hello.shard_id, 4294967295);
      conn.welcome = conn.buildWelcome();
      await conn.writeFrame({ type: "welcome", body: conn.welcome });
      expectEqual("stats.shard_id", (await stats(conn)).shard_id, 4294967295);
    },
  }),
  defineCase({
    id: "hs.hello_nonzero_limits",
    title: "Hello offers non-zero max_frame_len and max_packet_len",
    rule: `${WIRE} §7.3 step 4`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const { hello } = await helloOnly(ctx);
      const c = hello.capabilities;
      if (c.max_frame_len === 0 || c.max_packet_len === 0) {
        ctx.fail(
          "non-zero limits",
          `max_frame_len=${c.max_frame_len}, max_packet_len=${c.max_packet_len}`,
        );
      }
      ctx.note(
        `offers max_frame_len=${c.max_frame_len}, max_packet_len=${c.max_packet_len}, compression=${
          c.supported_compression.join("/")
        }, cancel=${c.supports_cancel}, chunking=${c.supports_chunking}`,
      );
    },
  }),
  defineCase({
    id: "hs.hello_offers_none",
    title:
      'Hello.supported_compression contains "none" and no unknown algorithm',
    rule: `${WIRE} §7.1 (capability sanitising)`,
    severity: "SHOULD",
    async run(ctx: CaseContext) {
      const { hello } = await helloOnly(ctx);
      const list = hello.capabilities.supported_compression;
      if (!list.includes("none") || list.includes("unknown")) {
        ctx.fail(
          'a list with "none" and only known algorithms',
          JSON.stringify(list),
        );
      }
    },
  }),
  defineCase({
    id: "hs.hello_no_cache_info_when_fresh",
    title: "A worker with an empty cache dir sends cached_index_info = null",
    rule: `${RW} §3.3`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const { hello } = await helloOnly(ctx);
      if (hello.cached_index_info !== null) {
        ctx.fail(
          "cached_index_info null",
          JSON.stringify(hello.cached_index_info),
        );
      }
    },
  }),
  defineCase({
    id: "hs.hello_canonical_encoding",
    title:
      "The Hello bytes are the canonical encoding (re-encoding gives the same bytes)",
    rule: `${WIRE} §2, §3.2`,
    severity: "SHOULD",
    async run(ctx: CaseContext) {
      const { conn } = await helloOnly(ctx);
      const got = conn.frameBytes[0];
      const again = encodeWireFrame(conn.frames[0]);
      if (got.length !== again.length || got.some((b, i) => b !== again[i])) {
        ctx.fail(
          "definite lengths, declaration key order, shortest integers",
          `${got.length} bytes differ from the ${again.length}-byte canonical form`,
        );
      }
    },
  }),
  defineCase({
    id: "hs.hello_within_prehandshake_limit",
    title: "The Hello frame fits the 1 MiB pre-handshake limit",
    rule: `${WIRE} §1`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const { conn } = await helloOnly(ctx);
      if (conn.frameBytes[0].length > 1_048_576) {
        ctx.fail("<= 1048576 bytes", `${conn.frameBytes[0].length} bytes`);
      }
    },
  }),
  defineCase({
    id: "hs.no_frames_before_welcome",
    title: "The worker sends nothing after its Hello until the Welcome",
    rule: `${WIRE} §7.2`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const { conn } = await helloOnly(ctx);
      await conn.waitFor(() => undefined, 600);
      if (conn.frames.length > 1) {
        ctx.fail(
          "only the Hello before the Welcome",
          `${conn.frames.length} frames (second: ${conn.frames[1].type})`,
        );
      }
      conn.welcome = conn.buildWelcome();
      await conn.writeFrame({ type: "welcome", body: conn.welcome });
      await stats(conn);
    },
  }),
  defineCase({
    id: "hs.welcome_starts_data_plane",
    title: "After the Welcome the worker answers GetWorkerStats",
    rule: `${WIRE} §7.2`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx);
      await stats(conn);
    },
  }),
  defineCase({
    id: "hs.reject_unauthorized_exits",
    title: "Reject{unauthorized} makes the worker exit non-zero",
    rule: `${WIRE} §7.2; ${RW} §3.2 step 6, §3.8`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      await rejectScenario(ctx, "unauthorized", "authentication failed");
    },
  }),
  defineCase({
    id: "hs.reject_unsupported_version_exits",
    title: "Reject{unsupported_version} makes the worker exit non-zero",
    rule: `${WIRE} §7.2; ${RW} §3.8`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      await rejectScenario(
        ctx,
        "unsupported_version",
        "unsupported protocol version",
      );
    },
  }),
  defineCase({
    id: "hs.reject_admission_exits",
    title:
      "An admission Reject{invalid_request} makes the worker exit non-zero",
    rule: `${WIRE} §7.3 step 8; ${RW} §3.8`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      await rejectScenario(
        ctx,
        "invalid_request",
        "shard 7 already has a connected worker",
      );
    },
  }),
  defineCase({
    id: "hs.reject_clear_message",
    title: "After a Reject the worker's stderr names the rejection",
    rule: `${WIRE} §7.2 (handshake rejected (code=...): message)`,
    severity: "SHOULD",
    async run(ctx: CaseContext) {
      await rejectScenario(ctx, "unauthorized", "authentication failed");
      const err = ctx.workers[0].stderr.toLowerCase();
      if (!/reject|unauthori[sz]ed|authentication/.test(err)) {
        ctx.fail(
          "stderr mentions the rejection",
          `stderr: ${JSON.stringify(err.slice(-300))}`,
        );
      }
    },
  }),
  defineCase({
    id: "hs.welcome_shard_mismatch",
    title: "A Welcome for another shard is refused (non-zero exit)",
    rule: `${RW} §3.2 step 7`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const { conn, hello } = await helloOnly(ctx);
      conn.welcome = conn.buildWelcome({
        welcome: { shard_id: hello.shard_id + 1 },
      });
      await conn.writeFrame({ type: "welcome", body: conn.welcome });
      await expectExitNonZero(ctx, "a Welcome with the wrong shard id");
    },
  }),
  defineCase({
    id: "hs.unexpected_frame_instead_of_welcome",
    title: "A Packet instead of the Welcome fails the handshake",
    rule: `${WIRE} §7.2 (unexpected handshake frame)`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      ctx.checkTraffic = false;
      const { conn } = await helloOnly(ctx);
      await conn.writeFrame({
        type: "packet",
        body: { id: 2, compression: "none", data: new Uint8Array([0xa0]) },
      });
      await expectExitNonZero(ctx, "a Packet as the handshake reply");
    },
  }),
  defineCase({
    id: "hs.eof_before_welcome",
    title: "The router closing before the Welcome fails the handshake",
    rule: `${WIRE} §7.2; ${RW} §3.8`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const { conn } = await helloOnly(ctx);
      conn.close();
      await expectExitNonZero(ctx, "EOF instead of a Welcome");
    },
  }),
  defineCase({
    id: "hs.oversize_prefix_before_welcome",
    title:
      "A 4 GiB length prefix as the handshake reply fails fast (no allocation, no hang)",
    rule: `${WIRE} §1 (pre-handshake limit 1 MiB)`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const { conn } = await helloOnly(ctx);
      await conn.write(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
      const w = ctx.workers[0];
      const closed = await conn.waitClosed(3000);
      const exit = await w.waitExit(closed ? 3000 : 1);
      if (!closed && exit === undefined) {
        ctx.fail(
          "the worker gives up on the oversized Welcome frame",
          "it kept waiting for 4 GiB",
        );
      }
      if (exit && exit.code === 0) ctx.fail("a non-zero exit", "exit code 0");
    },
  }),
  defineCase({
    id: "hs.small_max_frame_len_honoured",
    title:
      "A Welcome with max_frame_len 4096 makes the worker chunk large responses",
    rule: `${WIRE} §7.4, §7.6`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await openChunked(ctx, {
        router: { max_frame_len: 4096, supported_compression: ["none"] },
      });
      const files = bulkFiles(12, 1500);
      const index = await indexShard(conn, files);
      if (index.symbols.length < 12) {
        ctx.fail("a full index", `${index.symbols.length} symbols`);
      }
      const over = conn.monitor.workerFrameSizes.filter((s) => s - 4 > 4096);
      if (over.length) {
        ctx.fail(
          "every worker frame <= 4096 bytes",
          `frames of ${over.join(", ")} bytes`,
        );
      }
      if (conn.monitor.workerChunkFrames === 0) {
        ctx.fail(
          "the large ShardIndex sent as PacketChunks",
          "no PacketChunk frame",
        );
      }
    },
  }),
  defineCase({
    id: "hs.no_chunks_when_chunking_off",
    title:
      "With chunking off the worker never sends PacketChunk nor oversized frames",
    rule: `${WIRE} §7.6 step 5`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx, {
        router: {
          max_frame_len: 16384,
          supports_chunking: false,
          supported_compression: ["none"],
        },
      });
      await stats(conn);
      const id = await conn.request({
        type: "index_shard",
        revision: 1,
        files: bulkFiles(20, 1500),
      });
      const got = await conn.waitResponse(id, 4000);
      ctx.note(
        got
          ? `response: ${got.result.status}`
          : "no response (the reply could not be sent)",
      );
      if (conn.monitor.workerChunkFrames > 0) {
        ctx.fail("no PacketChunk", `${conn.monitor.workerChunkFrames} chunks`);
      }
    },
  }),
  defineCase({
    id: "hs.compression_none_chosen",
    title:
      'With ["none"] chosen the worker never compresses, even large responses',
    rule: `${WIRE} §7.6 step 3, §7.8`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx, {
        router: { supported_compression: ["none"] },
      });
      await indexShard(conn, bulkFiles(30, 2000));
      const used = [...conn.monitor.workerCompressions];
      if (used.some((c) => c !== "none")) {
        ctx.fail('compression "none" only', used.join(", "));
      }
    },
  }),
  defineCase({
    id: "hs.small_max_packet_len_honoured",
    title: "A Welcome with max_packet_len 8192 is never exceeded by the worker",
    rule: `${WIRE} §7.6 step 2`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx, {
        router: {
          max_frame_len: 8192,
          max_packet_len: 8192,
          supported_compression: ["none"],
        },
      });
      await stats(conn);
      const id = await conn.request({
        type: "index_shard",
        revision: 1,
        files: bulkFiles(3, 400),
      });
      const got = await conn.waitResponse(id, 4000);
      ctx.note(got ? `small response: ${got.result.status}` : "no response");
      const big = await conn.request({
        type: "index_shard",
        revision: 2,
        files: bulkFiles(40, 1500),
      });
      const got2 = await conn.waitResponse(big, 4000);
      ctx.note(
        got2
          ? `large response: ${got2.result.status}`
          : "large response not sent (too large)",
      );
    },
  }),
  defineCase({
    id: "hs.welcome_values_used",
    title: "The worker accepts any worker_id/revision in the Welcome",
    rule: `${WIRE} §3.2, §7.3 step 9`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const conn = await open(ctx, {
        welcome: { worker_id: 4000000000, revision: 2n ** 60n },
      });
      await stats(conn);
    },
  }),
];

/**
 * Authentication cases.
 *
 * @example
 * ```ts
 * import { AUTH_CASES } from "./handshake.ts";
 * console.assert(AUTH_CASES.length > 0 && AUTH_CASES.every((c) => c.rule.includes("§")));
 * ```
 */
export const AUTH_CASES: CaseDef[] = [
  defineCase({
    id: "auth.token_presented",
    title: "The token from the env var is presented in Hello.auth_token",
    rule: `${RW} §3.1 (--auth-token-env), §3.3`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const { hello } = await helloOnly(ctx);
      if (hello.auth_token !== ctx.token) {
        ctx.fail(
          "auth_token equal to the configured token",
          hello.auth_token === null ? "null" : "a different value",
        );
      }
    },
  }),
  defineCase({
    id: "auth.token_trimmed",
    title: "Whitespace around the env token is trimmed",
    rule: `${RW} §3.1`,
    severity: "SHOULD",
    async run(ctx: CaseContext) {
      await ctx.startWorker({ token: `  ${ctx.token}\n` });
      const conn = await ctx.accept();
      const hello = await conn.readHello();
      if (hello.auth_token !== ctx.token) {
        ctx.fail(
          "the trimmed token",
          hello.auth_token === null
            ? "null"
            : "an untrimmed or different value",
        );
      }
    },
  }),
  defineCase({
    id: "auth.wrong_token_rejected",
    title: "A worker with the wrong token is rejected and exits non-zero",
    rule: `${WIRE} §7.3 step 5; ${RW} §3.8`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      await ctx.startWorker({ token: "wrong-token-value" });
      const conn = await ctx.accept();
      const hello = await conn.readHello();
      if (hello.auth_token === ctx.token) {
        ctx.fail("the wrong token presented", "the right token");
      }
      await conn.reject({
        code: "unauthorized",
        message: "authentication failed",
      });
      conn.close();
      await expectExitNonZero(ctx, "Reject{unauthorized}");
    },
  }),
  defineCase({
    id: "auth.token_never_logged",
    title: "The token never appears in the worker's output, even on rejection",
    rule: `${RW} §3.9; ${WIRE} §3.2 (auth_present only)`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const { conn } = await helloOnly(ctx);
      await conn.reject({
        code: "unauthorized",
        message: "authentication failed",
      });
      conn.close();
      await ctx.workers[0].waitExit(5000);
      const w = ctx.workers[0];
      if (w.stderr.includes(ctx.token) || w.stdout.includes(ctx.token)) {
        ctx.fail("no token in stderr/stdout", "the token was printed");
      }
    },
  }),
];
