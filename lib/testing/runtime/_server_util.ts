/**
 * Shared pieces of the throwaway-server harnesses: free ports, binary
 * lookup and the "missing under CI is a failure" rule.
 *
 * @module
 */

/**
 * Picks a free TCP port on 127.0.0.1 by binding port 0 and closing it.
 *
 * @returns A port that was free a moment ago.
 */
export function freeLoopbackPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * True when the `CI` environment variable is `true` (a missing server is then
 * a failure, never a skip).
 *
 * @returns Whether the process runs in CI.
 */
export function runningInCi(): boolean {
  return (Deno.env.get("CI") ?? "").trim().toLowerCase() === "true";
}

/**
 * Returns the first existing executable file among `candidates`, or null.
 *
 * @param candidates Absolute paths to try, in order.
 * @returns The first one that exists, or null.
 */
export function firstExisting(candidates: readonly string[]): string | null {
  for (const path of candidates) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // try the next one
    }
  }
  return null;
}

/**
 * Looks a command up on `PATH`.
 *
 * @param name The command name.
 * @returns Its absolute path, or null.
 */
export function whichSync(name: string): string | null {
  const path = Deno.env.get("PATH") ?? "/usr/bin:/bin";
  return firstExisting(
    path.split(":").filter((d) => d).map((d) => `${d}/${name}`),
  );
}

/**
 * Runs a command to completion and throws with its stderr when it fails.
 *
 * @param cmd Program path.
 * @param args Arguments.
 * @returns Its stdout as text.
 */
export async function runChecked(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim();
    throw new Error(
      `${cmd} ${args[0] ?? ""} failed (exit ${out.code}): ${
        err.split("\n").slice(-3).join(" | ")
      }`,
    );
  }
  return new TextDecoder().decode(out.stdout);
}

/**
 * Waits until `probe` resolves true, polling every `intervalMs`.
 *
 * @param probe The readiness check.
 * @param timeoutMs Overall budget.
 * @param what Named in the timeout error.
 */
export async function waitUntil(
  probe: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not become ready within ${timeoutMs} ms`);
}
