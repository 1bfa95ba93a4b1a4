import assert from "node:assert/strict";
import { selectCases } from "./case.ts";
import { ALL_CASES } from "./cases/mod.ts";
import { FAULTS } from "../faults/faults.ts";

Deno.test("the catalogue has at least 60 cases with unique ids, rules and severities", () => {
  assert.ok(ALL_CASES.length >= 60, `${ALL_CASES.length} cases`);
  const ids = new Set(ALL_CASES.map((c) => c.id));
  assert.equal(ids.size, ALL_CASES.length);
  for (const c of ALL_CASES) {
    assert.match(c.id, /^[a-z]+\.[a-z0-9_]+$/);
    assert.ok(c.rule.includes("§"), `${c.id} cites a section`);
    assert.ok(
      ["MUST", "SHOULD", "implementation-defined"].includes(c.severity),
    );
    assert.ok(c.title.length > 10);
  }
  const families = new Set(ALL_CASES.map((c) => c.id.split(".")[0]));
  for (
    const f of [
      "hs",
      "auth",
      "ids",
      "lim",
      "chunk",
      "zstd",
      "cancel",
      "sem",
      "cache",
      "life",
      "session",
    ]
  ) {
    assert.ok(families.has(f), `family ${f}`);
  }
});

Deno.test("every fault names existing catching cases", () => {
  assert.ok(FAULTS.length >= 15);
  const ids = new Set(ALL_CASES.map((c) => c.id));
  for (const f of FAULTS) {
    for (const id of f.caughtBy) assert.ok(ids.has(id), `${f.name} -> ${id}`);
  }
  assert.equal(new Set(FAULTS.map((f) => f.name)).size, FAULTS.length);
});

Deno.test("selectCases matches globs and substrings", () => {
  assert.equal(selectCases(ALL_CASES, undefined).length, ALL_CASES.length);
  assert.ok(
    selectCases(ALL_CASES, "hs.*").every((c) => c.id.startsWith("hs.")),
  );
  assert.equal(selectCases(ALL_CASES, "nope-nothing").length, 0);
  const two = selectCases(ALL_CASES, "ids.zero_id_closes,sem.stats_initial");
  assert.deepEqual(two.map((c) => c.id), [
    "ids.zero_id_closes",
    "sem.stats_initial",
  ]);
});
