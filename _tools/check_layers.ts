/**
 * The layer check: keeps the tree in the shape the README's "Architecture"
 * section describes. It reads every TypeScript module under `lib/`, `cli/`,
 * `conformance/`, `bench/` and `_tools/`, parses its imports (static
 * `import` / `export ... from`, `import type`, side-effect imports and
 * dynamic `import("...")` with a literal) and reports:
 *
 * - `io-in-pure`: a pure module uses `Deno.*`, a timer, `crypto.subtle` or
 *   imports a `node:` I/O module. Pure modules are the files of
 *   `lib/<area>/` outside `runtime/`, for every area found by listing `lib/`
 *   except `lib/net/` (the transports, and for now the router runtime) and
 *   `lib/testing/` (fixtures). Test files (`*_test.ts`) may do I/O.
 * - `pure-imports-runtime`: a pure module imports a `runtime/` folder,
 *   `lib/net/` or `cli/`.
 * - `lib-imports-app`: a module under `lib/` (tests included) imports
 *   anything outside `lib/`: `cli/`, `bench/`, `conformance/`, or a root
 *   file such as `deno.json` located with `new URL(..., import.meta.url)`.
 * - `production-imports-testing`: a non-test module under `lib/`, `cli/` or
 *   `conformance/` imports `lib/testing/` or a test helper (`*_test_util.ts`).
 * - `private-import`: a module imports a `_`-prefixed module of another
 *   folder.
 * - `cycle`: modules under `lib/`, `cli/` and `conformance/` import each
 *   other in a cycle (type-only imports included).
 *
 * Usage: `deno run --allow-read _tools/check_layers.ts [root]` (exit 1 on a
 * finding).
 *
 * @module
 */

/** The kinds of finding, each a stable code. */
export type LayerRule =
  | "io-in-pure"
  | "pure-imports-runtime"
  | "lib-imports-app"
  | "production-imports-testing"
  | "private-import"
  | "cycle";

/** One violation of the layering rules. */
export interface LayerFinding {
  /** Which rule is broken. */
  rule: LayerRule;
  /** The offending module, relative to the root, `/`-separated. */
  file: string;
  /** 1-based line (0 for a cycle). */
  line: number;
  /** What was found (the import target, the I/O use, or the cycle). */
  detail: string;
}

/** One import of a module, as written. */
export interface ImportRef {
  /** The specifier between the quotes. */
  specifier: string;
  /** 1-based line of the specifier. */
  line: number;
  /**
   * `static`, `dynamic` (`import("...")`) or `url` (a module or config file
   * resolved with `new URL("...", import.meta.url)`, a dependency too).
   */
  how: "static" | "dynamic" | "url";
}

/** What a module's code (strings and comments removed) uses. */
export interface ModuleScan {
  /** Every import and re-export with a literal specifier. */
  imports: ImportRef[];
  /** Uses of I/O in code: `Deno.`, timers, `crypto.subtle`. */
  io: { what: string; line: number }[];
}

interface Token {
  kind: "ident" | "string" | "punct" | "template";
  value: string;
  line: number;
}

const IDENT_START = /[A-Za-z_$\u0080-\uffff]/;
const IDENT_PART = /[A-Za-z0-9_$\u0080-\uffff]/;
/** After these tokens a `/` divides; otherwise it starts a regex literal. */
const DIVIDES_AFTER = new Set([")", "]", "}"]);
const KEYWORDS_BEFORE_EXPR = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
]);

/**
 * Splits TypeScript source into identifiers, punctuation and string
 * literals, dropping comments, regex literals and template text (the
 * expressions inside `${...}` are kept).
 */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  // Brace depth at which each open template's `${` started.
  const templateDepth: number[] = [];
  let depth = 0;
  const n = text.length;

  const skipString = (quote: string): string => {
    let out = "";
    i++;
    while (i < n && text[i] !== quote) {
      if (text[i] === "\\") {
        out += text[i + 1] ?? "";
        i += 2;
        continue;
      }
      if (text[i] === "\n") line++;
      out += text[i++];
    }
    i++;
    return out;
  };
  // Scans template text from `i` (just after "`" or "}") to "`" or "${".
  const templateText = (): void => {
    while (i < n) {
      const c = text[i];
      if (c === "\\") {
        i += 2;
        continue;
      }
      if (c === "\n") line++;
      if (c === "`") {
        i++;
        return;
      }
      if (c === "$" && text[i + 1] === "{") {
        i += 2;
        templateDepth.push(depth);
        depth++;
        return;
      }
      i++;
    }
  };
  const regexAllowed = (): boolean => {
    const prev = tokens[tokens.length - 1];
    if (!prev) return true;
    if (prev.kind === "string" || prev.kind === "template") return false;
    if (prev.kind === "ident") return KEYWORDS_BEFORE_EXPR.has(prev.value);
    return !DIVIDES_AFTER.has(prev.value);
  };

  while (i < n) {
    const c = text[i];
    if (c === "\n") {
      line++;
      i++;
    } else if (c === " " || c === "\t" || c === "\r") {
      i++;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < n && text[i] !== "\n") i++;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end < 0 ? n : end + 2;
      for (let j = i; j < stop; j++) if (text[j] === "\n") line++;
      i = stop;
    } else if (c === "'" || c === '"') {
      const start = line;
      tokens.push({ kind: "string", value: skipString(c), line: start });
    } else if (c === "`") {
      tokens.push({ kind: "template", value: "`", line });
      i++;
      templateText();
    } else if (c === "/" && regexAllowed()) {
      i++;
      let inClass = false;
      while (i < n && text[i] !== "\n") {
        const d = text[i];
        if (d === "\\") {
          i += 2;
          continue;
        }
        if (d === "[") inClass = true;
        else if (d === "]") inClass = false;
        else if (d === "/" && !inClass) break;
        i++;
      }
      i++;
      while (i < n && IDENT_PART.test(text[i])) i++;
      tokens.push({ kind: "template", value: "/re/", line });
    } else if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < n && IDENT_PART.test(text[j])) j++;
      tokens.push({ kind: "ident", value: text.slice(i, j), line });
      i = j;
    } else if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < n && /[0-9A-Za-z_.]/.test(text[j])) j++;
      tokens.push({ kind: "ident", value: text.slice(i, j), line });
      i = j;
    } else {
      if (c === "{") depth++;
      else if (c === "}") {
        depth--;
        if (
          templateDepth.length > 0 &&
          templateDepth[templateDepth.length - 1] === depth
        ) {
          templateDepth.pop();
          i++;
          templateText();
          tokens.push({ kind: "template", value: "`", line });
          continue;
        }
      }
      tokens.push({ kind: "punct", value: c, line });
      i++;
    }
  }
  return tokens;
}

const TIMERS = new Set([
  "setTimeout",
  "setInterval",
  "clearTimeout",
  "clearInterval",
  "setImmediate",
]);

/**
 * Parses one module: its imports and its uses of I/O globals, ignoring
 * comments and string contents.
 *
 * @param text The module's source text.
 * @returns The imports and I/O uses, in source order.
 *
 * @example
 * ```ts
 * import { scanModule } from "./check_layers.ts";
 * const scan = scanModule(
 *   'import type { A } from "./a.ts";\n// Deno.exit()\nconst m = await import("./b.ts");',
 * );
 * console.assert(scan.imports.map((i) => i.specifier).join() === "./a.ts,./b.ts");
 * console.assert(scan.io.length === 0);
 * ```
 */
export function scanModule(text: string): ModuleScan {
  const tokens = tokenize(text);
  const imports: ImportRef[] = [];
  const io: { what: string; line: number }[] = [];
  const at = (k: number): Token | undefined => tokens[k];
  const isPunct = (k: number, v: string): boolean =>
    at(k)?.kind === "punct" && at(k)?.value === v;
  const isIdent = (k: number, v: string): boolean =>
    at(k)?.kind === "ident" && at(k)?.value === v;
  // Scans a static import/export clause from k to its `from "..."`.
  const fromClause = (k: number): void => {
    let braces = 0;
    for (let j = k; j < tokens.length; j++) {
      const t = tokens[j];
      if (t.kind === "punct") {
        if (t.value === "{") braces++;
        else if (t.value === "}") braces--;
        else if (t.value === ";" || t.value === "(" || t.value === "=") return;
      } else if (
        braces === 0 && t.kind === "ident" && t.value === "from" &&
        at(j + 1)?.kind === "string"
      ) {
        const s = tokens[j + 1];
        imports.push({ specifier: s.value, line: s.line, how: "static" });
        return;
      }
    }
  };
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (t.kind !== "ident") continue;
    const afterDot = isPunct(k - 1, ".");
    if (afterDot) continue;
    if (t.value === "import") {
      if (isPunct(k + 1, "(")) {
        const s = at(k + 2);
        if (
          s?.kind === "string" && (isPunct(k + 3, ")") || isPunct(k + 3, ","))
        ) {
          imports.push({ specifier: s.value, line: s.line, how: "dynamic" });
        }
      } else if (at(k + 1)?.kind === "string") {
        const s = tokens[k + 1];
        imports.push({ specifier: s.value, line: s.line, how: "static" });
      } else if (!isPunct(k + 1, ".")) {
        fromClause(k + 1);
      }
    } else if (t.value === "export") {
      if (
        isPunct(k + 1, "*") || isPunct(k + 1, "{") || isIdent(k + 1, "type")
      ) {
        fromClause(k + 1);
      }
    } else if (
      t.value === "new" && isIdent(k + 1, "URL") && isPunct(k + 2, "(") &&
      at(k + 3)?.kind === "string" && isPunct(k + 4, ",") &&
      isIdent(k + 5, "import") && isPunct(k + 6, ".") &&
      isIdent(k + 7, "meta") && /\.(ts|json)$/.test(tokens[k + 3].value)
    ) {
      const s = tokens[k + 3];
      imports.push({ specifier: s.value, line: s.line, how: "url" });
    } else if (t.value === "Deno" && isPunct(k + 1, ".")) {
      io.push({ what: `Deno.${at(k + 2)?.value ?? ""}`, line: t.line });
    } else if (TIMERS.has(t.value) && !isPunct(k + 1, ":")) {
      io.push({ what: `timer ${t.value}`, line: t.line });
    } else if (
      t.value === "crypto" && isPunct(k + 1, ".") && isIdent(k + 2, "subtle")
    ) {
      io.push({ what: "crypto.subtle", line: t.line });
    }
  }
  return { imports, io };
}

/**
 * `node:` modules a pure module may import: computation only, no clock,
 * randomness, files, sockets or processes.
 */
const PURE_NODE_MODULES = new Set([
  "node:assert",
  "node:assert/strict",
  "node:buffer",
  "node:string_decoder",
  "node:util",
]);

/** Where a module sits in the layering. */
interface Placement {
  /** Under `lib/`. */
  lib: boolean;
  /** A pure module (see the module doc). */
  pure: boolean;
  /** A `*_test.ts` file. */
  test: boolean;
  /** Under `lib/testing/`. */
  testing: boolean;
}

function place(file: string): Placement {
  const parts = file.split("/");
  const lib = parts[0] === "lib" && parts.length > 2;
  const test = file.endsWith("_test.ts") || file.endsWith("_test_util.ts");
  const area = lib ? parts[1] : "";
  const testing = area === "testing";
  const pure = lib && !test && area !== "net" && !testing &&
    !parts.slice(2, -1).includes("runtime");
  return { lib, pure, test, testing };
}

/**
 * Demo programs (`cli/demo_*.ts` and their `cli/_*_demo_*.ts` helpers) start
 * throwaway servers from `lib/testing/`; like benches, they are not published.
 */
function isDemo(file: string): boolean {
  return /^cli\/(demo_[^/]*|_[^/]*_demo_[^/]*)\.ts$/.test(file);
}

function dirOf(file: string): string {
  const i = file.lastIndexOf("/");
  return i < 0 ? "" : file.slice(0, i);
}

/** Resolves a relative specifier against a module path; others stay as is. */
function resolveSpecifier(from: string, specifier: string): string | null {
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) return null;
  const parts = dirOf(from) === "" ? [] : dirOf(from).split("/");
  for (const seg of specifier.split("/")) {
    if (seg === "." || seg === "") continue;
    if (seg === "..") parts.pop();
    else parts.push(seg);
  }
  return parts.join("/");
}

/**
 * Checks a set of modules against the layering rules.
 *
 * @param modules Module path (relative to the project root, `/`-separated)
 *   to source text.
 * @returns The findings, sorted by file and line.
 *
 * @example
 * ```ts
 * import { checkLayers } from "./check_layers.ts";
 * const findings = checkLayers(new Map([
 *   ["lib/wire/a.ts", 'import { connect } from "../net/connect.ts";'],
 *   ["lib/net/connect.ts", "export const connect = 1;"],
 * ]));
 * console.assert(findings.length === 1);
 * console.assert(findings[0].rule === "pure-imports-runtime");
 * ```
 */
export function checkLayers(
  modules: ReadonlyMap<string, string>,
): LayerFinding[] {
  const findings: LayerFinding[] = [];
  const graph = new Map<string, string[]>();
  for (const [file, text] of modules) {
    const where = place(file);
    const scan = scanModule(text);
    const edges: string[] = [];
    graph.set(file, edges);
    if (where.pure) {
      for (const use of scan.io) {
        findings.push({
          rule: "io-in-pure",
          file,
          line: use.line,
          detail: use.what,
        });
      }
    }
    for (const ref of scan.imports) {
      const spec = ref.specifier;
      if (spec.startsWith("node:")) {
        if (where.pure && !PURE_NODE_MODULES.has(spec)) {
          findings.push({
            rule: "io-in-pure",
            file,
            line: ref.line,
            detail: `import of ${spec}`,
          });
        }
        continue;
      }
      const target = resolveSpecifier(file, spec);
      if (target === null) continue;
      // A test may locate a program or data file to run it as a subprocess.
      if (ref.how === "url" && where.test) continue;
      if (ref.how !== "url" && modules.has(target)) edges.push(target);
      const add = (rule: LayerRule): void => {
        findings.push({ rule, file, line: ref.line, detail: spec });
      };
      const tParts = target.split("/");
      const tTop = tParts[0];
      const tLibNet = tTop === "lib" && tParts[1] === "net";
      const tRuntime = tTop === "lib" &&
        tParts.slice(2, -1).includes("runtime");
      if (where.pure && (tLibNet || tRuntime || tTop === "cli")) {
        add("pure-imports-runtime");
      }
      if (where.lib && tTop !== "lib") {
        add("lib-imports-app");
      }
      const production = !where.test && !where.testing && !isDemo(file) &&
        ["lib", "cli", "conformance"].includes(file.split("/")[0]);
      const testCode = (tTop === "lib" && tParts[1] === "testing") ||
        target.endsWith("_test.ts") || target.endsWith("_test_util.ts");
      if (production && testCode) {
        add("production-imports-testing");
      }
      const base = tParts[tParts.length - 1];
      if (base.startsWith("_") && dirOf(target) !== dirOf(file)) {
        add("private-import");
      }
    }
  }
  for (const cycle of findCycles(graph)) {
    findings.push({
      rule: "cycle",
      file: cycle[0],
      line: 0,
      detail: [...cycle, cycle[0]].join(" -> "),
    });
  }
  return findings.sort((a, b) =>
    a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line
  );
}

/**
 * Finds the import cycles among modules under `lib/`, `cli/` and
 * `conformance/`: one representative cycle per strongly connected
 * component (Tarjan), listed from its smallest path.
 */
function findCycles(graph: ReadonlyMap<string, string[]>): string[][] {
  const inScope = (f: string): boolean => /^(lib|cli|conformance)\//.test(f);
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!inScope(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      const selfLoop = (graph.get(v) ?? []).includes(v);
      if (comp.length > 1 || selfLoop) components.push(comp);
    }
  };
  for (const v of [...graph.keys()].sort()) {
    if (inScope(v) && !index.has(v)) visit(v);
  }
  return components.map((comp) => cyclePath(graph, new Set(comp)));
}

/** A shortest cycle through the smallest member of a component (BFS). */
function cyclePath(
  graph: ReadonlyMap<string, string[]>,
  comp: ReadonlySet<string>,
): string[] {
  const start = [...comp].sort()[0];
  const parent = new Map<string, string>();
  const queue = [start];
  for (let q = 0; q < queue.length; q++) {
    const v = queue[q];
    for (const w of graph.get(v) ?? []) {
      if (!comp.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(parent.get(path[0])!);
        return path;
      }
      if (!parent.has(w)) {
        parent.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

const ROOTS = ["lib", "cli", "conformance", "bench", "_tools"];

async function* typescriptFiles(
  root: string,
  dir: string,
): AsyncGenerator<string> {
  let entries: Deno.DirEntry[];
  try {
    entries = [];
    for await (const e of Deno.readDir(`${root}/${dir}`)) entries.push(e);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  for (const entry of entries) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) {
      if (entry.name === "node_modules") continue;
      yield* typescriptFiles(root, path);
    } else if (entry.name.endsWith(".ts")) yield path;
  }
}

/**
 * Reads every module under the checked folders of a project.
 *
 * @param root The project root.
 * @returns Path relative to the root to source text.
 *
 * @example
 * ```ts ignore
 * import { checkLayers, readProject } from "./check_layers.ts";
 * console.log(checkLayers(await readProject(".")).length);
 * ```
 */
export async function readProject(root: string): Promise<Map<string, string>> {
  const modules = new Map<string, string>();
  for (const top of ROOTS) {
    for await (const file of typescriptFiles(root, top)) {
      modules.set(file, await Deno.readTextFile(`${root}/${file}`));
    }
  }
  return modules;
}

if (import.meta.main) {
  const root = Deno.args[0] ?? new URL("..", import.meta.url).pathname;
  const modules = await readProject(root);
  const findings = checkLayers(modules);
  for (const f of findings) {
    const where = f.line > 0 ? `${f.file}:${f.line}` : f.file;
    console.error(`${where}: ${f.rule}: ${f.detail}`);
  }
  console.log(
    `layers: ${modules.size} modules, ${findings.length} finding(s)`,
  );
  if (findings.length > 0) Deno.exit(1);
}
