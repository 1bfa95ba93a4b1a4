/**
 * Writes a generated multi-root Java workspace to disk (for the demo, the
 * benchmarks and tests), using the deterministic corpus generator.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { generateJavaCorpus } from "../worker/java_corpus.ts";

/** Options for {@link writeSampleWorkspace}. */
export interface SampleWorkspaceOptions {
  /** Root folder names (one shard each). @default {["core", "server", "client"]} */
  roots?: readonly string[];
  /** Files per root. @default {1000} */
  filesPerRoot?: number;
  /** Generator seed (each root gets `seed + index`). @default {1} */
  seed?: number;
  /** Average methods per class (about 2 KB per file at 2). @default {2} */
  methodsPerClass?: number;
}

/** What {@link writeSampleWorkspace} wrote. */
export interface SampleWorkspace {
  /** Absolute source roots, in shard order. */
  roots: string[];
  /** Number of files written. */
  files: number;
  /** Total bytes written. */
  bytes: number;
  /** Every written path, by root. */
  paths: string[][];
}

/**
 * Generates and writes the workspace under `dir`.
 *
 * @example
 * ```ts ignore
 * import { writeSampleWorkspace } from "./sample_workspace.ts";
 * const ws = await writeSampleWorkspace(await Deno.makeTempDir(), { filesPerRoot: 10 });
 * console.log(ws.roots, ws.files);
 * ```
 */
export async function writeSampleWorkspace(
  dir: string,
  options: SampleWorkspaceOptions = {},
): Promise<SampleWorkspace> {
  const names = options.roots ?? ["core", "server", "client"];
  const perRoot = options.filesPerRoot ?? 1000;
  const seed = options.seed ?? 1;
  const enc = new TextEncoder();
  const out: SampleWorkspace = { roots: [], files: 0, bytes: 0, paths: [] };
  for (let i = 0; i < names.length; i++) {
    const root = join(dir, names[i]);
    out.roots.push(root);
    const files = generateJavaCorpus({
      files: perRoot,
      seed: seed + i,
      root: root + "/",
      methodsPerClass: options.methodsPerClass,
    });
    const dirs = new Set(files.map((f) => dirname(f.path)));
    for (const d of dirs) await Deno.mkdir(d, { recursive: true });
    const paths: string[] = [];
    let next = 0;
    const write = async (): Promise<void> => {
      while (next < files.length) {
        const f = files[next++];
        const data = enc.encode(f.text);
        await Deno.writeFile(f.path, data);
        out.bytes += data.length;
        paths.push(f.path);
      }
    };
    await Promise.all(Array.from({ length: 16 }, write));
    out.files += files.length;
    out.paths.push(paths.sort());
  }
  return out;
}
