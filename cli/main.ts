/**
 * The `loom` command line: `deno run ... cli/main.ts <subcommand> [args]`.
 * Subcommands are listed in {@link SUBCOMMANDS}; add a row to add one.
 *
 * @module
 */

import { runWorker } from "./worker.ts";

/** One subcommand: a one-line summary and its entry point. */
export interface Subcommand {
  /** Shown by `loom --help`. */
  summary: string;
  /** Runs with the arguments after the subcommand name; returns the exit status. */
  run(args: readonly string[]): Promise<number>;
}

/**
 * Every subcommand, by name.
 *
 * @example
 * ```ts ignore
 * import { SUBCOMMANDS } from "./main.ts";
 * console.assert("worker" in SUBCOMMANDS);
 * ```
 */
export const SUBCOMMANDS: Record<string, Subcommand> = {
  worker: {
    summary: "run one indexing worker connected to a router",
    run: runWorker,
  },
  search: {
    summary: "index Java source roots with workers and search symbols",
    run: async (a) => (await import("./search.ts")).runSearch(a),
  },
  router: {
    summary: "run a router: serve JSON-line queries and file updates on stdio",
    run: async (a) => (await import("./router.ts")).runRouter(a),
  },
  conformance: {
    summary:
      "test a worker implementation against the v3 protocol and worker contract",
    run: async (a) => (await import("./conformance.ts")).conformanceCommand(a),
  },
  caps: {
    summary: "capability-routed workers and jobs (worker, submit, list, demo)",
    run: async (a) => (await import("./caps.ts")).runCaps(a),
  },
  seed: {
    summary:
      "run the seed of a cluster (ephemeral CA, token joins, membership)",
    run: async (a) => (await import("./seed.ts")).runSeed(a),
  },
  join: {
    summary: "join a cluster through its seed and stay a member of its mesh",
    run: async (a) => (await import("./join.ts")).runJoin(a),
  },
  demo: {
    summary: "a guided local tour: index, search, overlay, worker restart",
    run: async (a) => (await import("./demo.ts")).runDemo(a),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(SUBCOMMANDS).map((n) => n.length));
  const rows = Object.entries(SUBCOMMANDS).map(([name, sub]) =>
    `  ${name.padEnd(width)}  ${sub.summary}`
  );
  return `Usage: loom <subcommand> [options]\n\nSubcommands:\n${
    rows.join("\n")
  }\n\nRun "loom <subcommand> --help" for a subcommand's options.\n`;
}

/**
 * Dispatches to a subcommand.
 *
 * @param argv The process arguments.
 * @returns The exit status.
 *
 * @example
 * ```ts ignore
 * import { main } from "./main.ts";
 * Deno.exit(await main(["--help"]));
 * ```
 */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h") {
    await Deno.stdout.write(new TextEncoder().encode(usage()));
    return name === undefined ? 1 : 0;
  }
  const sub = SUBCOMMANDS[name];
  if (sub === undefined) {
    await Deno.stderr.write(
      new TextEncoder().encode(
        `loom: unknown subcommand ${JSON.stringify(name)}; one of ${
          Object.keys(SUBCOMMANDS).join(", ")
        } (see --help)\n`,
      ),
    );
    return 2;
  }
  try {
    return await sub.run(rest);
  } catch (err) {
    // Never a stack trace: one line, exit 1.
    await Deno.stderr.write(
      new TextEncoder().encode(`${name}: ${firstLine(err)}\n`),
    );
    return 1;
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0];
}

if (import.meta.main) {
  // A rejection nobody awaited would print a stack trace and exit 1: make
  // it one line instead.
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    Deno.stderr.writeSync(
      new TextEncoder().encode(`loom: ${firstLine(e.reason)}\n`),
    );
    Deno.exit(1);
  });
  Deno.exit(await main(Deno.args));
}
