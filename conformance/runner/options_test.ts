import assert from "node:assert/strict";
import { defaultWorkerTemplate, parseConformanceArgs } from "./options.ts";
import { tokenizeCommand } from "./template.ts";

Deno.test("parseConformanceArgs reads every flag in both forms", () => {
  const o = parseConformanceArgs([
    "--worker=my worker {connect}",
    "--transport",
    "tls",
    "--only",
    "hs.*,ids",
    "--jobs",
    "3",
    "--junit",
    "j.xml",
    "--html=r.html",
    "--json",
    "r.json",
    "--timeout",
    "5000",
    "--verbose",
  ]);
  assert.deepEqual(o, {
    worker: "my worker {connect}",
    transport: "tls",
    only: "hs.*,ids",
    jobs: 3,
    junit: "j.xml",
    html: "r.html",
    json: "r.json",
    timeoutMs: 5000,
    verbose: true,
    list: false,
    help: false,
  });
});

Deno.test("parseConformanceArgs defaults and errors", () => {
  const o = parseConformanceArgs([]);
  assert.deepEqual([o.transport, o.jobs, o.worker], ["unix", 4, undefined]);
  assert.throws(() => parseConformanceArgs(["--bogus"]), TypeError);
  assert.throws(() => parseConformanceArgs(["--jobs", "0"]), TypeError);
  assert.throws(() => parseConformanceArgs(["--transport", "pipe"]), TypeError);
  assert.throws(() => parseConformanceArgs(["--worker"]), TypeError);
});

Deno.test("defaultWorkerTemplate quotes paths and adds transport flags", () => {
  const t = defaultWorkerTemplate("/opt/my deno/deno", "/src/lo om", "tcp");
  const words = tokenizeCommand(t);
  assert.deepEqual(words[0], "/opt/my deno/deno");
  assert.deepEqual(words.includes("/src/lo om/cli/main.ts"), true);
  assert.deepEqual(words.includes("--allow-insecure"), true);
  const tls = tokenizeCommand(defaultWorkerTemplate("deno", "/r", "tls"));
  assert.deepEqual(tls.slice(-4), [
    "--tls-ca-cert",
    "{ca_cert}",
    "--tls-domain",
    "localhost",
  ]);
});

Deno.test("--transport mtls parses, and its default template presents a client identity", () => {
  assert.equal(parseConformanceArgs(["--transport", "mtls"]).transport, "mtls");
  assert.equal(parseConformanceArgs(["--transport=mtls"]).transport, "mtls");
  assert.throws(() => parseConformanceArgs(["--transport", "MTLS"]), TypeError);
  const words = tokenizeCommand(defaultWorkerTemplate("deno", "/r", "mtls"));
  assert.deepEqual(words.slice(-8), [
    "--tls-ca-cert",
    "{ca_cert}",
    "--tls-domain",
    "localhost",
    "--tls-client-cert",
    "{client_cert}",
    "--tls-client-key",
    "{client_key}",
  ]);
  assert.equal(words.includes("--allow-insecure"), false);
  const tls = tokenizeCommand(defaultWorkerTemplate("deno", "/r", "tls"));
  assert.equal(tls.includes("--tls-client-cert"), false);
});
