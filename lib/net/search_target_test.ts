// Distributed search mode (protocol 3.1), end to end: two real worker
// processes negotiate 3.1 and search their own shards, one in-process 3.0
// worker is searched through the router-local copy, and the merged results
// equal the router-local index over the whole workspace.
import assert from "node:assert/strict";
import { join } from "node:path";
import { formatAddress } from "./address.ts";
import type { Connection } from "./connection.ts";
import { connect } from "./connect.ts";
import { listen } from "./listen.ts";
import { createLogger } from "./log.ts";
import { connectionSearchTarget } from "./search_target.ts";
import {
  distributedWorkspaceSymbols,
  localSearchTarget,
  type ShardSearchTarget,
} from "../router/distributed_search.ts";
import { SymbolIndex } from "../router/symbol_index.ts";
import type { SymbolMatch } from "../router/ranking.ts";
import { JAVA_INDEXER } from "../worker/indexer.ts";
import {
  DISTRIBUTED_SEARCH_VERSIONS,
  supportsDistributedSearch,
} from "../worker/search.ts";
import { WorkerState } from "../worker/state.ts";
import type { FileText } from "../wire/types.ts";

const logger = createLogger({ level: "error" });
const MAIN = new URL("../../cli/main.ts", import.meta.url).pathname;

/** A deterministic generated workspace: `shards` roots of Java files. */
function generate(shard: number, files: number): FileText[] {
  let seed = 7 + shard * 7919;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const parts = ["Hash", "Map", "List", "Tree", "Node", "Io", "Foo", "Bar"];
  const word = () =>
    Array.from({ length: 1 + rnd(3) }, () => parts[rnd(parts.length)]).join(
      "",
    );
  return Array.from({ length: files }, (_, i) => {
    const cls = `${word()}${i}`;
    const members = Array.from(
      { length: rnd(4) },
      (_, j) => `  void ${word().toLowerCase()}${j}() {}\n`,
    ).join("");
    return {
      path: `/ws/root${shard}/src/${cls}.java`,
      text: `class ${cls} {\n${members}}\n`,
    };
  });
}

const key = (ms: SymbolMatch[]) =>
  ms.map((m) => [m.symbol.name, m.symbol.path, m.shardId, m.kind, m.score]);

Deno.test("distributed search with real 3.1 workers and a 3.0 worker equals router-local search", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loom-dsearch-" });
  const listener = listen(`unix:${join(dir, "router.sock")}`, {
    supportedVersions: DISTRIBUTED_SEARCH_VERSIONS,
    admit: ({ hello }) => ({ worker_id: hello.shard_id + 1, revision: 0 }),
    logger,
  });
  const address = formatAddress(await listener.ready);
  const children = [0, 1].map((shard) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "-A",
        MAIN,
        "worker",
        "--connect",
        address,
        "--shard-id",
        String(shard),
        "--cache-dir",
        join(dir, `cache${shard}`),
      ],
      env: { LOOM_LOG: "error" },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn()
  );
  // Shard 2: a 3.0 worker (default versions), in process.
  const legacyState = new WorkerState({ shardId: 2, indexer: JAVA_INDEXER });
  const legacy = await connect(address, { shardId: 2, logger });
  legacy.setRequestHandler((request) => legacyState.run(request));
  const conns = new Map<number, Connection>();
  try {
    while (conns.size < 3) {
      const conn = await listener.accept();
      assert.ok(conn !== undefined);
      conns.set(conn.hello.shard_id, conn);
    }
    assert.ok(supportsDistributedSearch(conns.get(0)!.welcome.chosen_version));
    assert.ok(supportsDistributedSearch(conns.get(1)!.welcome.chosen_version));
    assert.ok(
      !supportsDistributedSearch(conns.get(2)!.welcome.chosen_version),
    );
    const index = new SymbolIndex();
    const targets: ShardSearchTarget[] = [];
    for (const [shard, conn] of [...conns].sort((a, b) => a[0] - b[0])) {
      const files = generate(shard, 150);
      // The router-local baseline: full symbol lists from every worker.
      const full = await conn.call({ type: "index_shard", revision: 1, files });
      assert.ok(full.type === "shard_index");
      index.replaceShard(shard, full.body.symbols);
      if (supportsDistributedSearch(conn.welcome.chosen_version)) {
        const summary = await conn.call({
          type: "index_shard",
          revision: 2,
          files,
          omit_symbols: true,
        });
        assert.ok(summary.type === "shard_summary");
        assert.equal(summary.body.symbol_count, full.body.symbols.length);
        targets.push(
          connectionSearchTarget(conn, shard, { timeoutMs: 10_000 }),
        );
      } else {
        targets.push(localSearchTarget(index.shard(shard)!));
      }
    }
    for (
      const q of [
        "",
        "h",
        "hm",
        "HashMap",
        "nodeio",
        "tree1",
        "zz",
        "9",
        "BarFoo",
      ]
    ) {
      for (const limit of [1, 7, 200]) {
        const distributed = await distributedWorkspaceSymbols(targets, q, {
          limit,
        });
        assert.deepEqual(
          key(distributed),
          key(index.workspaceSymbols(q, { limit })),
          `query ${JSON.stringify(q)} limit ${limit}`,
        );
      }
    }
  } finally {
    for (const conn of conns.values()) await conn.close();
    await legacy.close();
    await listener.close();
    for (const child of children) {
      const timer = setTimeout(() => child.kill(), 5000);
      await child.status;
      clearTimeout(timer);
    }
    await Deno.remove(dir, { recursive: true });
  }
});
