/**
 * Router shutdown: stops restarts, says `Shutdown` to every connected
 * worker, closes connections and listeners, waits for background work and
 * removes the router's private directory.
 *
 * @module
 */

import type { RouterState } from "./_router_state.ts";

/**
 * Runs {@link Router.shutdown} (idempotent): `Shutdown` to every connected
 * worker (2 s each, in parallel), then the supervisor (killing stragglers),
 * the listeners and the private directory.
 *
 * @example
 * ```ts
 * import { shutdown } from "./_router_shutdown.ts";
 * import { RouterState } from "./_router_state.ts";
 * import { normalizeAllowlist } from "./router_config.ts";
 * const st = new RouterState({ roots: ["src"] }, normalizeAllowlist(undefined));
 * await shutdown(st);
 * console.assert(st.closed);
 * ```
 */
export async function shutdown(
  st: RouterState,
): Promise<void> {
  if (st.closed) return;
  st.closed = true;
  st.wake();
  const live = st.shards.flatMap((s) => (s.worker ? [s.worker] : []));
  await Promise.all(live.map(async (worker) => {
    try {
      await worker.conn.call({ type: "shutdown" }, { timeoutMs: 2000 });
    } catch {
      // Best effort.
    }
    await worker.conn.close();
  }));
  for (const shard of st.shards) {
    if (shard.pending) clearTimeout(shard.pending.timer);
    shard.pending = undefined;
    shard.worker = undefined;
  }
  st.readThread.close();
  await st.supervisor?.stop(2000);
  await st.listener?.close();
  await Promise.all(st.acceptLoops);
  await Promise.allSettled([...st.background]);
  if (st.tempDir !== undefined) {
    await Deno.remove(st.tempDir, { recursive: true }).catch(() => {});
  }
}

/**
 * Undoes a failed start: closes the listener (if it was bound) and removes
 * the private directory (if it was made).
 *
 * @example
 * ```ts
 * import { abandonStart } from "./_router_shutdown.ts";
 * import { RouterState } from "./_router_state.ts";
 * import { normalizeAllowlist } from "./router_config.ts";
 * const st = new RouterState({ roots: ["src"] }, normalizeAllowlist(undefined));
 * await abandonStart(st);
 * ```
 */
export async function abandonStart(st: RouterState): Promise<void> {
  st.readThread.close();
  await st.listener?.close();
  if (st.tempDir !== undefined) {
    await Deno.remove(st.tempDir, { recursive: true }).catch(() => {});
  }
}
