/**
 * A per-shard progress display for indexing on stderr: one line per shard
 * with a bar, files and megabytes, redrawn in place at most ten times a
 * second. Silent when stderr is not a terminal.
 *
 * @module
 */

import type { IndexProgress, ShardProgress } from "../lib/net/router.ts";

/** Options for {@link createProgressBar}. */
export interface ProgressBarOptions {
  /** Force on/off; by default on only when stderr is a terminal. */
  enabled?: boolean;
  /** Where output goes. @default {stderr} */
  write?: (text: string) => void;
  /** Bar width in characters. @default {24} */
  width?: number;
}

/** A progress display. */
export interface ProgressBar {
  /** Feeds a progress snapshot. */
  update(progress: IndexProgress): void;
  /** Draws the final state and stops. */
  finish(): void;
}

const enc = new TextEncoder();

function mb(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}

/**
 * Renders one shard line (no colors, no escapes).
 *
 * @example
 * ```ts
 * import { renderShardLine } from "./progress.ts";
 * const line = renderShardLine({ shard: 0, root: "/w/a", phase: "done", filesRead: 10,
 *   bytesRead: 2 * 1024 * 1024, bytesSent: 0, symbols: 40 }, 10, 10);
 * console.assert(line.includes("10/10 files") && line.includes("2.0 MB") && line.includes("done"));
 * ```
 */
export function renderShardLine(
  p: ShardProgress,
  total: number | undefined,
  width: number,
): string {
  const ratio = p.phase === "done" || p.phase === "indexing"
    ? 1
    : total && total > 0
    ? Math.min(1, p.filesRead / total)
    : 0;
  const filled = Math.round(ratio * width);
  const bar = "#".repeat(filled) + ".".repeat(width - filled);
  const files = total === undefined
    ? `${p.filesRead} files`
    : `${p.filesRead}/${total} files`;
  const extra = p.phase === "done" ? ` ${p.symbols} symbols` : "";
  return `shard ${p.shard} [${bar}] ${files} ${
    mb(p.bytesRead)
  } MB ${p.phase}${extra}`;
}

/**
 * Creates a progress display.
 *
 * @example
 * ```ts
 * import { createProgressBar } from "./progress.ts";
 * const out: string[] = [];
 * const bar = createProgressBar({ enabled: true, write: (t) => out.push(t) });
 * bar.update({ revision: 1, shardsDone: 1, shards: [{ shard: 0, root: "/a",
 *   phase: "done", filesRead: 1, bytesRead: 10, bytesSent: 10, symbols: 2 }] });
 * bar.finish();
 * console.assert(out.join("").includes("shard 0"));
 * ```
 */
export function createProgressBar(
  options: ProgressBarOptions = {},
): ProgressBar {
  let enabled = options.enabled;
  if (enabled === undefined) {
    try {
      enabled = Deno.stderr.isTerminal();
    } catch {
      enabled = false;
    }
  }
  const write = options.write ??
    ((text: string) => {
      try {
        Deno.stderr.writeSync(enc.encode(text));
      } catch {
        // Progress is best effort.
      }
    });
  const width = options.width ?? 24;
  let last: IndexProgress | undefined;
  let drawnLines = 0;
  let lastDraw = 0;
  let done = false;
  const draw = (): void => {
    if (!last) return;
    const lines = last.shards.map((s) =>
      renderShardLine(s, s.filesTotal, width)
    );
    const up = drawnLines > 0 ? `\x1b[${drawnLines}A` : "";
    write(up + lines.map((l) => `\r\x1b[2K${l}\n`).join(""));
    drawnLines = lines.length;
    lastDraw = Date.now();
  };
  return {
    update(progress) {
      if (!enabled || done) return;
      last = progress;
      if (Date.now() - lastDraw >= 100) draw();
    },
    finish() {
      if (!enabled || done) return;
      done = true;
      draw();
    },
  };
}
