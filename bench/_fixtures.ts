/**
 * Benchmark fixtures: a small Packet frame, an IndexShard request with 1,000
 * files of ~2 KiB Java text, and a ShardIndex response with 50,000 symbols.
 *
 * @module
 */

import type {
  FileText,
  RpcPayload,
  Symbol,
  WireFrame,
} from "../lib/wire/types.ts";
import { encodeRpcPayload } from "../lib/wire/codec.ts";

/** About 2 KiB of plausible Java source for file `i`. */
export function javaText(i: number): string {
  const lines = [
    `package com.example.module${i % 17};`,
    "",
    "import java.util.List;",
    "import java.util.Map;",
    "",
    `public class Service${i} extends AbstractService implements Runnable {`,
    `  private static final int LIMIT_${i} = ${i * 7};`,
    "  private final Map<String, List<Integer>> cache;",
    "",
  ];
  let m = 0;
  while (lines.join("\n").length < 2000) {
    lines.push(
      `  public int compute${m}(int value, String label) {`,
      `    // Adds the offset and logs the label for item ${m}.`,
      `    int result = value * ${m + 3} + LIMIT_${i};`,
      "    return label.isEmpty() ? result : result + label.length();",
      "  }",
      "",
    );
    m++;
  }
  lines.push("}");
  return lines.join("\n");
}

/** (a) A small Packet frame carrying a GetWorkerStats request. */
export const smallPacket: WireFrame = {
  type: "packet",
  body: {
    id: 2,
    compression: "none",
    data: encodeRpcPayload({
      type: "request",
      body: { type: "get_worker_stats" },
    }),
  },
};

const files: FileText[] = Array.from({ length: 1000 }, (_, i) => ({
  path: `src/main/java/com/example/module${i % 17}/Service${i}.java`,
  text: javaText(i),
}));

/** (b) An IndexShard request with 1,000 files of ~2 KiB. */
export const indexShard: RpcPayload = {
  type: "request",
  body: { type: "index_shard", revision: 42, files },
};

const symbols: Symbol[] = Array.from({ length: 50_000 }, (_, i) => ({
  name: `Service${i % 1000}.compute${Math.floor(i / 1000)}`,
  path: `src/main/java/com/example/module${i % 17}/Service${i % 1000}.java`,
  line: 10 + (i % 400),
  column: 2 + (i % 40),
}));

/** (c) A ShardIndex response with 50,000 symbols. */
export const shardIndex: RpcPayload = {
  type: "response",
  body: {
    status: "ok",
    value: {
      type: "shard_index",
      body: { shard_id: 3, revision: 42, index_generation: 7, symbols },
    },
  },
};
