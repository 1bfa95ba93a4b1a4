import assert from "node:assert/strict";
import { MemoryKeyspace, WRONGTYPE_MESSAGE } from "./memory_keyspace.ts";

Deno.test("TTLs follow the injected clock", () => {
  let now = 1000;
  const ks = new MemoryKeyspace({ now: () => now });
  assert.equal(ks.execute(["SET", "a", "1", "NX", "PX", "500"]), "OK");
  assert.equal(ks.execute(["SET", "a", "2", "NX", "PX", "500"]), null);
  assert.equal(ks.execute(["PTTL", "a"]), 500);
  now = 1499;
  assert.equal(ks.execute(["GET", "a"]), "1");
  now = 1500;
  assert.equal(ks.execute(["GET", "a"]), null);
  assert.equal(ks.execute(["EXISTS", "a"]), 0);
  ks.execute(["HSET", "h", "f", "v"]);
  assert.equal(ks.execute(["PEXPIRE", "h", "10"]), 1);
  now += 10;
  assert.deepEqual(ks.execute(["HGETALL", "h"]), []);
  assert.equal(ks.execute(["PEXPIRE", "nothing", "10"]), 0);
});

Deno.test("an emptied container does not exist and comes back without a TTL", () => {
  const ks = new MemoryKeyspace({ now: () => 0 });
  ks.execute(["SADD", "s", "x"]);
  ks.execute(["PEXPIRE", "s", "100"]);
  ks.execute(["SREM", "s", "x"]);
  assert.equal(ks.execute(["EXISTS", "s"]), 0);
  assert.equal(ks.execute(["PTTL", "s"]), -2);
  ks.execute(["SADD", "s", "y"]);
  assert.equal(ks.execute(["PTTL", "s"]), -1);
  // another type may take the emptied key
  ks.execute(["SREM", "s", "y"]);
  ks.execute(["HSET", "s", "f", "v"]);
  assert.equal(ks.execute(["HGET", "s", "f"]), "v");
});

Deno.test("commands: types, errors, sorted sets, SSCAN paging", () => {
  const ks = new MemoryKeyspace();
  ks.execute(["SET", "str", "x"]);
  assert.throws(() => ks.execute(["HGET", "str", "f"]), {
    message: WRONGTYPE_MESSAGE,
  });
  assert.throws(() => ks.execute(["NOPE"]), /unknown command/);
  assert.throws(
    () => ks.execute(["HSET", "h", "f"]),
    /wrong number of arguments/,
  );
  for (const [score, m] of [[3, "c"], [1, "a"], [2, "b"], [2, "a2"]] as const) {
    ks.execute(["ZADD", "z", String(score), m]);
  }
  assert.deepEqual(ks.execute(["ZRANGEBYSCORE", "z", "-inf", "+inf"]), [
    "a",
    "a2",
    "b",
    "c",
  ]);
  assert.deepEqual(
    ks.execute(["ZRANGEBYSCORE", "z", "2", "3", "LIMIT", "1", "1"]),
    ["b"],
  );
  ks.execute(["ZADD", "z", "0", "c"]);
  assert.deepEqual(
    ks.execute(["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "0", "2"]),
    ["c", "a"],
  );
  assert.equal(ks.execute(["ZSCORE", "z", "c"]), "0");
  for (let i = 0; i < 250; i++) ks.execute(["SADD", "big", `m${i}`]);
  const seen = new Set<string>();
  let cursor = "0";
  let pages = 0;
  do {
    const [next, page] = ks.execute([
      "SSCAN",
      "big",
      cursor,
      "COUNT",
      "100",
    ]) as [string, string[]];
    page.forEach((m) => seen.add(m));
    cursor = next;
    pages++;
  } while (cursor !== "0");
  assert.equal(seen.size, 250);
  assert.equal(pages, 3);
});
