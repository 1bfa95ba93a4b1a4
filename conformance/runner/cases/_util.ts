/**
 * Helpers shared by the case families: Java fixtures with their expected
 * symbols, symbol comparison and small scenario building blocks.
 *
 * @module
 */

import type { CaseContext } from "../harness.ts";
import type { Conn, HandshakeOptions } from "../conn.ts";
import type {
  FileText,
  ShardIndex,
  Symbol,
  WorkerStats,
} from "../../../lib/wire/types.ts";
import { CaseFailure } from "../types.ts";

/**
 * Spec references used by the cases.
 *
 * @example
 * ```ts
 * import { WIRE } from "./_util.ts";
 * console.assert(WIRE === "nova-wire");
 * ```
 */
export const WIRE = "nova-wire";
/**
 * The router/worker digest.
 *
 * @example
 * ```ts
 * import { RW } from "./_util.ts";
 * console.assert(RW === "nova-router-worker");
 * ```
 */
export const RW = "nova-router-worker";

/**
 * The worked example of the router/worker digest §4.6.
 *
 * @example
 * ```ts
 * import { OUTER_JAVA } from "./_util.ts";
 * console.assert(OUTER_JAVA.includes("class Outer"));
 * ```
 */
export const OUTER_JAVA = [
  "package p;",
  "",
  "public class Outer<T> extends Base implements Runnable {",
  "    private int a, b;",
  "    public Outer() {}",
  "    Outer(int x) {}",
  "    void run() {}",
  "    void run(int n) {}",
  "    static { }",
  "    enum Color { RED, GREEN; void paint() {} }",
  "    record Point(int x, int y) { Point { } }",
  '    @interface Ann { String value() default ""; }',
  "    interface Api { void call(); }",
  "}",
  "",
].join("\n");

/**
 * Expected symbols of {@link OUTER_JAVA} as [name, line, column].
 *
 * @example
 * ```ts
 * import { OUTER_SYMBOLS } from "./_util.ts";
 * console.assert(OUTER_SYMBOLS.length === 15);
 * ```
 */
export const OUTER_SYMBOLS: [string, number, number][] = [
  ["Ann", 11, 15],
  ["Api", 12, 14],
  ["Color", 9, 9],
  ["GREEN", 9, 22],
  ["Outer", 2, 13],
  ["Point", 10, 11],
  ["RED", 9, 17],
  ["a", 3, 16],
  ["b", 3, 19],
  ["call", 12, 25],
  ["paint", 9, 34],
  ["run", 6, 9],
  ["value", 11, 28],
  ["x", 10, 21],
  ["y", 10, 28],
];

/**
 * The UTF-16 golden vector of the digest §4.4.
 *
 * @example
 * ```ts
 * import { EMOJI_JAVA } from "./_util.ts";
 * console.assert(EMOJI_JAVA.includes("class Foo"));
 * ```
 */
export const EMOJI_JAVA =
  "package com.example;\n\n/* \u{1F980} */ public class Foo {\n    public void bar() {}\n}\n";

/**
 * Expected symbols of {@link EMOJI_JAVA}.
 *
 * @example
 * ```ts
 * import { EMOJI_SYMBOLS } from "./_util.ts";
 * console.assert(EMOJI_SYMBOLS[0][2] === 22);
 * ```
 */
export const EMOJI_SYMBOLS: [string, number, number][] = [
  ["Foo", 2, 22],
  ["bar", 3, 16],
];

/**
 * A small class with one field and one method.
 *
 * @param name Class name.
 * @returns Java text.
 *
 * @example
 * ```ts
 * import { simpleClass } from "./_util.ts";
 * console.assert(simpleClass("Zed").includes("class Zed"));
 * ```
 */
export function simpleClass(name: string): string {
  return `package q;\n\npublic class ${name} {\n    int ${name.toLowerCase()}Field;\n    void ${name.toLowerCase()}Method() {}\n}\n`;
}

/**
 * Expected symbols of {@link simpleClass} as [name, line, column].
 *
 * @example
 * ```ts
 * import { simpleClassSymbols } from "./_util.ts";
 * console.assert(simpleClassSymbols("Zed")[1][0] === "zedField");
 * ```
 */
export function simpleClassSymbols(name: string): [string, number, number][] {
  const lower = name.toLowerCase();
  return [
    [name, 2, 13],
    [`${lower}Field`, 3, 8],
    [`${lower}Method`, 4, 9],
  ];
}

/**
 * Builds `count` files of roughly `size` bytes each, one class per file.
 *
 * @param count Number of files.
 * @param size Approximate size of each file.
 * @param prefix Path prefix.
 * @returns The files.
 *
 * @example
 * ```ts
 * import { bulkFiles } from "./_util.ts";
 * console.assert(bulkFiles(2, 500).every((f) => f.text.length >= 500));
 * ```
 */
export function bulkFiles(
  count: number,
  size: number,
  prefix = "src/gen",
): FileText[] {
  const files: FileText[] = [];
  for (let i = 0; i < count; i++) {
    const name = `Gen${i}`;
    let text = `package gen;\n\npublic class ${name} {\n`;
    let m = 0;
    while (text.length < size) {
      text +=
        `    int field${m}_${i};\n    void method${m}_${i}() { int local = ${m}; }\n`;
      m++;
    }
    text += "}\n";
    files.push({ path: `${prefix}/${name}.java`, text });
  }
  return files;
}

/**
 * Sorts symbols the way the digest §4.5 requires (byte-wise by name, path,
 * line, column).
 *
 * @param symbols Symbols.
 * @returns A sorted copy.
 *
 * @example
 * ```ts
 * import { sortedSymbols } from "./_util.ts";
 * const s = sortedSymbols([{ name: "b", path: "p", line: 0, column: 0 }, { name: "B", path: "p", line: 0, column: 0 }]);
 * console.assert(s[0].name === "B");
 * ```
 */
export function sortedSymbols(symbols: readonly Symbol[]): Symbol[] {
  const enc = new TextEncoder();
  const cmp = (a: string, b: string): number => {
    const x = enc.encode(a);
    const y = enc.encode(b);
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      if (x[i] !== y[i]) return x[i] - y[i];
    }
    return x.length - y.length;
  };
  return [...symbols].sort((a, b) =>
    cmp(a.name, b.name) || cmp(a.path, b.path) || a.line - b.line ||
    a.column - b.column
  );
}

function fmt(s: Symbol): string {
  return `${s.name}@${s.path}:${s.line}:${s.column}`;
}

/**
 * Fails unless `actual` holds exactly `expected`, in order.
 *
 * @param actual The worker's symbols.
 * @param expected The expected symbols.
 *
 * @example
 * ```ts
 * import { expectSymbols } from "./_util.ts";
 * expectSymbols([], []);
 * ```
 */
export function expectSymbols(
  actual: readonly Symbol[],
  expected: readonly Symbol[],
): void {
  const a = actual.map(fmt);
  const e = expected.map(fmt);
  if (a.join("\n") === e.join("\n")) return;
  const missing = e.filter((x) => !a.includes(x));
  const extra = a.filter((x) => !e.includes(x));
  throw new CaseFailure(
    `exactly ${e.length} symbols in order: ${e.slice(0, 20).join(", ")}${
      e.length > 20 ? ", ..." : ""
    }`,
    `${a.length} symbols; missing [${
      missing.slice(0, 10).join(", ")
    }]; unexpected [${extra.slice(0, 10).join(", ")}]${
      missing.length === 0 && extra.length === 0 ? "; order differs" : ""
    }`,
  );
}

/**
 * Turns [name, line, column] triples into symbols for one path.
 *
 * @param path The file path.
 * @param triples The triples.
 * @returns Symbols.
 *
 * @example
 * ```ts
 * import { symbolsFor } from "./_util.ts";
 * console.assert(symbolsFor("A.java", [["A", 0, 6]])[0].path === "A.java");
 * ```
 */
export function symbolsFor(
  path: string,
  triples: readonly [string, number, number][],
): Symbol[] {
  return triples.map(([name, line, column]) => ({ name, path, line, column }));
}

/**
 * Fails unless two values are equal (compared as strings).
 *
 * @param what What is compared.
 * @param actual Observed value.
 * @param expected Expected value.
 *
 * @example
 * ```ts
 * import { expectEqual } from "./_util.ts";
 * expectEqual("revision", 5n, 5);
 * ```
 */
export function expectEqual(
  what: string,
  actual: unknown,
  expected: unknown,
): void {
  if (String(actual) !== String(expected)) {
    throw new CaseFailure(
      `${what} = ${String(expected)}`,
      `${what} = ${String(actual)}`,
    );
  }
}

/**
 * Runs IndexShard and returns the index.
 *
 * @param conn The connection.
 * @param files Files.
 * @param revision Revision.
 * @param timeoutMs Response timeout.
 * @returns The shard index.
 *
 * @example
 * ```ts ignore
 * import { indexShard } from "./_util.ts";
 * // Used inside case bodies with a live connection or context.
 * ```
 */
export async function indexShard(
  conn: Conn,
  files: FileText[],
  revision: number | bigint = 1,
  timeoutMs?: number,
): Promise<ShardIndex> {
  const r = await conn.callOk(
    { type: "index_shard", revision, files },
    "shard_index",
    { timeoutMs },
  );
  return r.body;
}

/**
 * Gets the worker's stats.
 *
 * @param conn The connection.
 * @returns The stats.
 *
 * @example
 * ```ts ignore
 * import { stats } from "./_util.ts";
 * // Used inside case bodies with a live connection or context.
 * ```
 */
export async function stats(conn: Conn): Promise<WorkerStats> {
  return (await conn.callOk({ type: "get_worker_stats" }, "worker_stats")).body;
}

/**
 * Starts a worker, handshakes with the given options and returns the
 * connection.
 *
 * @param ctx The case context.
 * @param options Handshake options.
 * @returns The connection.
 *
 * @example
 * ```ts ignore
 * import { open } from "./_util.ts";
 * // Used inside case bodies with a live connection or context.
 * ```
 */
export async function open(
  ctx: CaseContext,
  options: HandshakeOptions = {},
): Promise<Conn> {
  await ctx.startWorker();
  const conn = await ctx.accept();
  await conn.handshake(options);
  return conn;
}

/**
 * Like {@link open}, but skips the case when the worker does not offer
 * chunking (a worker may legitimately offer `supports_chunking: false`;
 * `chunk.offered` reports that separately).
 *
 * @param ctx The case context.
 * @param options Handshake options.
 * @returns The connection.
 *
 * @example
 * ```ts ignore
 * import { openChunked } from "./_util.ts";
 * const conn = await openChunked(ctx, { router: { max_frame_len: 4096 } });
 * ```
 */
export async function openChunked(
  ctx: CaseContext,
  options: HandshakeOptions = {},
): Promise<Conn> {
  await ctx.startWorker();
  const conn = await ctx.accept();
  const hello = await conn.readHello();
  if (!hello.capabilities.supports_chunking) {
    ctx.skip("the worker does not offer chunking");
  }
  conn.welcome = conn.buildWelcome(options);
  await conn.writeFrame({ type: "welcome", body: conn.welcome });
  return conn;
}

/**
 * Sends bytes after a normal handshake and requires the worker to close.
 *
 * @param ctx The case context.
 * @param what What is being sent (for the evidence).
 * @param send Sends the hostile bytes.
 * @param options Handshake options.
 *
 * @example
 * ```ts ignore
 * import { expectCloseAfter } from "./_util.ts";
 * // Used inside case bodies with a live connection or context.
 * ```
 */
export async function expectCloseAfter(
  ctx: CaseContext,
  what: string,
  send: (conn: Conn) => Promise<void>,
  options: HandshakeOptions = {},
): Promise<void> {
  const conn = await open(ctx, options);
  await stats(conn);
  await send(conn);
  await conn.expectClosed(what, 3000);
}

/**
 * Sends something after a normal handshake and requires the connection to
 * keep working.
 *
 * @param ctx The case context.
 * @param what What is being sent.
 * @param send Sends it.
 * @param options Handshake options.
 *
 * @example
 * ```ts ignore
 * import { expectAliveAfter } from "./_util.ts";
 * // Used inside case bodies with a live connection or context.
 * ```
 */
export async function expectAliveAfter(
  ctx: CaseContext,
  what: string,
  send: (conn: Conn) => Promise<void>,
  options: HandshakeOptions = {},
): Promise<void> {
  const conn = await open(ctx, options);
  await send(conn);
  await conn.expectAlive(what);
}

const TEXT = new TextEncoder();

/**
 * Encodes a CBOR text string head plus bytes (for hand-built payloads).
 *
 * @param s The string.
 * @returns CBOR bytes.
 *
 * @example
 * ```ts
 * import { cborText } from "./_util.ts";
 * console.assert(cborText("ab").join() === "98,97,98");
 * ```
 */
export function cborText(s: string): Uint8Array {
  const b = TEXT.encode(s);
  return new Uint8Array([...cborHead(3, b.length), ...b]);
}

/**
 * Encodes a CBOR head.
 *
 * @param major Major type.
 * @param n Argument.
 * @returns Head bytes.
 *
 * @example
 * ```ts
 * import { cborHead } from "./_util.ts";
 * console.assert(cborHead(2, 300).join() === "89,1,44");
 * ```
 */
export function cborHead(major: number, n: number): number[] {
  const m = major << 5;
  if (n < 24) return [m | n];
  if (n < 256) return [m | 24, n];
  if (n < 65536) return [m | 25, n >> 8, n & 255];
  return [m | 26, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

/**
 * Frames raw CBOR bytes with a u32 LE length prefix.
 *
 * @param body The frame body.
 * @returns The framed bytes.
 *
 * @example
 * ```ts
 * import { framed } from "./_util.ts";
 * console.assert(framed(new Uint8Array([1])).join() === "1,0,0,0,1");
 * ```
 */
export function framed(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length, true);
  out.set(body, 4);
  return out;
}

/**
 * Joins byte arrays and numbers into one array.
 *
 * @param parts Arrays or byte values.
 * @returns The bytes.
 *
 * @example
 * ```ts
 * import { bytes } from "./_util.ts";
 * console.assert(bytes([1], 2, new Uint8Array([3])).length === 3);
 * ```
 */
export function bytes(
  ...parts: (Uint8Array | number[] | number)[]
): Uint8Array {
  const flat: number[] = [];
  for (const p of parts) {
    if (typeof p === "number") flat.push(p);
    else flat.push(...p);
  }
  return new Uint8Array(flat);
}

/**
 * Hand-builds a request payload `{type: "request", body: {type, ...fields}}`
 * whose field values are raw CBOR (for bytes our encoder refuses to write).
 *
 * @param type The request type.
 * @param fields Further body fields: key to raw CBOR value.
 * @returns The payload bytes.
 *
 * @example
 * ```ts
 * import { rawRequest } from "./_util.ts";
 * const p = rawRequest("frobnicate", { arg: [0x01] });
 * console.assert(p[0] === 0xa2 && p.at(-1) === 0x01);
 * ```
 */
export function rawRequest(
  type: string,
  fields: Record<string, Uint8Array | number[]> = {},
): Uint8Array {
  const entries = Object.entries(fields);
  return bytes(
    [0xa2],
    cborText("type"),
    cborText("request"),
    cborText("body"),
    cborHead(5, 1 + entries.length),
    cborText("type"),
    cborText(type),
    ...entries.flatMap(([key, value]) => [cborText(key), value]),
  );
}
