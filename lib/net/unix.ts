/**
 * Unix socket listening with safe file handling:
 *
 * - a missing parent directory is created with mode 0700 (and only a
 *   directory we create is ever chmodded; an existing, possibly shared,
 *   directory is left alone, unlike the reference, which chmods it);
 * - a stale socket at the path is removed, but anything that is not a socket
 *   is refused;
 * - the bound socket file is chmodded to 0600;
 * - closing removes the socket file if it is still the one we bound.
 *
 * @module
 */

/** A bound unix listener plus the socket file it owns. */
export interface UnixSocketListener {
  /** The Deno listener. */
  readonly listener: Deno.Listener<Deno.UnixConn, Deno.UnixAddr>;
  /** The socket path. */
  readonly path: string;
  /** Closes the listener and removes the socket file. */
  close(): void;
}

function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  if (i < 0) return "";
  if (i === 0) return "/";
  return path.slice(0, i);
}

function lstatOrUndefined(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/**
 * Prepares the parent directory of `path`: creates it with mode 0700 when it
 * is missing and checks that an existing one is a directory.
 *
 * @param path The socket path.
 * @returns Whether the directory was created by this call.
 *
 * @example
 * ```ts ignore
 * import { prepareSocketDirectory } from "./unix.ts";
 * prepareSocketDirectory("/tmp/loom-example/router.sock");
 * ```
 */
export function prepareSocketDirectory(path: string): boolean {
  const parent = parentOf(path);
  if (parent === "") return false;
  const info = lstatOrUndefined(parent);
  if (info !== undefined) {
    const dir = info.isDirectory ||
      (info.isSymlink && Deno.statSync(parent).isDirectory);
    if (!dir) {
      throw new Deno.errors.NotADirectory(
        `unix socket parent ${parent} is not a directory`,
      );
    }
    return false;
  }
  Deno.mkdirSync(parent, { recursive: true, mode: 0o700 });
  Deno.chmodSync(parent, 0o700);
  return true;
}

/**
 * Removes a stale socket file at `path`. Refuses to touch anything else.
 *
 * @param path The socket path.
 *
 * @example
 * ```ts ignore
 * import { removeStaleSocket } from "./unix.ts";
 * removeStaleSocket("/tmp/loom-example/router.sock");
 * ```
 */
export function removeStaleSocket(path: string): void {
  const info = lstatOrUndefined(path);
  if (info === undefined) return;
  if (info.isSocket !== true) {
    throw new Deno.errors.AlreadyExists(
      `refusing to replace ${path}: it exists and is not a unix socket`,
    );
  }
  Deno.removeSync(path);
}

/**
 * Binds a unix socket listener at `path` (see the module doc for the file
 * rules).
 *
 * @param path The socket path.
 * @returns The listener and a `close()` that also removes the socket file.
 *
 * @example
 * ```ts ignore
 * import { listenUnixSocket } from "./unix.ts";
 * const l = listenUnixSocket("/tmp/loom-example/router.sock");
 * l.close();
 * ```
 */
export function listenUnixSocket(path: string): UnixSocketListener {
  prepareSocketDirectory(path);
  removeStaleSocket(path);
  const listener = Deno.listen({ transport: "unix", path });
  let ino: number | null = null;
  try {
    Deno.chmodSync(path, 0o600);
    ino = Deno.lstatSync(path).ino;
  } catch (err) {
    listener.close();
    throw err;
  }
  let closed = false;
  return {
    listener,
    path,
    close(): void {
      if (closed) return;
      closed = true;
      try {
        listener.close();
      } catch {
        // Already closed.
      }
      const info = lstatOrUndefined(path);
      if (info?.isSocket === true && (ino === null || info.ino === ino)) {
        try {
          Deno.removeSync(path);
        } catch {
          // Someone else removed it.
        }
      }
    },
  };
}
