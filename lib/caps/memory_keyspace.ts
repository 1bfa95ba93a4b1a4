/**
 * An in-memory keyspace with the Redis data types and commands the caps
 * area uses (strings, hashes, sets, sorted sets, millisecond TTLs), driven
 * by an injected clock. It answers the same RESP2-shaped replies a client
 * returns, so the preamble and the registry listing run unchanged on it.
 *
 * @module
 */

import type { ServerCommand, ServerReply } from "./preamble.ts";

/** Redis's wrong-type error text. */
export const WRONGTYPE_MESSAGE =
  "WRONGTYPE Operation against a key holding the wrong kind of value";

/** A sorted set: members by score, kept in (score, member) order. */
export class SortedSet {
  /** Member → score (read-only for callers; use add/remove). */
  readonly scores: Map<string, number> = new Map();
  readonly #members: string[] = [];
  readonly #order: number[] = [];

  /** Number of members. */
  get size(): number {
    return this.scores.size;
  }

  #position(member: string, score: number): number {
    const scores = this.#order;
    const members = this.#members;
    let lo = 0;
    let hi = scores.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const s = scores[mid];
      if (s < score || (s === score && members[mid] < member)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Adds or re-scores a member.
   *
   * @param member The member.
   * @param score The score.
   * @returns 1 when the member is new, else 0.
   */
  add(member: string, score: number): number {
    const old = this.scores.get(member);
    if (old !== undefined) {
      if (old === score) return 0;
      this.remove(member);
      this.#insert(member, score);
      return 0;
    }
    this.#insert(member, score);
    return 1;
  }

  #insert(member: string, score: number): void {
    const at = this.#position(member, score);
    this.scores.set(member, score);
    const members = this.#members;
    const scores = this.#order;
    members.push(member);
    scores.push(score);
    for (let i = members.length - 1; i > at; i--) {
      members[i] = members[i - 1];
      scores[i] = scores[i - 1];
    }
    members[at] = member;
    scores[at] = score;
  }

  /**
   * Removes a member.
   *
   * @param member The member.
   * @returns 1 when it was there, else 0.
   */
  remove(member: string): number {
    const score = this.scores.get(member);
    if (score === undefined) return 0;
    const at = this.#position(member, score);
    const members = this.#members;
    const scores = this.#order;
    const last = members.length - 1;
    for (let i = at; i < last; i++) {
      members[i] = members[i + 1];
      scores[i] = scores[i + 1];
    }
    members.pop();
    scores.pop();
    this.scores.delete(member);
    return 1;
  }

  /**
   * Members with `min <= score <= max`, in order, after `offset`, at most
   * `count` (all when negative).
   *
   * @param min Lowest score.
   * @param max Highest score.
   * @param offset Members to skip.
   * @param count Most members to return.
   * @returns The members.
   */
  rangeByScore(min: number, max: number, offset = 0, count = -1): string[] {
    const out: string[] = [];
    const scores = this.#order;
    let i = min === -Infinity ? 0 : this.#position("", min);
    while (i < scores.length && scores[i] < min) i++;
    i += offset;
    for (; i < scores.length; i++) {
      if (scores[i] > max) break;
      if (count >= 0 && out.length >= count) break;
      out.push(this.#members[i]);
    }
    return out;
  }
}

/** One value in the keyspace. */
export type KeyspaceValue =
  | { readonly type: "string"; value: string }
  | { readonly type: "hash"; readonly value: Map<string, string> }
  | { readonly type: "set"; readonly value: Set<string> }
  | { readonly type: "zset"; readonly value: SortedSet };

interface Entry {
  data: KeyspaceValue;
  expiresAt: number | undefined;
}

/** Options for {@link MemoryKeyspace}. */
export interface MemoryKeyspaceOptions {
  /** The clock in milliseconds. @default {Date.now} */
  readonly now?: () => number;
  /** Called with every command {@link MemoryKeyspace.execute} runs. */
  readonly onCommand?: (command: ServerCommand) => void;
}

function parseScore(text: string): number {
  if (text === "-inf") return -Infinity;
  if (text === "+inf" || text === "inf") return Infinity;
  const n = Number(text);
  if (text.trim() === "" || Number.isNaN(n)) {
    throw new Error("ERR min or max is not a float");
  }
  return n;
}

function parseInteger(text: string): number {
  if (!/^-?[0-9]+$/.test(text)) {
    throw new Error("ERR value is not an integer or out of range");
  }
  return Number(text);
}

/**
 * The keyspace. Typed accessors serve the embedded backend's operations;
 * {@link MemoryKeyspace.execute} serves raw commands.
 *
 * @example
 * ```ts
 * import { MemoryKeyspace } from "./memory_keyspace.ts";
 * let now = 0;
 * const ks = new MemoryKeyspace({ now: () => now });
 * console.assert(ks.execute(["SET", "k", "1", "NX", "PX", "100"]) === "OK");
 * console.assert(ks.execute(["SET", "k", "1", "NX", "PX", "100"]) === null);
 * now = 100;
 * console.assert(ks.execute(["GET", "k"]) === null);
 * ```
 */
export class MemoryKeyspace {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  readonly #onCommand: ((command: ServerCommand) => void) | undefined;

  /**
   * Creates an empty keyspace.
   *
   * @param options The clock and a command observer.
   */
  constructor(options: MemoryKeyspaceOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#onCommand = options.onCommand;
  }

  /** The clock's current time in ms. */
  now(): number {
    return this.#now();
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    // An emptied container is kept for reuse but does not exist, as in Redis.
    if (entry.data.type !== "string" && entry.data.value.size === 0) {
      return undefined;
    }
    return entry;
  }

  #typed<T extends KeyspaceValue["type"]>(
    key: string,
    type: T,
  ): Extract<KeyspaceValue, { type: T }> | undefined {
    const entry = this.#live(key);
    if (entry === undefined) return undefined;
    if (entry.data.type !== type) throw new Error(WRONGTYPE_MESSAGE);
    return entry.data as Extract<KeyspaceValue, { type: T }>;
  }

  #create<T extends KeyspaceValue["type"]>(
    key: string,
    type: T,
  ): Extract<KeyspaceValue, { type: T }> {
    const existing = this.#typed(key, type);
    if (existing !== undefined) return existing;
    const kept = this.#entries.get(key);
    if (kept !== undefined && kept.data.type === type && type !== "string") {
      kept.expiresAt = undefined;
      return kept.data as Extract<KeyspaceValue, { type: T }>;
    }
    const data =
      (type === "hash"
        ? { type, value: new Map() }
        : type === "set"
        ? { type, value: new Set() }
        : type === "zset"
        ? { type, value: new SortedSet() }
        : { type, value: "" }) as Extract<KeyspaceValue, { type: T }>;
    this.#entries.set(key, { data, expiresAt: undefined });
    return data;
  }

  #dropIfEmpty(key: string): void {
    // Emptied containers stay in the map (invisible to every reader) so a
    // set that empties and refills does not churn the keyspace.
    const entry = this.#entries.get(key);
    if (entry !== undefined && entry.data.type !== "string") {
      if (entry.data.value.size === 0) entry.expiresAt = undefined;
    }
  }

  /**
   * Whether a live key exists.
   *
   * @param key The key.
   * @returns Whether it exists.
   */
  exists(key: string): boolean {
    return this.#live(key) !== undefined;
  }

  /**
   * Deletes a key.
   *
   * @param key The key.
   * @returns 1 when it existed, else 0.
   */
  del(key: string): number {
    const had = this.#live(key) !== undefined;
    this.#entries.delete(key);
    return had ? 1 : 0;
  }

  /**
   * Reads a string.
   *
   * @param key The key.
   * @returns The value or `undefined`.
   */
  get(key: string): string | undefined {
    return this.#typed(key, "string")?.value;
  }

  /**
   * Sets a string (dropping any TTL unless one is given).
   *
   * @param key The key.
   * @param value The value.
   * @param ttlMs A TTL in ms, if any.
   */
  set(key: string, value: string, ttlMs?: number): void {
    this.#entries.set(key, {
      data: { type: "string", value },
      expiresAt: ttlMs === undefined ? undefined : this.#now() + ttlMs,
    });
  }

  /**
   * Sets a TTL on an existing key.
   *
   * @param key The key.
   * @param ttlMs The TTL in ms (0 or less deletes it).
   * @returns 1 when the key exists, else 0.
   */
  pexpire(key: string, ttlMs: number): number {
    const entry = this.#live(key);
    if (entry === undefined) return 0;
    if (ttlMs <= 0) this.#entries.delete(key);
    else entry.expiresAt = this.#now() + ttlMs;
    return 1;
  }

  /**
   * The remaining TTL: -2 for no key, -1 for no TTL.
   *
   * @param key The key.
   * @returns Milliseconds left.
   */
  pttl(key: string): number {
    const entry = this.#live(key);
    if (entry === undefined) return -2;
    return entry.expiresAt === undefined ? -1 : entry.expiresAt - this.#now();
  }

  /**
   * A hash as a map (a live view; `undefined` when absent).
   *
   * @param key The key.
   * @returns The map.
   */
  hash(key: string): Map<string, string> | undefined {
    return this.#typed(key, "hash")?.value;
  }

  /**
   * Writes hash fields.
   *
   * @param key The key.
   * @param fields Field/value pairs.
   * @returns How many fields were new.
   */
  hset(key: string, fields: Record<string, string>): number {
    const map = this.#create(key, "hash").value;
    let added = 0;
    for (const f in fields) {
      if (!map.has(f)) added++;
      map.set(f, fields[f]);
    }
    return added;
  }

  /**
   * Replaces a key with a hash (dropping any TTL).
   *
   * @param key The key.
   * @param fields The hash's fields (kept by reference).
   */
  putHash(key: string, fields: Map<string, string>): void {
    this.#entries.set(key, {
      data: { type: "hash", value: fields },
      expiresAt: undefined,
    });
  }

  /**
   * A set (a live view; `undefined` when absent).
   *
   * @param key The key.
   * @returns The set.
   */
  members(key: string): Set<string> | undefined {
    return this.#typed(key, "set")?.value;
  }

  /**
   * Adds set members.
   *
   * @param key The key.
   * @param members The members.
   * @returns How many were new.
   */
  sadd(key: string, ...members: string[]): number {
    const set = this.#create(key, "set").value;
    let added = 0;
    for (const m of members) {
      if (!set.has(m)) {
        set.add(m);
        added++;
      }
    }
    return added;
  }

  /**
   * Removes set members.
   *
   * @param key The key.
   * @param members The members.
   * @returns How many were removed.
   */
  srem(key: string, ...members: string[]): number {
    const set = this.#typed(key, "set")?.value;
    if (set === undefined) return 0;
    let removed = 0;
    for (const m of members) if (set.delete(m)) removed++;
    this.#dropIfEmpty(key);
    return removed;
  }

  /**
   * A sorted set (a live view; `undefined` when absent).
   *
   * @param key The key.
   * @returns The sorted set.
   */
  zset(key: string): SortedSet | undefined {
    return this.#typed(key, "zset")?.value;
  }

  /**
   * A sorted set, created empty when absent (a live view).
   *
   * @param key The key.
   * @returns The sorted set.
   * @throws {Error} `WRONGTYPE` when the key holds another type.
   */
  zsetForWrite(key: string): SortedSet {
    return this.#create(key, "zset").value;
  }

  /**
   * A set, created empty when absent (a live view).
   *
   * @param key The key.
   * @returns The set.
   * @throws {Error} `WRONGTYPE` when the key holds another type.
   */
  setForWrite(key: string): Set<string> {
    return this.#create(key, "set").value;
  }

  /**
   * Adds or re-scores a sorted-set member.
   *
   * @param key The key.
   * @param score The score.
   * @param member The member.
   * @returns 1 when new, else 0.
   */
  zadd(key: string, score: number, member: string): number {
    return this.#create(key, "zset").value.add(member, score);
  }

  /**
   * Removes a sorted-set member.
   *
   * @param key The key.
   * @param member The member.
   * @returns 1 when removed, else 0.
   */
  zrem(key: string, member: string): number {
    const z = this.#typed(key, "zset")?.value;
    if (z === undefined) return 0;
    const removed = z.remove(member);
    this.#dropIfEmpty(key);
    return removed;
  }

  /** Removes every key. */
  flushAll(): void {
    this.#entries.clear();
  }

  /**
   * Runs one raw command and returns its RESP2-shaped reply. Supported:
   * PING, GET, SET [NX] [PX ms], DEL, EXISTS, PEXPIRE, PTTL, HSET, HGET,
   * HGETALL, HMGET, SADD, SREM, SMEMBERS, SISMEMBER, SCARD, SSCAN (cursor
   * COUNT n), ZADD, ZREM, ZSCORE, ZCARD, ZRANGEBYSCORE [LIMIT o c],
   * FLUSHALL.
   *
   * @param command The command and its arguments.
   * @returns The reply.
   * @throws {Error} A server-style error (`ERR …`, `WRONGTYPE …`).
   */
  execute(command: ServerCommand): ServerReply {
    this.#onCommand?.(command);
    const [rawName, ...args] = command;
    const name = (rawName ?? "").toUpperCase();
    const arity = (n: number): void => {
      if (args.length < n) {
        throw new Error(
          `ERR wrong number of arguments for '${name.toLowerCase()}' command`,
        );
      }
    };
    switch (name) {
      case "PING":
        return args.length > 0 ? args[0] : "PONG";
      case "GET":
        arity(1);
        return this.get(args[0]) ?? null;
      case "SET": {
        arity(2);
        let nx = false;
        let px: number | undefined;
        for (let i = 2; i < args.length; i++) {
          const opt = args[i].toUpperCase();
          if (opt === "NX") nx = true;
          else if (opt === "PX" && i + 1 < args.length) {
            px = parseInteger(args[++i]);
            if (px <= 0) {
              throw new Error("ERR invalid expire time in 'set' command");
            }
          } else throw new Error("ERR syntax error");
        }
        if (nx && this.exists(args[0])) return null;
        this.set(args[0], args[1], px);
        return "OK";
      }
      case "DEL":
        arity(1);
        return args.reduce((n, k) => n + this.del(k), 0);
      case "EXISTS":
        arity(1);
        return args.reduce((n, k) => n + (this.exists(k) ? 1 : 0), 0);
      case "PEXPIRE":
        arity(2);
        return this.pexpire(args[0], parseInteger(args[1]));
      case "PTTL":
        arity(1);
        return this.pttl(args[0]);
      case "HSET": {
        if (args.length < 3 || args.length % 2 === 0) {
          throw new Error("ERR wrong number of arguments for 'hset' command");
        }
        const fields: Record<string, string> = {};
        for (let i = 1; i < args.length; i += 2) fields[args[i]] = args[i + 1];
        return this.hset(args[0], fields);
      }
      case "HGET":
        arity(2);
        return this.hash(args[0])?.get(args[1]) ?? null;
      case "HMGET": {
        arity(2);
        const map = this.hash(args[0]);
        return args.slice(1).map((f) => map?.get(f) ?? null);
      }
      case "HGETALL": {
        arity(1);
        const out: string[] = [];
        for (const [f, v] of this.hash(args[0]) ?? []) out.push(f, v);
        return out;
      }
      case "SADD":
        arity(2);
        return this.sadd(args[0], ...args.slice(1));
      case "SREM":
        arity(2);
        return this.srem(args[0], ...args.slice(1));
      case "SMEMBERS":
        arity(1);
        return [...(this.members(args[0]) ?? [])];
      case "SISMEMBER":
        arity(2);
        return this.members(args[0])?.has(args[1]) ? 1 : 0;
      case "SCARD":
        arity(1);
        return this.members(args[0])?.size ?? 0;
      case "SSCAN": {
        arity(2);
        let count = 10;
        for (let i = 2; i + 1 < args.length; i += 2) {
          if (args[i].toUpperCase() === "COUNT") {
            count = parseInteger(args[i + 1]);
          } else throw new Error("ERR syntax error");
        }
        const all = [...(this.members(args[0]) ?? [])];
        const start = parseInteger(args[1]);
        const page = all.slice(start, start + Math.max(1, count));
        const next = start + page.length >= all.length
          ? 0
          : start + page.length;
        return [String(next), page];
      }
      case "ZADD":
        arity(3);
        return this.zadd(args[0], parseScore(args[1]), args[2]);
      case "ZREM":
        arity(2);
        return this.zrem(args[0], args[1]);
      case "ZSCORE": {
        arity(2);
        const s = this.zset(args[0])?.scores.get(args[1]);
        return s === undefined ? null : String(s);
      }
      case "ZCARD":
        arity(1);
        return this.zset(args[0])?.size ?? 0;
      case "ZRANGEBYSCORE": {
        arity(3);
        let offset = 0;
        let count = -1;
        if (args.length >= 6 && args[3].toUpperCase() === "LIMIT") {
          offset = parseInteger(args[4]);
          count = parseInteger(args[5]);
        }
        return this.zset(args[0])?.rangeByScore(
          parseScore(args[1]),
          parseScore(args[2]),
          offset,
          count,
        ) ?? [];
      }
      case "FLUSHALL":
        this.flushAll();
        return "OK";
      default:
        throw new Error(`ERR unknown command '${rawName}'`);
    }
  }
}
