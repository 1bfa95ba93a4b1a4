/**
 * Deterministic generator of Java-like workspace symbols for search
 * benchmarks (no I/O).
 *
 * @module
 */

import type { Symbol } from "../lib/wire/types.ts";

const WORDS = (
  "account address adapter agent alias allocate analyze annotation append " +
  "apply archive array assert async attribute audit backup balance batch bean " +
  "binary bind bitmap block body bound broker browse buffer build bundle byte " +
  "cache calendar callback cancel capacity cart catalog cell channel char check " +
  "child chunk cipher class client clock clone close cluster code codec collect " +
  "column command commit compare compile component compress config connect " +
  "consume container content context convert cookie copy count counter create " +
  "cursor customer data date debug decode default delete delta depth deploy " +
  "device dialog digest directory dispatch document domain double driver " +
  "element email encode engine entity entry error event exception execute " +
  "export factory feature fetch field file filter flag float flush folder " +
  "format frame function gateway generate graph group handler hash header heap " +
  "helper host identity image import index info init input instance integer " +
  "invoice item iterator job key label layout lease length level limit line " +
  "link list listener loader local lock log long manager map marker match " +
  "member memory merge message meta method metric mode model module monitor " +
  "name node notify number object offset option order output owner packet " +
  "page panel parse parser partition path payload peer permission pipeline " +
  "plugin policy pool port position primary print priority process producer " +
  "profile property protocol provider proxy publish query queue range reader " +
  "record reference region registry remote render replica report request " +
  "resolve resource response result retry role route row rule runner scheduler " +
  "schema scope score search secret segment select sender sequence server " +
  "service session shard signal size snapshot socket source span split stack " +
  "state statement status storage store stream string subscriber summary " +
  "symbol sync table tag target task template tenant text thread ticket timer " +
  "token topic trace transaction transform tree trigger type unit update user " +
  "util validate value vector version view visitor volume watcher window " +
  "worker writer zone"
).split(" ");

const VERBS = [
  "get",
  "set",
  "is",
  "has",
  "create",
  "build",
  "to",
  "find",
  "on",
  "with",
];

/** A small seeded PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();
/** A flat copy of a string, like one decoded from the wire. */
const flat = (s: string) => DECODER.decode(ENCODER.encode(s));

const cap = (w: string) => w[0].toUpperCase() + w.slice(1);

/** One Java-like identifier. */
export function javaName(rand: () => number): string {
  const word = () => WORDS[Math.floor(rand() * WORDS.length)];
  const k = rand();
  const parts = 1 + Math.floor(rand() * 3);
  const words = Array.from({ length: parts }, word);
  if (k < 0.25) return words.map(cap).join(""); // type
  if (k < 0.35) return words.map((w) => w.toUpperCase()).join("_"); // constant
  if (k < 0.75) {
    const verb = VERBS[Math.floor(rand() * VERBS.length)];
    return verb + words.map(cap).join(""); // method
  }
  return words[0] + words.slice(1).map(cap).join(""); // field
}

/**
 * Generates `count` symbols split over `shards` shards (about 50 symbols per
 * file), deterministically from `seed`.
 */
export function generateShards(
  count: number,
  shards: number,
  seed = 1,
): Symbol[][] {
  const rand = prng(seed);
  const out: Symbol[][] = Array.from({ length: shards }, () => []);
  for (let i = 0; i < count; i++) {
    const shard = i % shards;
    const file = Math.floor(i / (50 * shards));
    const path = flat(
      `/ws/module${shard}/src/main/java/com/example/p${file % 97}/${
        cap(WORDS[file % WORDS.length])
      }${file}.java`,
    );
    out[shard].push({
      name: flat(javaName(rand)),
      path,
      line: Math.floor(rand() * 2000),
      column: Math.floor(rand() * 80),
    });
  }
  return out;
}

/** Short (2-3 bytes) and long (10+ bytes) queries, deterministic. */
export function generateQueries(
  count: number,
  seed = 7,
): { short: string[]; long: string[] } {
  const rand = prng(seed);
  const letters = "abcdefghijklmnopqrstuvwxyz";
  const short: string[] = [];
  const long: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = 2 + Math.floor(rand() * 2);
    let q = "";
    for (let k = 0; k < n; k++) q += letters[Math.floor(rand() * 26)];
    short.push(i % 3 === 0 ? q.toUpperCase().slice(0, 2) : q);
    const name = javaName(rand);
    const mode = i % 4;
    if (mode === 0) long.push((name + "Manager").slice(0, 12)); // prefix-like
    else if (mode === 1) long.push(name.toLowerCase().padEnd(10, "x")); // folded
    else if (mode === 2) {
      long.push((name.replace(/[aeiou]/g, "") + "Service").slice(0, 11)); // abbreviation
    } else {
      let r = "";
      for (let k = 0; k < 12; k++) r += letters[Math.floor(rand() * 26)];
      long.push(r); // mostly no match
    }
  }
  return { short, long };
}
