import assert from "node:assert/strict";
import {
  EtcdKeyspace,
  parseU64KeyPart,
  prefixRangeEnd,
  u64KeyPart,
  validateEtcdNamespace,
} from "./etcd_keyspace.ts";
import type { LedgerError } from "./errors.ts";

const T = new Uint8Array(32).fill(0x11);
const TH = "11".repeat(32);

Deno.test("keyspace: the worked owner key", () => {
  const keys = new EtcdKeyspace("/gossip/v1", T);
  assert.deepStrictEqual(
    keys.ownerKey(42n, 9n),
    `/gossip/v1/tenants/${TH}/runs/000000000000002a/shards/0000000000000009/owner`,
  );
});

Deno.test("keyspace: every key kind, fixed width, scan prefixes end with '/'", () => {
  const keys = new EtcdKeyspace("/ns", T);
  const root = `/ns/tenants/${TH}`;
  assert.deepStrictEqual(keys.runKey(1n), `${root}/runs/0000000000000001`);
  assert.deepStrictEqual(keys.runsPrefix(), `${root}/runs/`);
  assert.deepStrictEqual(
    keys.runActiveKey(1n),
    `${root}/runs_active/0000000000000001`,
  );
  assert.deepStrictEqual(
    keys.shardKey(1n, 2n),
    `${root}/runs/0000000000000001/shards/0000000000000002`,
  );
  assert.deepStrictEqual(
    keys.shardActiveKey(1n, 2n),
    `${root}/runs/0000000000000001/shards_active/0000000000000002`,
  );
  assert.ok(!keys.runActiveKey(1n).startsWith(keys.runsPrefix()));
  assert.ok(keys.ownerKey(1n, 2n).startsWith(keys.shardKey(1n, 2n)));
  assert.deepStrictEqual(u64KeyPart((1n << 64n) - 1n), "ffffffffffffffff");
  assert.deepStrictEqual(parseU64KeyPart("ffffffffffffffff"), (1n << 64n) - 1n);
  assert.deepStrictEqual(parseU64KeyPart("FFFFFFFFFFFFFFFF"), null);
});

Deno.test("keyspace: root prefix '/' gives /tenants, never //tenants", () => {
  assert.deepStrictEqual(
    new EtcdKeyspace("/", T).runsPrefix(),
    `/tenants/${TH}/runs/`,
  );
});

Deno.test("keyspace: namespace rules", () => {
  const table: [string, boolean][] = [
    ["/", true],
    ["/a", true],
    [" /a/b ", true],
    ["a", false],
    ["", false],
    ["/a/", false],
    ["/a//b", false],
    ["//", false],
  ];
  for (const [ns, ok] of table) {
    try {
      validateEtcdNamespace(ns);
      assert.ok(ok, `accepted ${ns}`);
    } catch (error) {
      assert.ok(!ok, `rejected ${ns}`);
      assert.deepStrictEqual(
        (error as LedgerError).code,
        "invalid_etcd_config",
      );
    }
  }
});

Deno.test("keyspace: prefix range end", () => {
  const enc = new TextEncoder();
  assert.deepStrictEqual(prefixRangeEnd(enc.encode("ab/")), enc.encode("ab0"));
  assert.deepStrictEqual(
    prefixRangeEnd(new Uint8Array([1, 0xff])),
    new Uint8Array([2]),
  );
  assert.deepStrictEqual(
    prefixRangeEnd(new Uint8Array([0xff])),
    new Uint8Array([0]),
  );
});
