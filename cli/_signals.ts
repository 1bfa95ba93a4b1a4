/**
 * SIGINT/SIGTERM for the long-running commands: the first signal runs the
 * command's cleanup (shut the router down: workers stopped, the private
 * socket directory removed) and exits with 128 + the signal number; a
 * second signal while cleaning up exits at once.
 *
 * @module
 */

const SIGNALS = [["SIGINT", 2], ["SIGTERM", 15]] as const;

/**
 * Installs the handlers; the returned function removes them.
 *
 * @param cleanup Runs once, on the first signal.
 * @param write Where the one-line notice goes (stderr by default).
 * @returns Removes the handlers.
 *
 * @example
 * ```ts
 * import { onInterrupt } from "./_signals.ts";
 * const remove = onInterrupt(async () => {});
 * remove();
 * ```
 */
export function onInterrupt(
  cleanup: () => Promise<void>,
  write: (line: string) => void = (line) =>
    Deno.stderr.writeSync(new TextEncoder().encode(line)),
): () => void {
  let cleaning = false;
  const handlers = SIGNALS.map(([name, number]) => {
    const handler = (): void => {
      if (cleaning) Deno.exit(128 + number);
      cleaning = true;
      write(`interrupted (${name}): stopping workers and cleaning up\n`);
      cleanup().catch(() => {}).finally(() => Deno.exit(128 + number));
    };
    try {
      Deno.addSignalListener(name, handler);
    } catch {
      // Platforms without this signal.
    }
    return [name, handler] as const;
  });
  return () => {
    for (const [name, handler] of handlers) {
      try {
        Deno.removeSignalListener(name, handler);
      } catch {
        // Never installed.
      }
    }
  };
}
