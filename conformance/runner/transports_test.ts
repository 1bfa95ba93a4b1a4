/**
 * Quick subsets over tcp, tls and mtls (with the client certificate cases),
 * a worker started through a wrapper script, and the command's usage errors.
 */
import assert from "node:assert/strict";
import { runConformance } from "../../cli/conformance.ts";
import {
  hasOurWorker,
  ourWorkerTemplate,
  testWorkerTemplate,
} from "../faults/templates.ts";
import { quoteWord } from "./options.ts";

const SUBSET =
  "hs.hello_first_frame,auth.token_presented,sem.symbols_worked_example,chunk.router_to_worker_reassembled,sem.shutdown_replies_and_exits_0";

async function quiet(args: string[]) {
  const lines: string[] = [];
  const out = await runConformance(args, {
    print: (l) => lines.push(l),
    printError: (l) => lines.push(l),
  });
  return { ...out, lines };
}

/** Runs the five-case subset (and `extra`) with `args`: all must pass. */
async function expectSubsetPasses(
  args: string[],
  extra: string[] = [],
): Promise<void> {
  const only = [SUBSET, ...extra].join(",");
  const { code, report, lines } = await quiet([...args, "--only", only]);
  assert.equal(code, 0, lines.join("\n"));
  assert.equal(
    report!.results.filter((r) => r.status === "passed").length,
    5 + extra.length,
    lines.join("\n"),
  );
}

const TLS_CASE_IDS = [
  "tls.client_certificate_presented",
  "tls.no_client_certificate_fails",
];

for (const transport of ["tcp", "tls"] as const) {
  Deno.test({
    name: `a quick subset passes over ${transport}`,
    ignore: !hasOurWorker(),
    async fn() {
      await expectSubsetPasses(["--transport", transport]);
    },
  });
}

Deno.test({
  name:
    "over mtls the subset passes and the worker presents its client certificate",
  ignore: !hasOurWorker(),
  async fn() {
    await expectSubsetPasses(["--transport", "mtls"], TLS_CASE_IDS);
  },
});

Deno.test({
  name: "over mtls a worker started without its client identity fails",
  ignore: !hasOurWorker(),
  async fn() {
    // The template a user would give when forgetting the client flags.
    const { code, report, lines } = await quiet([
      "--transport",
      "mtls",
      "--worker",
      ourWorkerTemplate("tls"),
      "--only",
      "hs.hello_first_frame,tls.client_certificate_presented",
    ]);
    assert.equal(code, 1, lines.join("\n"));
    assert.ok(lines.some((l) => l.includes("lacks {client_cert}")));
    assert.deepEqual(
      report!.results.map((r) => [r.id, r.status]),
      [
        ["hs.hello_first_frame", "failed"],
        ["tls.client_certificate_presented", "failed"],
      ],
    );
  },
});

Deno.test("the client certificate cases are skipped, with the reason, off mtls", async () => {
  const { code, report } = await quiet([
    "--transport",
    "tcp",
    "--worker",
    "/nonexistent/worker-binary --connect {connect}",
    "--only",
    TLS_CASE_IDS.join(","),
  ]);
  assert.equal(code, 0);
  assert.deepEqual(report!.results.map((r) => r.status), [
    "skipped",
    "skipped",
  ]);
  for (const r of report!.results) {
    assert.match(r.skipReason!, /--transport mtls/);
  }
});

Deno.test("a worker started through a wrapper script works without code changes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loom-wrap-" });
  try {
    const inner = testWorkerTemplate();
    // The wrapper receives only the placeholders' values; the real command
    // line lives in the script.
    const innerWords = inner.split(" --connect {connect}")[0];
    const script = `#!/bin/sh\nexec ${innerWords} "$@"\n`;
    await Deno.writeTextFile(`${dir}/my worker.sh`, script, { mode: 0o700 });
    const template = `${
      quoteWord(`${dir}/my worker.sh`)
    } --connect {connect} --shard-id {shard} --cache-dir {cache_dir} --auth-token-env {token_env}`;
    await expectSubsetPasses(["--worker", template]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a worker that cannot start fails MUST cases with evidence, exit code 1", async () => {
  const { code, report } = await quiet([
    "--worker",
    "/nonexistent/worker-binary --connect {connect}",
    "--only",
    "hs.hello_first_frame",
  ]);
  assert.equal(code, 1);
  assert.equal(report!.results[0].status, "failed");
  assert.ok(report!.results[0].evidence!.observed.length > 0);
});

Deno.test("usage errors exit 2; --list and --help exit 0", async () => {
  assert.equal((await quiet(["--transport", "carrier-pigeon"])).code, 2);
  assert.equal((await quiet(["--transport", "mtls", "--list"])).code, 0);
  assert.equal((await quiet(["--worker", "w {nope}"])).code, 2);
  const list = await quiet(["--list"]);
  assert.equal(list.code, 0);
  assert.match(list.lines.at(-1)!, /^\d+ cases$/);
  assert.equal((await quiet(["--help"])).code, 0);
});
