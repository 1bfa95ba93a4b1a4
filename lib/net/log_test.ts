import assert from "node:assert/strict";
import { ProtocolError } from "../wire/errors.ts";
import { createLogger } from "./log.ts";

Deno.test("createLogger() writes one JSON line per event at or above its level", () => {
  const lines: string[] = [];
  const log = createLogger({
    level: "warn",
    component: "test",
    write: (l) => lines.push(l),
  });
  log.debug("d");
  log.info("i");
  log.warn("w", { n: 1, big: 2n ** 70n });
  log.error("e", { error: new ProtocolError("timeout", "slow") });
  assert.equal(lines.length, 2);
  const w = JSON.parse(lines[0]);
  assert.equal(w.level, "warn");
  assert.equal(w.component, "test");
  assert.equal(w.event, "w");
  assert.equal(w.n, 1);
  assert.equal(w.big, (2n ** 70n).toString());
  const e = JSON.parse(lines[1]);
  assert.equal(e.error.code, "timeout");
});

Deno.test("createLogger() never writes secret-looking fields", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "debug", write: (l) => lines.push(l) });
  log.info("x", {
    auth_token: "hunter2",
    authToken: "hunter2",
    privateKey: "hunter2",
    key: "hunter2",
    secret: "hunter2",
  });
  assert.equal(lines.length, 1);
  assert.ok(!lines[0].includes("hunter2"));
});

Deno.test("createLogger() defaults to LOOM_LOG, then warn", () => {
  const saved = Deno.env.get("LOOM_LOG");
  try {
    Deno.env.set("LOOM_LOG", "debug");
    assert.equal(createLogger({ write: () => {} }).level, "debug");
    Deno.env.set("LOOM_LOG", "nonsense");
    assert.equal(createLogger({ write: () => {} }).level, "warn");
    Deno.env.delete("LOOM_LOG");
    assert.equal(createLogger({ write: () => {} }).level, "warn");
  } finally {
    if (saved === undefined) Deno.env.delete("LOOM_LOG");
    else Deno.env.set("LOOM_LOG", saved);
  }
});
