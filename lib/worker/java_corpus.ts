/**
 * A deterministic generator of realistic Java source files for benchmarks,
 * demos and tests: packages, imports, Javadoc, annotations with arguments,
 * generic fields, multiple declarators, constructors, overloads, method
 * bodies with lambdas, anonymous and local classes, string/char literals
 * holding braces, text blocks, and nested enums, records and interfaces.
 * Every file is well-formed Java with conventional indentation.
 *
 * @module
 */

import type { FileText } from "../wire/types.ts";

/** Options for {@link generateJavaCorpus}. */
export interface JavaCorpusOptions {
  /** Number of files. */
  files: number;
  /**
   * PRNG seed; equal options give equal corpora.
   * @default {1}
   */
  seed?: number;
  /**
   * Prefix of every path (for example an absolute shard root).
   * @default {""}
   */
  root?: string;
  /**
   * Average number of methods per top-level class; file size grows with it
   * (about 2 KB per file at the default of either style).
   * @default {0.8 for "typical", 2 for "dense"}
   */
  methodsPerClass?: number;
  /**
   * `"typical"` writes methods the way library code usually looks (Javadoc
   * with `@param`/`@return`/`@throws`, bodies with loops, `try`/`catch` and
   * `switch`); `"dense"` writes short Javadoc and short bodies, so
   * declarations make up a larger share of the text (a harder case for
   * throughput).
   * @default {"typical"}
   */
  style?: "typical" | "dense";
}

/** Small fast PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NOUNS = [
  "Account",
  "Buffer",
  "Cache",
  "Channel",
  "Client",
  "Config",
  "Context",
  "Document",
  "Engine",
  "Event",
  "Frame",
  "Handler",
  "Index",
  "Ledger",
  "Message",
  "Node",
  "Order",
  "Packet",
  "Query",
  "Record",
  "Router",
  "Session",
  "Shard",
  "Symbol",
  "Token",
  "Worker",
];
const VERBS = [
  "apply",
  "build",
  "check",
  "compute",
  "decode",
  "encode",
  "find",
  "flush",
  "handle",
  "load",
  "merge",
  "parse",
  "process",
  "read",
  "render",
  "resolve",
  "scan",
  "send",
  "store",
  "update",
  "validate",
  "write",
];
const FIELDS = [
  "count",
  "limit",
  "name",
  "label",
  "offset",
  "size",
  "state",
  "total",
  "value",
  "version",
  "weight",
  "width",
];
const TYPES = [
  "int",
  "long",
  "boolean",
  "double",
  "String",
  "List<String>",
  "Map<String, List<Integer>>",
  "Optional<Long>",
  "byte[]",
  "Function<String, Integer>",
];

/**
 * Generates `files` Java files deterministically.
 *
 * @param options Size, seed and path prefix.
 * @returns The files, paths unique and ending in `.java`.
 *
 * @example
 * ```ts
 * import { generateJavaCorpus } from "./java_corpus.ts";
 * const a = generateJavaCorpus({ files: 3, seed: 7 });
 * const b = generateJavaCorpus({ files: 3, seed: 7 });
 * console.assert(a.length === 3 && a[0].path.endsWith(".java"));
 * console.assert(JSON.stringify(a) === JSON.stringify(b));
 * ```
 */
export function generateJavaCorpus(options: JavaCorpusOptions): FileText[] {
  const { files, seed = 1, root = "", style = "typical" } = options;
  const methodsPerClass = options.methodsPerClass ??
    (style === "dense" ? 2 : 0.8);
  if (style !== "typical" && style !== "dense") {
    throw new TypeError(`unknown corpus style: ${String(style)}`);
  }
  if (!Number.isInteger(files) || files < 0) {
    throw new RangeError("files must be a non-negative integer");
  }
  if (!Number.isFinite(methodsPerClass) || methodsPerClass < 0) {
    throw new RangeError("methodsPerClass must be a non-negative number");
  }
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const out: FileText[] = [];
  for (let i = 0; i < files; i++) {
    const pkg = `com.example.m${i % 37}`;
    const cls = `${pick(NOUNS)}${pick(NOUNS)}${i}`;
    out.push({
      path: `${root}src/main/java/${pkg.replaceAll(".", "/")}/${cls}.java`,
      text: generateFile(
        pkg,
        cls,
        methodsPerClass,
        style === "typical",
        rnd,
        pick,
      ),
    });
  }
  return out;
}

function generateFile(
  pkg: string,
  cls: string,
  methodsPerClass: number,
  typical: boolean,
  rnd: () => number,
  pick: <T>(xs: readonly T[]) => T,
): string {
  const lines: string[] = [];
  const add = (s: string): void => {
    lines.push(s);
  };
  add(`package ${pkg};`);
  add("");
  add("import java.util.*;");
  add("import java.util.function.Function;");
  add("");
  add("/**");
  add(` * ${cls} keeps {@code ${pick(FIELDS)}} state; see {@link Object}.`);
  add(" * Braces in comments { do not } count.");
  add(" */");
  if (rnd() < 0.5) add(`@SuppressWarnings({"unchecked", "rawtypes"})`);
  const generic = rnd() < 0.3 ? "<T extends Comparable<T>>" : "";
  add(
    `public class ${cls}${generic} extends Object implements Runnable, Comparable<${cls}> {`,
  );
  add(`    private static final long serialVersionUID = ${i32(rnd)}L;`);
  const fieldCount = 2 + Math.floor(rnd() * 4);
  const used = new Set<string>();
  for (let f = 0; f < fieldCount; f++) {
    const name = `${pick(FIELDS)}${f}`;
    used.add(name);
    const type = pick(TYPES);
    const r = rnd();
    if (r < 0.2) {
      add(`    protected int ${name}, ${name}Max = 10, ${name}s[];`);
    } else if (r < 0.4 && type.startsWith("Map")) {
      add(
        `    private final ${type} ${name} = new HashMap<String, List<Integer>>();`,
      );
    } else if (r < 0.5) {
      add(`    private String ${name} = "brace { in a string";`);
    } else if (r < 0.6) {
      add(`    private final char ${name} = '{';`);
    } else {
      add(`    private ${type} ${name};`);
    }
  }
  add("");
  add(`    public ${cls}() {`);
  add("        this(0);");
  add("    }");
  add("");
  add(`    ${cls}(int seed) {`);
  add("        super();");
  add("    }");
  const methods = Math.max(
    0,
    Math.round(methodsPerClass * (0.5 + rnd())),
  );
  for (let m = 0; m < methods; m++) {
    const name = `${pick(VERBS)}${pick(NOUNS)}`;
    add("");
    add("    /**");
    add(`     * Runs ${name}; returns {@code -1} on failure.`);
    if (typical) {
      add("     *");
      add("     * @param a the number of rounds, at least zero");
      add("     * @param b per-key samples; may be {@code null}");
      add("     * @param rest extra labels, ignored when empty");
      add("     * @return the computed value, never {@code null} on success");
      add("     * @throws Exception if a round fails");
    }
    add("     */");
    if (rnd() < 0.3) add('    @Deprecated(since = "1.2", forRemoval = false)');
    const ret = pick(TYPES);
    add(
      `    public ${ret} ${name}(final int a, Map<String, List<int[]>> b, String... rest) throws Exception {`,
    );
    add("        int local = a * 2;");
    add("        for (int i = 0; i < a; i++) {");
    add("            local += i % 3 == 0 ? i : -i;");
    add("        }");
    const r = rnd();
    if (r < 0.25) {
      add("        Runnable r = () -> {");
      add('            System.out.println("closing } brace");');
      add("        };");
    } else if (r < 0.5) {
      add("        Comparator<String> c = new Comparator<String>() {");
      add("            @Override");
      add("            public int compare(String x, String y) {");
      add("                return x.compareTo(y);");
      add("            }");
      add("        };");
    } else if (r < 0.6) {
      add('        String block = """');
      add("            { text block with braces }");
      add('            """;');
    } else if (r < 0.7) {
      add("        class Local { int hidden; }");
    }
    if (typical) {
      add("        try {");
      add(
        "            for (Map.Entry<String, List<int[]>> e : b.entrySet()) {",
      );
      add("                if (e.getValue() == null) continue;");
      add(
        "                local += e.getKey().length() + e.getValue().size();",
      );
      add("            }");
      add("        } catch (RuntimeException ex) {");
      add(
        '            throw new IllegalStateException("round failed: " + a, ex);',
      );
      add("        }");
      add("        switch (local % 4) {");
      add("            case 0: local++; break;");
      add("            case 1: { local += rest.length; break; }");
      add("            default: local--;");
      add("        }");
    }
    add("        if (b != null && b.size() > 3) {");
    add(`            return ${defaultValue(ret)};`);
    add("        }");
    add(`        return ${defaultValue(ret)};`);
    add("    }");
    if (rnd() < 0.2) {
      add("");
      add(`    public ${ret} ${name}(int a) {`);
      add(`        return ${name}(a, null);`);
      add("    }");
    }
  }
  add("");
  add("    @Override");
  add("    public void run() {");
  add("        new Thread(this).start();");
  add("    }");
  add("");
  add("    @Override");
  add(`    public int compareTo(${cls} other) {`);
  add("        return 0;");
  add("    }");
  const r = rnd();
  if (r < 0.3) {
    add("");
    add("    enum Mode {");
    add('        FAST, SLOW("s") {');
    add("            @Override int speed() { return 1; }");
    add("        };");
    add("        Mode() {}");
    add("        Mode(String s) {}");
    add("        int speed() { return 0; }");
    add("    }");
  } else if (r < 0.55) {
    add("");
    add("    record Pair<A, B>(A first, B second) {");
    add("        Pair {");
    add("            Objects.requireNonNull(first);");
    add("        }");
    add("    }");
  } else if (r < 0.8) {
    add("");
    add("    interface Listener {");
    add("        int PRIORITY = 5;");
    add("        void onEvent(String name);");
    add("        default int priority() { return PRIORITY; }");
    add("    }");
  }
  add("}");
  add("");
  return lines.join("\n");
}

function i32(rnd: () => number): number {
  return Math.floor(rnd() * 2147483647);
}

function defaultValue(type: string): string {
  switch (type) {
    case "int":
    case "long":
    case "double":
      return "0";
    case "boolean":
      return "false";
    default:
      return "null";
  }
}
