/**
 * Spawns `seed` and `join` as separate Deno processes and follows their
 * stdout line by line (used by the cluster demo and the formation
 * benchmark).
 *
 * @module
 */

const MAIN = new URL("./main.ts", import.meta.url).pathname;
const PERMS = ["--allow-read", "--allow-write", "--allow-net", "--allow-env"];

/** A spawned cluster process. */
export interface ClusterProcess {
  /** A label for printing. */
  readonly name: string;
  /** The child. */
  readonly child: Deno.ChildProcess;
  /** Every stdout line so far. */
  readonly lines: string[];
  /**
   * Waits for a line matching `re` (searching from line `from`).
   *
   * @param re Pattern.
   * @param timeoutMs Deadline.
   * @param from First line index to search.
   * @returns The line.
   */
  until(re: RegExp, timeoutMs?: number, from?: number): Promise<string>;
  /** Called for each new line. */
  onLine?: (line: string) => void;
  /** Exit status. */
  readonly status: Promise<Deno.CommandStatus>;
}

/**
 * Spawns `loom <args>` as a child process.
 *
 * @param name Label.
 * @param args Subcommand and flags.
 * @returns The process.
 *
 * @example
 * ```ts ignore
 * const seed = spawnLoom("seed", ["seed", "--world-size", "4", "--listen", "127.0.0.1:0"]);
 * await seed.until(/^seed listening/);
 * ```
 */
export function spawnLoom(name: string, args: string[]): ClusterProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...PERMS, MAIN, ...args],
    env: { LOOM_LOG: "error", LOOM_CLUSTER_TOKEN: "" },
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  const proc: ClusterProcess = {
    name,
    child,
    lines,
    status: child.status,
    async until(re: RegExp, timeoutMs = 30_000, from = 0): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = lines.slice(from).find((l) => re.test(l));
        if (hit !== undefined) return hit;
        if (Date.now() > deadline) {
          throw new Error(
            `${name}: no line matching ${re} within ${timeoutMs} ms`,
          );
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(done, 250);
          function done(): void {
            clearTimeout(t);
            waiters.delete(done);
            resolve();
          }
          waiters.add(done);
        });
      }
    },
  };
  (async () => {
    let buf = "";
    for await (
      const chunk of child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      buf += chunk;
      const parts = buf.split("\n");
      buf = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        proc.onLine?.(line);
      }
      for (const w of [...waiters]) w();
    }
  })().catch(() => {});
  return proc;
}

/**
 * Stops processes (SIGTERM, then SIGKILL after `graceMs`) and waits for them.
 *
 * @param procs The processes.
 * @param graceMs Grace period.
 *
 * @example
 * ```ts ignore
 * await stopAll([seed, ...joiners]);
 * ```
 */
export async function stopAll(
  procs: readonly ClusterProcess[],
  graceMs = 3000,
): Promise<void> {
  for (const p of procs) {
    try {
      p.child.kill("SIGTERM");
    } catch {
      // Already exited.
    }
  }
  const timer = setTimeout(() => {
    for (const p of procs) {
      try {
        p.child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
    }
  }, graceMs);
  await Promise.all(procs.map((p) => p.status.catch(() => undefined)));
  clearTimeout(timer);
}
