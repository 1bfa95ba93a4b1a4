/**
 * Worker command templates used by the runner's own tests: our worker, the
 * minimal fixture worker, and the fault proxy wrapped around either.
 *
 * @module
 */

import { defaultWorkerTemplate, quoteWord } from "../runner/options.ts";
import type { Transport } from "../runner/harness.ts";

/** The seed-000 worker flags, filled in by the runner. */
const WORKER_FLAGS =
  "--connect {connect} --shard-id {shard} --cache-dir {cache_dir} --auth-token-env {token_env}";

function root(): string {
  return decodeURIComponent(new URL("../..", import.meta.url).pathname).replace(
    /\/$/,
    "",
  );
}

/**
 * The template of this repository's worker (`cli/main.ts worker`).
 *
 * @param transport The runner's transport.
 * @returns The template.
 *
 * @example
 * ```ts
 * import { ourWorkerTemplate } from "./templates.ts";
 * console.assert(ourWorkerTemplate().includes("{token_env}"));
 * ```
 */
export function ourWorkerTemplate(transport: Transport = "unix"): string {
  return defaultWorkerTemplate(Deno.execPath(), root(), transport);
}

/**
 * The template of the minimal fixture worker.
 *
 * @param fault A fixture fault to inject (see `faults.ts`), if any.
 * @returns The template.
 *
 * @example
 * ```ts
 * import { miniWorkerTemplate } from "./templates.ts";
 * console.assert(miniWorkerTemplate("token_in_logs").endsWith("--fault token_in_logs"));
 * ```
 */
export function miniWorkerTemplate(fault?: string): string {
  return [
    quoteWord(Deno.execPath()),
    "run --quiet --no-prompt -A",
    quoteWord(`${root()}/conformance/fixtures/mini_worker.ts`),
    WORKER_FLAGS,
    ...(fault ? [`--fault ${quoteWord(fault)}`] : []),
  ].join(" ");
}

/**
 * True when this checkout has its worker command (`cli/main.ts`).
 *
 * @returns Whether `cli/main.ts` exists.
 *
 * @example
 * ```ts
 * import { hasOurWorker } from "./templates.ts";
 * console.assert(typeof hasOurWorker() === "boolean");
 * ```
 */
export function hasOurWorker(): boolean {
  try {
    return Deno.statSync(`${root()}/cli/main.ts`).isFile;
  } catch {
    return false;
  }
}

/**
 * The worker the runner's own tests use: this repository's worker when the
 * checkout has it, else the minimal fixture worker.
 *
 * @returns The template.
 *
 * @example
 * ```ts
 * import { testWorkerTemplate } from "./templates.ts";
 * console.assert(testWorkerTemplate().includes("{connect}"));
 * ```
 */
export function testWorkerTemplate(): string {
  return hasOurWorker() ? ourWorkerTemplate() : miniWorkerTemplate();
}

/**
 * The template that runs `inner` behind the fault proxy.
 *
 * @param fault The fault name (or `none`).
 * @param inner The real worker's template.
 * @returns The proxy template.
 *
 * @example
 * ```ts ignore
 * import { faultProxyTemplate, miniWorkerTemplate } from "./templates.ts";
 * const t = faultProxyTemplate("no_chunking", miniWorkerTemplate());
 * ```
 */
export function faultProxyTemplate(fault: string, inner: string): string {
  const escaped = inner.replaceAll("{", "{{").replaceAll("}", "}}");
  return [
    quoteWord(Deno.execPath()),
    "run --quiet --no-prompt -A",
    quoteWord(`${root()}/conformance/faults/fault_proxy.ts`),
    `--fault ${quoteWord(fault)}`,
    WORKER_FLAGS,
    `--inner ${quoteWord(escaped)}`,
  ].join(" ");
}
