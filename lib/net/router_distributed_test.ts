import assert from "node:assert/strict";
import { startRouter } from "./router.ts";
import { connect } from "./connect.ts";
import { type Connection, startConnection } from "./connection.ts";
import { createLogger } from "./log.ts";
import { createWorkerSession } from "../wire/session.ts";
import type { Request, RpcResult, Symbol } from "../wire/types.ts";
import { omitSymbols, WorkerSearch } from "../worker/search.ts";
import { extractJavaSymbols, sortSymbols } from "../worker/java_symbols.ts";
import { generateJavaCorpus } from "../worker/java_corpus.ts";
import { SymbolIndex } from "../router/symbol_index.ts";
import { tempWorkspace, TEST_WORKER_PROGRAM } from "./router_test_util.ts";

const quiet = createLogger({ level: "error", write: () => {} });

/** An in-process worker; `minor` 1 offers protocol 3.1. */
async function worker(
  address: string,
  shard: number,
  minor: 0 | 1,
  seen: Request[],
): Promise<Connection> {
  let conn: Connection;
  if (minor === 0) {
    conn = await connect(address, { shardId: shard, logger: quiet });
  } else {
    const stream = await Deno.connect({
      transport: "unix",
      path: address.slice("unix:".length),
    });
    const session = createWorkerSession({
      hello: {
        shard_id: shard,
        supported_versions: {
          min: { major: 3, minor: 0 },
          max: { major: 3, minor: 1 },
        },
      },
    });
    conn = await startConnection(session, stream, {
      role: "worker",
      logger: quiet,
    });
  }
  const search = new WorkerSearch(shard);
  let generation = 0;
  conn.setRequestHandler((req): RpcResult => {
    seen.push(req);
    switch (req.type) {
      case "index_shard": {
        const index = {
          shard_id: shard,
          revision: req.revision,
          index_generation: ++generation,
          symbols: sortSymbols(
            req.files.flatMap((f) => extractJavaSymbols(f.path, f.text)),
          ),
        };
        search.setIndex(index);
        return omitSymbols(req, {
          status: "ok",
          value: { type: "shard_index", body: index },
        });
      }
      case "search_shard_symbols":
        return search.answer(req);
      default:
        return { status: "ok", value: { type: "ack" } };
    }
  });
  return conn;
}

Deno.test("distributed search: a 3.1 worker keeps its symbols; results equal the router-local ranking", async () => {
  await using ws = await tempWorkspace();
  const all: Symbol[][] = [];
  for (const [i, root] of ["a", "b"].entries()) {
    const files = generateJavaCorpus({
      files: 40,
      seed: 5 + i,
      root: ws.path(root) + "/",
    });
    for (const f of files) {
      await ws.write(f.path.slice(ws.dir.length + 1), f.text);
    }
    all.push(
      sortSymbols(files.flatMap((f) => extractJavaSymbols(f.path, f.text))),
    );
  }
  await using router = await startRouter({
    roots: [ws.path("a"), ws.path("b")],
    distributedSearch: true,
    logger: quiet,
  });
  const seen31: Request[] = [];
  const seen30: Request[] = [];
  const w31 = await worker(router.address, 0, 1, seen31);
  const w30 = await worker(router.address, 1, 0, seen30);
  assert.equal(w31.welcome.chosen_version.minor, 1);
  assert.equal(w30.welcome.chosen_version.minor, 0);
  const result = await router.indexWorkspace();
  // Counted from shard 0's summary and shard 1's full index.
  assert.equal(result.symbols, all[0].length + all[1].length);
  const indexReq = (seen: Request[]) =>
    seen.find((r) => r.type === "index_shard") as { omit_symbols?: boolean };
  assert.equal(indexReq(seen31).omit_symbols, true);
  assert.equal(indexReq(seen30).omit_symbols, undefined);
  const oracle = new SymbolIndex();
  oracle.replaceShard(0, all[0]);
  oracle.replaceShard(1, all[1]);
  const key = (
    m: { symbol: Symbol; shardId: number; kind: string; score: number },
  ) =>
    `${m.symbol.name}|${m.symbol.path}|${m.symbol.line}|${m.symbol.column}|${m.shardId}|${m.kind}|${m.score}`;
  for (
    const q of ["", "C", "hm", "Cache", "hndlr", "EventEngine", "zzqx", "9"]
  ) {
    const got = (await router.searchSymbols(q, { limit: 50 })).map(key);
    assert.deepEqual(
      got,
      oracle.workspaceSymbols(q, { limit: 50 }).map(key),
      q,
    );
  }
  assert.ok(seen31.some((r) => r.type === "search_shard_symbols"));
  assert.ok(!seen30.some((r) => r.type === "search_shard_symbols"));
  // The router-local index alone no longer sees shard 0.
  assert.ok(router.workspaceSymbols("").every((m) => m.shardId === 1));
  // A disconnected 3.1 shard is skipped.
  await w31.close();
  await new Promise((r) => setTimeout(r, 50));
  const rest = await router.searchSymbols("", { limit: 10 });
  assert.ok(rest.length > 0 && rest.every((m) => m.shardId === 1));
  await w30.close();
});

Deno.test("distributed search with real worker processes equals router-local search", async () => {
  await using ws = await tempWorkspace();
  for (const [i, root] of ["a", "b"].entries()) {
    const files = generateJavaCorpus({
      files: 30,
      seed: 21 + i,
      root: ws.path(root) + "/",
    });
    for (const f of files) {
      await ws.write(f.path.slice(ws.dir.length + 1), f.text);
    }
  }
  const roots = [ws.path("a"), ws.path("b")];
  await using local = await startRouter({
    roots,
    spawnWorkers: {
      program: TEST_WORKER_PROGRAM,
      cacheDir: ws.path("cache-local"),
    },
    logger: quiet,
  });
  await using dist = await startRouter({
    roots,
    distributedSearch: true,
    spawnWorkers: {
      program: TEST_WORKER_PROGRAM,
      cacheDir: ws.path("cache-dist"),
    },
    logger: quiet,
  });
  const [l, d] = await Promise.all([
    local.indexWorkspace(),
    dist.indexWorkspace(),
  ]);
  assert.equal(d.symbols, l.symbols);
  assert.deepEqual(dist.workspaceSymbols(""), []); // symbols stayed on the workers
  const key = (
    m: { symbol: Symbol; shardId: number; kind: string; score: number },
  ) =>
    `${m.symbol.name}|${m.symbol.path}|${m.symbol.line}|${m.symbol.column}|${m.shardId}|${m.kind}|${m.score}`;
  for (const q of ["", "Cache", "hm", "hndlr", "EventEngine", "zzqx"]) {
    assert.deepEqual(
      (await dist.searchSymbols(q, { limit: 40 })).map(key),
      local.workspaceSymbols(q, { limit: 40 }).map(key),
      q,
    );
  }
  // An update keeps the shard distributed and is searchable at once.
  await dist.updateFile(ws.path("a/Extra.java"), "class DistributedExtra {}");
  assert.equal(
    (await dist.searchSymbols("DistributedEx"))[0]?.symbol.name,
    "DistributedExtra",
  );
});
