/**
 * `deno task conformance`: runs the worker conformance suite against any
 * worker command and writes the plain, JUnit, HTML and JSON reports.
 *
 * @module
 */

import { ALL_CASES } from "../conformance/runner/cases/mod.ts";
import { selectCases } from "../conformance/runner/case.ts";
import {
  type HarnessSettings,
  killAllWorkers,
} from "../conformance/runner/harness.ts";
import {
  type ConformanceOptions,
  defaultWorkerTemplate,
  parseConformanceArgs,
  USAGE,
} from "../conformance/runner/options.ts";
import { formatHtmlReport } from "../conformance/runner/report_html.ts";
import { formatJsonReport } from "../conformance/runner/report_json.ts";
import { formatJunitReport } from "../conformance/runner/report_junit.ts";
import {
  formatCaseLine,
  formatTextReport,
} from "../conformance/runner/report_text.ts";
import { runSuite } from "../conformance/runner/run.ts";
import { templatePlaceholders } from "../conformance/runner/template.ts";
import { countResults, type RunReport } from "../conformance/runner/types.ts";
import { prepareTlsMaterial } from "../conformance/runner/tls_material.ts";

/**
 * Environment variable that carries the token to the worker.
 *
 * @example
 * ```ts
 * import { TOKEN_ENV } from "./conformance.ts";
 * console.assert(TOKEN_ENV === "LOOM_CONFORMANCE_TOKEN");
 * ```
 */
export const TOKEN_ENV = "LOOM_CONFORMANCE_TOKEN";

function repoRoot(): string {
  return decodeURIComponent(new URL("..", import.meta.url).pathname).replace(
    /\/$/,
    "",
  );
}

/** Options for {@link runConformance}. */
export interface RunConformanceOptions {
  /** Where progress and the summary go. @default console.log */
  print?: (line: string) => void;
  /** Where a usage error's one line goes. @default stderr */
  printError?: (line: string) => void;
}

/**
 * Runs the suite as the command line asks.
 *
 * @param args Command-line arguments.
 * @param options Output sink.
 * @returns The exit code (0 ok, 1 a MUST case failed, 2 usage error) and the report.
 *
 * @example
 * ```ts
 * import { runConformance } from "./conformance.ts";
 * const { code } = await runConformance(["--list"], { print: () => {} });
 * console.assert(code === 0);
 * ```
 */
export async function runConformance(
  args: readonly string[],
  options: RunConformanceOptions = {},
): Promise<{ code: number; report?: RunReport }> {
  const print = options.print ?? ((l: string) => console.log(l));
  const fail = options.printError ??
    ((l: string) => Deno.stderr.writeSync(new TextEncoder().encode(l + "\n")));
  let opts: ConformanceOptions;
  try {
    opts = parseConformanceArgs(args);
  } catch (err) {
    // One line on stderr (the report goes to `print`).
    fail(`conformance: ${(err as Error).message} (see --help)`);
    return { code: 2 };
  }
  if (opts.help) {
    print(USAGE);
    return { code: 0 };
  }
  const cases = selectCases(ALL_CASES, opts.only);
  if (opts.list) {
    for (const c of cases) {
      print(`${c.id}  [${c.severity}] ${c.rule}  ${c.title}`);
    }
    print(`${cases.length} cases`);
    return { code: 0 };
  }
  const template = opts.worker ??
    defaultWorkerTemplate(Deno.execPath(), repoRoot(), opts.transport);
  try {
    const used = templatePlaceholders(template);
    if (!used.includes("connect")) {
      print("conformance: warning: the template has no {connect} placeholder");
    }
    if (
      opts.transport === "mtls" &&
      !(used.includes("client_cert") && used.includes("client_key"))
    ) {
      print(
        "conformance: warning: --transport mtls but the template lacks {client_cert} or {client_key}",
      );
    }
  } catch (err) {
    fail(`conformance: bad --worker template: ${(err as Error).message}`);
    return { code: 2 };
  }
  const runDir = await Deno.makeTempDir({ prefix: "loom-conf-" });
  // Worker processes run in their own process groups: on Ctrl-C, take them
  // down with us.
  const onInterrupt = (): void => {
    killAllWorkers();
    Deno.removeSync(runDir, { recursive: true });
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  let tls: Awaited<ReturnType<typeof prepareTlsMaterial>> | undefined;
  try {
    tls = await prepareTlsMaterial(opts.transport, runDir);
    const settings: HarnessSettings = {
      template,
      transport: opts.transport,
      runDir,
      tokenEnv: TOKEN_ENV,
      tls: tls.material,
    };
    print(
      `conformance: ${cases.length} cases, transport ${opts.transport}, ${opts.jobs} jobs`,
    );
    print(`worker: ${template}`);
    const report = await runSuite(cases, settings, {
      jobs: opts.jobs,
      caseTimeoutMs: opts.timeoutMs,
      onResult: (r) => print(formatCaseLine(r, { verbose: opts.verbose })),
    });
    const text = formatTextReport(report, { verbose: opts.verbose });
    const lines = text.trimEnd().split("\n");
    // The per-case lines were printed as they finished; print the footer.
    print(lines.slice(lines.indexOf("") + 1).join("\n"));
    if (opts.junit) {
      await Deno.writeTextFile(opts.junit, formatJunitReport(report));
    }
    if (opts.html) {
      await Deno.writeTextFile(opts.html, formatHtmlReport(report));
    }
    if (opts.json) {
      await Deno.writeTextFile(opts.json, formatJsonReport(report));
    }
    return {
      code: countResults(report.results).mustFailed > 0 ? 1 : 0,
      report,
    };
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
    await tls?.remove();
    await Deno.remove(runDir, { recursive: true }).catch(() => {});
  }
}

/**
 * The `conformance` subcommand entry point (for `cli/main.ts`).
 *
 * @param args Arguments after the subcommand name.
 * @returns The exit status.
 *
 * @example
 * ```ts ignore
 * import { conformanceCommand } from "./conformance.ts";
 * Deno.exit(await conformanceCommand(["--only", "hs.*"]));
 * ```
 */
export async function conformanceCommand(
  args: readonly string[],
): Promise<number> {
  return (await runConformance(args)).code;
}

if (import.meta.main) {
  const { code } = await runConformance(Deno.args);
  Deno.exit(code);
}
