import assert from "node:assert/strict";
import {
  checkLayers,
  type LayerFinding,
  readProject,
  scanModule,
} from "./check_layers.ts";

function check(files: Record<string, string>): LayerFinding[] {
  return checkLayers(new Map(Object.entries(files)));
}

function rules(files: Record<string, string>): string[] {
  return check(files).map((f) => `${f.file}:${f.rule}`);
}

Deno.test("scanModule() finds static, type, re-export, side-effect and dynamic imports", () => {
  const text = [
    'import { a } from "./a.ts";',
    'import type { B } from "./b.ts";',
    'import * as c from "./c.ts";',
    'import d, { e } from "./d.ts";',
    'import "./side.ts";',
    'export { f } from "./f.ts";',
    'export * from "./g.ts";',
    'export type { H } from "./h.ts";',
    'export * as i from "./i.ts";',
    'const j = await import("./j.ts");',
    "import {",
    "  k,",
    "  type K,",
    '} from "./k.ts";',
  ].join("\n");
  const scan = scanModule(text);
  assert.deepEqual(
    scan.imports.map((i) => `${i.specifier}@${i.line}:${i.how}`),
    [
      "./a.ts@1:static",
      "./b.ts@2:static",
      "./c.ts@3:static",
      "./d.ts@4:static",
      "./side.ts@5:static",
      "./f.ts@6:static",
      "./g.ts@7:static",
      "./h.ts@8:static",
      "./i.ts@9:static",
      "./j.ts@10:dynamic",
      "./k.ts@14:static",
    ],
  );
});

Deno.test("scanModule() ignores comments, strings, templates and regexes", () => {
  const text = [
    '// import { x } from "./comment.ts"; Deno.exit(1)',
    '/* Deno.readFile(); import("./block.ts") */',
    "const s = \"import { y } from './string.ts'; Deno.exit()\";",
    'const t = `Deno.env ${1 + 1} setTimeout(f) import("./tpl.ts")`;',
    'const re = /import "\\/re.ts"/g;',
    "const ok = { setTimeout: 1 }; // a key, not a call",
    "const meta = import.meta.url;",
  ].join("\n");
  const scan = scanModule(text);
  assert.deepEqual(scan.imports, []);
  assert.deepEqual(scan.io, []);
});

Deno.test("scanModule() finds Deno.*, timers and crypto.subtle in code", () => {
  const text = [
    "Deno.exit(1);",
    "setTimeout(() => {}, 1);",
    "const id = setInterval(f, 2);",
    "await crypto.subtle.digest('SHA-256', b);",
    "const u = `${Deno.cwd()}`;",
  ].join("\n");
  assert.deepEqual(
    scanModule(text).io.map((u) => `${u.what}@${u.line}`),
    [
      "Deno.exit@1",
      "timer setTimeout@2",
      "timer setInterval@3",
      "crypto.subtle@4",
      "Deno.cwd@5",
    ],
  );
});

Deno.test("scanModule() reads module URLs resolved against import.meta.url", () => {
  const scan = scanModule(
    'const main = new URL("../../cli/main.ts", import.meta.url);\n' +
      'const data = new URL("./data.txt", import.meta.url);',
  );
  assert.deepEqual(scan.imports.map((i) => `${i.specifier}:${i.how}`), [
    "../../cli/main.ts:url",
  ]);
});

Deno.test("checkLayers() accepts a well-layered tree", () => {
  assert.deepEqual(
    check({
      "lib/wire/codec.ts": 'import { x } from "./_private.ts";',
      "lib/wire/_private.ts": "export const x = 1;",
      "lib/wire/codec_test.ts":
        'import { x } from "./codec.ts"; import { f } from "../testing/f.ts"; Deno.test("t", () => {});',
      "lib/testing/f.ts":
        'import { connect } from "../net/connect.ts"; export const f = () => Deno.cwd();',
      "lib/net/connect.ts":
        'import { x } from "../wire/codec.ts"; export const connect = () => setTimeout(() => {}, 1);',
      "lib/seed/core.ts":
        'import { x } from "../wire/codec.ts"; import { inspect } from "node:util";',
      "lib/seed/runtime/bind.ts":
        'import { x } from "../core.ts"; import { connect } from "../../net/connect.ts"; Deno.exit(0);',
      "cli/main.ts": 'import { bind } from "../lib/seed/runtime/bind.ts";',
      "bench/x.ts": 'import { f } from "../lib/testing/f.ts";',
    }),
    [],
  );
});

Deno.test("checkLayers() rejects Deno.*, timers, crypto.subtle and node: I/O in every pure area", () => {
  // Areas are not a fixed list: a new folder under lib/ is pure too.
  for (const area of ["wire", "router", "seed", "ledger", "caps", "new_area"]) {
    const file = `lib/${area}/core.ts`;
    for (
      const [text, detail] of [
        ["export const cwd = () => Deno.cwd();", "Deno.cwd"],
        ["setTimeout(() => {}, 10);", "timer setTimeout"],
        ["await crypto.subtle.digest('SHA-256', x);", "crypto.subtle"],
        ['import { readFileSync } from "node:fs";', "import of node:fs"],
        ['import { randomBytes } from "node:crypto";', "import of node:crypto"],
      ]
    ) {
      const findings = check({ [file]: text });
      assert.equal(findings.length, 1, `${file}: ${text}`);
      assert.equal(findings[0].rule, "io-in-pure");
      assert.equal(findings[0].detail, detail);
    }
  }
  // Nested folders of an area (outside runtime/) are pure as well.
  assert.deepEqual(rules({ "lib/seed/deep/x.ts": "Deno.exit(1);" }), [
    "lib/seed/deep/x.ts:io-in-pure",
  ]);
});

Deno.test("checkLayers() lets tests, lib/testing, lib/net and runtime/ folders do I/O", () => {
  const io = "Deno.exit(1); setTimeout(() => {}, 1);";
  assert.deepEqual(
    check({
      "lib/wire/codec_test.ts": io,
      "lib/testing/fixture.ts": io,
      "lib/net/listen.ts": io,
      "lib/caps/runtime/bind.ts": io,
      "lib/caps/runtime/nested/more.ts": io,
      "cli/main.ts": io,
      "bench/b.ts": io,
      "conformance/runner/run.ts": io,
      "_tools/t.ts": io,
    }),
    [],
  );
});

Deno.test("checkLayers() rejects a pure module importing a runtime, lib/net or cli", () => {
  assert.deepEqual(
    rules({
      "lib/ledger/a.ts": 'import { b } from "./runtime/bind.ts";',
      "lib/ledger/b.ts": 'import { c } from "../caps/runtime/bind.ts";',
      "lib/ledger/c.ts": 'export { d } from "../net/connect.ts";',
      "lib/ledger/d.ts": 'const m = await import("../../cli/main.ts");',
      "lib/ledger/e.ts": 'import type { T } from "../net/connect.ts";',
    }),
    [
      "lib/ledger/a.ts:pure-imports-runtime",
      "lib/ledger/b.ts:pure-imports-runtime",
      "lib/ledger/c.ts:pure-imports-runtime",
      "lib/ledger/d.ts:pure-imports-runtime",
      "lib/ledger/d.ts:lib-imports-app",
      "lib/ledger/e.ts:pure-imports-runtime",
    ],
  );
});

Deno.test("checkLayers() rejects lib/ importing cli/, bench/ or conformance/, tests included", () => {
  assert.deepEqual(
    rules({
      "lib/net/a.ts": 'import { main } from "../../cli/main.ts";',
      "lib/net/b.ts": 'const c = new URL("../../deno.json", import.meta.url);',
      "lib/wire/c_test.ts": 'import { v } from "../../conformance/vectors.ts";',
      "lib/worker/d_test.ts": 'import { f } from "../../bench/fixtures.ts";',
      "lib/testing/e.ts": 'import { f } from "../../bench/fixtures.ts";',
    }),
    [
      "lib/net/a.ts:lib-imports-app",
      "lib/net/b.ts:lib-imports-app",
      "lib/testing/e.ts:lib-imports-app",
      "lib/wire/c_test.ts:lib-imports-app",
      "lib/worker/d_test.ts:lib-imports-app",
    ],
  );
  // A test may still locate the CLI to run it as a subprocess.
  assert.deepEqual(
    rules({
      "lib/net/e2e_test.ts":
        'const main = new URL("../../cli/main.ts", import.meta.url);',
    }),
    [],
  );
});

Deno.test("checkLayers() rejects production code importing lib/testing", () => {
  assert.deepEqual(
    rules({
      "lib/wire/a.ts": 'import { f } from "../testing/f.ts";',
      "conformance/runner/conn.ts":
        'import { f } from "../../lib/testing/f.ts";',
      "cli/main.ts": 'import { f } from "../lib/testing/f.ts";',
      "cli/main_test.ts": 'import { f } from "../lib/testing/f.ts";',
      "lib/net/x.ts": 'import { f } from "./net_test_util.ts";',
    }),
    [
      "cli/main.ts:production-imports-testing",
      "conformance/runner/conn.ts:production-imports-testing",
      "lib/net/x.ts:production-imports-testing",
      "lib/wire/a.ts:production-imports-testing",
    ],
  );
});

Deno.test("checkLayers() rejects a cross-folder import of a _private module", () => {
  assert.deepEqual(
    rules({
      "lib/worker/a.ts": 'import { x } from "../wire/_decode.ts";',
      "lib/wire/sub/b.ts": 'import { x } from "../_decode.ts";',
      "lib/wire/c.ts": 'import { x } from "./sub/_inner.ts";',
      "cli/d_test.ts": 'import { x } from "../lib/net/_util.ts";',
      "lib/wire/e.ts": 'import { x } from "./_decode.ts";',
    }),
    [
      "cli/d_test.ts:private-import",
      "lib/wire/c.ts:private-import",
      "lib/wire/sub/b.ts:private-import",
      "lib/worker/a.ts:private-import",
    ],
  );
});

Deno.test("checkLayers() rejects import cycles, type-only imports included", () => {
  const findings = check({
    "lib/wire/_decode.ts": 'import { s } from "./_search.ts";',
    "lib/wire/_encode.ts": 'import { s } from "./_search.ts";',
    "lib/wire/_search.ts":
      'import { d } from "./_decode.ts";\nimport type { E } from "./_encode.ts";',
    "cli/a.ts": 'import { b } from "./b.ts";',
    "cli/b.ts": 'export * from "./a.ts";',
    "conformance/self.ts": 'import { x } from "./self.ts";',
    "bench/a.ts": 'import { b } from "./b.ts";', // bench/ is not checked for cycles
    "bench/b.ts": 'import { a } from "./a.ts";',
  });
  assert.deepEqual(
    findings.map((f) => `${f.rule}: ${f.detail}`),
    [
      "cycle: cli/a.ts -> cli/b.ts -> cli/a.ts",
      "cycle: conformance/self.ts -> conformance/self.ts",
      "cycle: lib/wire/_decode.ts -> lib/wire/_search.ts -> lib/wire/_decode.ts",
    ],
  );
});

Deno.test("the project itself passes the layer check", async () => {
  const root = new URL("..", import.meta.url).pathname;
  const findings = checkLayers(await readProject(root));
  assert.deepEqual(
    findings.map((f) => `${f.file}:${f.line}: ${f.rule}: ${f.detail}`),
    [],
  );
});
