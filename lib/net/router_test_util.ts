/**
 * Helpers for the router tests (not exported from the package).
 *
 * @module
 */

import { dirname, join } from "node:path";
import { loomWorkerCommand, type LoomWorkerProgram } from "./worker_command.ts";

/** This checkout's loom worker (the CLI), for tests that spawn it. */
export const TEST_WORKER_PROGRAM: LoomWorkerProgram = {
  main: new URL("../../cli/main.ts", import.meta.url),
  config: new URL("../../deno.json", import.meta.url),
};

const here = (rel: string): string =>
  decodeURIComponent(new URL(rel, import.meta.url).pathname);

/** The fixture worker as a command template. */
export function fixtureCommand(): string[] {
  const words = loomWorkerCommand(TEST_WORKER_PROGRAM);
  return [
    Deno.execPath(),
    "run",
    "--quiet",
    "-A",
    "--config",
    here("../../deno.json"),
    here("./fixture_worker_test_util.ts"),
    // the placeholders, as in the default worker command
    ...words.slice(words.indexOf("--connect")),
  ];
}

/** A temp directory with files written from a `relative path -> text` map. */
export interface TempWorkspace extends AsyncDisposable {
  dir: string;
  /** Absolute path of a relative one. */
  path(rel: string): string;
  /** Writes (or overwrites) a file. */
  write(rel: string, text: string | Uint8Array): Promise<void>;
}

/** Creates a {@link TempWorkspace}. */
export async function tempWorkspace(
  files: Record<string, string> = {},
): Promise<TempWorkspace> {
  const dir = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "loom-router-test-" }),
  );
  const ws: TempWorkspace = {
    dir,
    path: (rel) => join(dir, rel),
    async write(rel, text) {
      const p = join(dir, rel);
      await Deno.mkdir(dirname(p), { recursive: true });
      if (typeof text === "string") await Deno.writeTextFile(p, text);
      else await Deno.writeFile(p, text);
    },
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
  for (const [rel, text] of Object.entries(files)) await ws.write(rel, text);
  return ws;
}

/** Polls `check` every 10 ms until it returns a value other than undefined/false. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (true) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Sleeps. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Start times (ms) recorded by the fixture worker for a shard. */
export async function fixtureAttempts(
  cacheDir: string,
  shard: number,
): Promise<number[]> {
  try {
    return (await Deno.readTextFile(`${cacheDir}/attempts-shard${shard}.log`))
      .split("\n").filter((l) => l).map(Number);
  } catch {
    return [];
  }
}

/** Whether a file exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}
