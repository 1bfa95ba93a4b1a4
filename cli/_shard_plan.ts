/**
 * `--workers N`: turn a few source roots into up to N shards by splitting the
 * largest root into its subdirectories (nested roots: the parent keeps any
 * file that is not under one of the new roots). A shard is one root, so a
 * root is only split when the result still fits in N shards.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { listJavaFiles } from "../lib/net/workspace_fs.ts";

async function subdirectories(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) out.push(join(dir, e.name));
    }
  } catch {
    // Unreadable: not splittable.
  }
  return out.sort();
}

async function hasDirectJava(dir: string): Promise<boolean> {
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.endsWith(".java")) return true;
    }
  } catch {
    // Unreadable.
  }
  return false;
}

/**
 * Plans up to `n` shard roots from `roots`.
 *
 * @param roots The user's source roots.
 * @param n The wanted number of shards.
 * @returns Absolute roots (the originals first, in order, when kept).
 *
 * @example
 * ```ts
 * import { planShards } from "./_shard_plan.ts";
 * const plan = await planShards(["/definitely/not/here"], 4);
 * console.assert(plan.length === 1);
 * ```
 */
export async function planShards(
  roots: readonly string[],
  n: number,
): Promise<string[]> {
  let plan = roots.map((r) => resolve(r));
  const tried = new Set<string>();
  while (plan.length < n) {
    const counts = await Promise.all(
      plan.map(async (r) =>
        tried.has(r) ? -1 : (await listJavaFiles(r, {
          exclude: new Set(
            plan.filter((o) => o !== r && o.startsWith(r + "/")),
          ),
          onSkip: () => {},
        })).length
      ),
    );
    let best = -1;
    for (let i = 0; i < plan.length; i++) {
      if (counts[i] > 0 && (best < 0 || counts[i] > counts[best])) best = i;
    }
    if (best < 0) break;
    const root = plan[best];
    tried.add(root);
    // Walk down single-directory chains (src/main/java/com/...).
    let dir = root;
    let direct = await hasDirectJava(dir);
    let children = await subdirectories(dir);
    while (children.length === 1 && !direct) {
      dir = children[0];
      direct = await hasDirectJava(dir);
      children = await subdirectories(dir);
    }
    if (children.length < 2) continue;
    const keepParent = direct;
    const added = children.length - (keepParent ? 0 : 1);
    if (plan.length + added > n) continue;
    const next = [...plan];
    if (keepParent) next.push(...children);
    else next.splice(best, 1, ...children);
    plan = next;
  }
  return plan;
}

/** Total size in bytes of the `.java` files `listJavaFiles` finds. */
async function javaBytes(
  root: string,
  exclude: ReadonlySet<string>,
): Promise<number> {
  let total = 0;
  for (const path of await listJavaFiles(root, { exclude, onSkip: () => {} })) {
    try {
      total += Deno.statSync(path).size;
    } catch {
      // Vanished or unreadable: the snapshot reports it.
    }
  }
  return total;
}

/** A root that cannot be split below a size limit. */
export interface UnsplittableRoot {
  /** The root (or subdirectory) whose own files are over the limit. */
  root: string;
  /** Bytes of `.java` files directly owned by it. */
  bytes: number;
}

/**
 * The protocol 3.0 fallback for roots too large for one packet: splits
 * `root` (one of `roots`) into nested roots by directory until every
 * shard's own `.java` files total at most `maxBytes`. The parent keeps the
 * files that are not under a new root (nested roots route by the longest
 * match). New roots are appended after the existing ones.
 *
 * @param roots The current shard roots (absolute).
 * @param root The oversized root.
 * @param maxBytes The largest snapshot a shard may have.
 * @returns The new roots, or the part that cannot be split.
 *
 * @example
 * ```ts
 * import { splitBySize } from "./_shard_plan.ts";
 * const plan = await splitBySize(["/definitely/not/here"], "/definitely/not/here", 10);
 * console.assert(Array.isArray(plan) && plan.length === 1);
 * ```
 */
export async function splitBySize(
  roots: readonly string[],
  root: string,
  maxBytes: number,
): Promise<string[] | UnsplittableRoot> {
  const plan = [...roots];
  const todo = [root];
  while (todo.length > 0) {
    const dir = todo.pop()!;
    const nested = (): Set<string> =>
      new Set(plan.filter((o) => o !== dir && o.startsWith(dir + "/")));
    const size = await javaBytes(dir, nested());
    if (size <= maxBytes) continue;
    const children: string[] = [];
    for (const c of await subdirectories(dir)) {
      if (!plan.includes(c) && await javaBytes(c, new Set()) > 0) {
        children.push(c);
      }
    }
    if (children.length === 0) return { root: dir, bytes: size };
    plan.push(...children);
    // What the parent keeps (files directly in it) must fit by itself.
    const own = await javaBytes(dir, nested());
    if (own > maxBytes) return { root: dir, bytes: own };
    todo.push(...children);
  }
  return plan;
}
