/**
 * The workspace layout: source roots to shard ids (a root's position in the
 * list) and routing of file paths to the shard that owns them.
 *
 * Paths are POSIX-style strings compared by whole components after lexical
 * normalization (`//`, `.` and `..` segments are resolved, a trailing `/` is
 * dropped), so `/a/src2/X.java` is not under `/a/src` and
 * `/a/src/../etc/X.java` is not under `/a/src`. Relative paths only match
 * relative roots; callers normally pass absolute paths.
 *
 * A path is owned by the root that is its **longest** prefix, so nested roots
 * work: with roots `/w` and `/w/gen`, `/w/gen/A.java` belongs to the second.
 * (The reference picks the lowest-index matching root instead, which sends
 * nested files to the outer shard while snapshots give them to both.)
 *
 * Routing a file for an update rejects paths outside every root and paths
 * that are not `.java` files with a {@link PathNotRoutableError} (a
 * `RangeError`, because the path is a caller argument, not peer input).
 *
 * @example
 * ```ts
 * import { WorkspaceLayout } from "./layout.ts";
 * const layout = new WorkspaceLayout(["/w/a/src", "/w/a/src/gen", "/w/b/src"]);
 * console.assert(layout.routeFile("/w/a/src/p/A.java") === 0);
 * console.assert(layout.routeFile("/w/a/src/gen/G.java") === 1);
 * console.assert(layout.shardForPath("/w/a/srcx/A.java") === undefined);
 * ```
 *
 * @module
 */

/** Why a path cannot be routed to a shard. */
export const PATH_REJECTION = {
  /** The path is under no source root. */
  outsideRoots: "outside_roots",
  /** The path does not name a `.java` file. */
  notJava: "not_java",
} as const;

/** A path rejection reason. */
export type PathRejection = typeof PATH_REJECTION[keyof typeof PATH_REJECTION];

/**
 * A file path that no shard accepts. Branch on `reason`, not on the message.
 *
 * @example
 * ```ts
 * import { PathNotRoutableError, WorkspaceLayout } from "./layout.ts";
 * try {
 *   new WorkspaceLayout(["/w/src"]).routeFile("/w/src/notes.txt");
 * } catch (err) {
 *   console.assert(err instanceof PathNotRoutableError && err.reason === "not_java");
 *   console.assert(err instanceof RangeError);
 * }
 * ```
 */
export class PathNotRoutableError extends RangeError {
  /** Why the path was rejected. */
  readonly reason: PathRejection;
  /** The rejected path, as given. */
  readonly path: string;

  /**
   * Creates the error.
   *
   * @param reason Why the path was rejected.
   * @param path The path.
   */
  constructor(reason: PathRejection, path: string) {
    super(
      reason === PATH_REJECTION.notJava
        ? `file ${JSON.stringify(path)} is not a .java file`
        : `file ${JSON.stringify(path)} not in any source root`,
    );
    this.name = "PathNotRoutableError";
    this.reason = reason;
    this.path = path;
  }
}

interface Parsed {
  absolute: boolean;
  parts: string[];
}

function parse(path: string, what: string): Parsed {
  if (typeof path !== "string") {
    throw new TypeError(`${what} must be a string`);
  }
  if (path.length === 0) throw new RangeError(`${what} must not be empty`);
  if (path.includes("\0")) {
    throw new RangeError(`${what} must not contain NUL`);
  }
  const absolute = path.startsWith("/");
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
      else if (!absolute) parts.push(part);
      continue;
    }
    parts.push(part);
  }
  return { absolute, parts };
}

function join({ absolute, parts }: Parsed): string {
  if (absolute) return "/" + parts.join("/");
  return parts.length === 0 ? "." : parts.join("/");
}

/**
 * Lexically normalizes a POSIX-style path (no file system access).
 *
 * @param path A path.
 * @returns The normalized path (`/` or `.` for an empty result).
 * @throws {TypeError} When `path` is not a string.
 * @throws {RangeError} When `path` is empty or contains NUL.
 *
 * @example
 * ```ts
 * import { normalizePath } from "./layout.ts";
 * console.assert(normalizePath("/w//a/./b/../c/") === "/w/a/c");
 * console.assert(normalizePath("/../x") === "/x");
 * ```
 */
export function normalizePath(path: string): string {
  return join(parse(path, "path"));
}

/**
 * Whether a path names a `.java` file: its last component ends with `.java`
 * (case-sensitive) and has a non-empty stem, like the reference's
 * `extension() == "java"` test.
 *
 * @param path A path.
 * @returns True for `.java` files.
 *
 * @example
 * ```ts
 * import { isJavaPath } from "./layout.ts";
 * console.assert(isJavaPath("/w/A.java") && !isJavaPath("/w/A.JAVA") && !isJavaPath("/w/.java"));
 * ```
 */
export function isJavaPath(path: string): boolean {
  const base = path.slice(path.lastIndexOf("/") + 1);
  return base.length > 5 && base.endsWith(".java");
}

/**
 * Source roots and the shards they define.
 *
 * @example Ownership for snapshot collection
 * ```ts
 * import { WorkspaceLayout } from "./layout.ts";
 * const layout = new WorkspaceLayout(["/w", "/w/gen"]);
 * console.assert(!layout.ownsPath(0, "/w/gen/G.java") && layout.ownsPath(1, "/w/gen/G.java"));
 * ```
 */
export class WorkspaceLayout {
  #roots: string[];
  #parsed: Parsed[];

  /**
   * Creates a layout; shard `i` is `roots[i]`.
   *
   * @param roots Source root paths (normalized lexically).
   * @throws {TypeError} When a root is not a string.
   * @throws {RangeError} When a root is empty, or two roots normalize to the same path.
   */
  constructor(roots: readonly string[]) {
    this.#parsed = roots.map((r) => parse(r, "source root"));
    this.#roots = this.#parsed.map(join);
    const seen = new Set<string>();
    for (const root of this.#roots) {
      if (seen.has(root)) {
        throw new RangeError(`duplicate source root ${JSON.stringify(root)}`);
      }
      seen.add(root);
    }
  }

  /** The normalized roots; shard `i` is `roots[i]`. */
  get roots(): readonly string[] {
    return this.#roots;
  }

  /** Number of shards (roots). */
  get shardCount(): number {
    return this.#roots.length;
  }

  /**
   * The root of a shard.
   *
   * @param shardId A shard id.
   * @returns The normalized root, or `undefined` for an unknown shard.
   */
  rootOf(shardId: number): string | undefined {
    return this.#roots[shardId];
  }

  /**
   * Whether a shard id belongs to this layout.
   *
   * @param shardId A shard id.
   * @returns True for `0 <= shardId < shardCount` integers.
   */
  hasShard(shardId: number): boolean {
    return Number.isInteger(shardId) && shardId >= 0 &&
      shardId < this.#roots.length;
  }

  /**
   * The shard whose root is the longest whole-component prefix of `path`
   * (the path must lie strictly inside the root). Any file type.
   *
   * @param path A path.
   * @returns The shard id, or `undefined` when no root contains the path.
   * @throws {TypeError} When `path` is not a string.
   * @throws {RangeError} When `path` is empty or contains NUL.
   */
  shardForPath(path: string): number | undefined {
    const p = parse(path, "path");
    let best: number | undefined;
    let bestLen = -1;
    this.#parsed.forEach((root, shard) => {
      if (root.absolute !== p.absolute) return;
      const n = root.parts.length;
      if (n >= p.parts.length || n <= bestLen) return;
      for (let i = 0; i < n; i++) if (root.parts[i] !== p.parts[i]) return;
      best = shard;
      bestLen = n;
    });
    return best;
  }

  /**
   * Routes a file update: the owning shard of a `.java` path.
   *
   * @param path The file path.
   * @returns The shard id.
   * @throws {PathNotRoutableError} `outside_roots` or `not_java`.
   * @throws {TypeError} When `path` is not a string.
   */
  routeFile(path: string): number {
    const shard = this.shardForPath(path);
    if (shard === undefined) {
      throw new PathNotRoutableError(PATH_REJECTION.outsideRoots, path);
    }
    if (!isJavaPath(normalizePath(path))) {
      throw new PathNotRoutableError(PATH_REJECTION.notJava, path);
    }
    return shard;
  }

  /**
   * Whether `path` belongs to `shardId`: use it to leave files of nested
   * roots out of the outer root's snapshot.
   *
   * @param shardId A shard id.
   * @param path A path.
   * @returns True when the path routes to that shard.
   */
  ownsPath(shardId: number, path: string): boolean {
    return this.shardForPath(path) === shardId;
  }
}
