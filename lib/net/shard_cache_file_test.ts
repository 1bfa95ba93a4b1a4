import assert from "node:assert/strict";
import {
  loadShardCache,
  prepareCacheDirectory,
  saveShardCache,
} from "./shard_cache_file.ts";
import { encodeShardCache, ShardCacheError } from "../worker/shard_cache.ts";
import type { ShardIndex } from "../wire/types.ts";

const INDEX: ShardIndex = {
  shard_id: 7,
  revision: 3,
  index_generation: 2,
  symbols: [{ name: "Alpha", path: "/a/Alpha.java", line: 0, column: 13 }],
};

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "loom_cache_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

Deno.test("saveShardCache() then loadShardCache() round-trips", async () => {
  await withDir(async (dir) => {
    const nested = `${dir}/x/y`;
    const path = await saveShardCache(nested, INDEX);
    assert.equal(path, `${nested}/shard_7.bin`);
    const result = await loadShardCache(nested, 7);
    assert.ok(result.ok);
    assert.deepEqual(result.index, INDEX);
    assert.deepEqual(await listDir(nested), ["shard_7.bin"]);
    if (Deno.build.os !== "windows") {
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    }
    // Overwrite with a newer index.
    await saveShardCache(nested, { ...INDEX, index_generation: 3 });
    const again = await loadShardCache(nested, 7);
    assert.ok(again.ok && again.index.index_generation === 3);
  });
});

Deno.test("loadShardCache() misses on a missing file or directory", async () => {
  await withDir(async (dir) => {
    const a = await loadShardCache(dir, 1);
    assert.ok(!a.ok && a.reason === "missing");
    const b = await loadShardCache(`${dir}/nope`, 1);
    assert.ok(!b.ok && b.reason === "missing");
  });
});

Deno.test("loadShardCache() misses on a symlink and deletes it", async () => {
  await withDir(async (dir) => {
    await saveShardCache(dir, { ...INDEX, shard_id: 8 });
    await Deno.symlink(`${dir}/shard_8.bin`, `${dir}/shard_7.bin`);
    const result = await loadShardCache(dir, 7);
    assert.ok(
      !result.ok && result.reason === "symlink",
      JSON.stringify(result),
    );
    assert.deepEqual(await listDir(dir), ["shard_8.bin"]);
  });
});

Deno.test("loadShardCache() misses on a directory", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(`${dir}/shard_7.bin`);
    const result = await loadShardCache(dir, 7);
    assert.ok(!result.ok && result.reason === "not_regular_file");
  });
});

Deno.test("loadShardCache() misses on a file over 64 MiB without reading it", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/shard_7.bin`;
    await Deno.writeFile(path, encodeShardCache(INDEX));
    await Deno.truncate(path, 64 * 1024 * 1024 + 1); // sparse
    const result = await loadShardCache(dir, 7);
    assert.ok(!result.ok && result.reason === "oversize");
  });
});

Deno.test("loadShardCache() reports decode failures as misses", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/shard_7.bin`;
    const bytes = encodeShardCache(INDEX, { layout: "reference" });
    const cases: Array<[Uint8Array, string]> = [
      [new TextEncoder().encode("garbage"), "bad_magic"],
      [bytes.subarray(0, bytes.length - 1), "truncated"],
      [new Uint8Array([...bytes, 0]), "trailing_bytes"],
      [
        encodeShardCache({ ...INDEX, shard_id: 9 }, { layout: "reference" }),
        "wrong_shard_id",
      ],
    ];
    for (const [content, reason] of cases) {
      await Deno.writeFile(path, content);
      const result = await loadShardCache(dir, 7, {
        acceptReferenceLayout: true,
      });
      assert.ok(!result.ok, reason);
      assert.equal(result.reason, reason);
    }
    const view = bytes.slice();
    view[12] = 5;
    await Deno.writeFile(path, view);
    const protocol = await loadShardCache(dir, 7, {
      acceptReferenceLayout: true,
    });
    assert.ok(!protocol.ok && protocol.reason === "bad_protocol_version");
    assert.match(protocol.message, /incompatible protocol version/);
    assert.match(protocol.path, /shard_7\.bin$/);
  });
});

Deno.test("saveShardCache() failing before the rename leaves the old file intact", async () => {
  await withDir(async (dir) => {
    await saveShardCache(dir, INDEX);
    let seenTemp = "";
    await assert.rejects(
      saveShardCache(dir, { ...INDEX, index_generation: 99 }, {
        beforeRename: async (temp) => {
          seenTemp = temp;
          // The new content is complete in the temp file at this point.
          assert.equal(
            (await Deno.stat(temp)).size,
            encodeShardCache(INDEX).length,
          );
          throw new Error("simulated crash");
        },
      }),
      /simulated crash/,
    );
    assert.match(seenTemp, /shard_7\.bin\.tmp\.\d+\.\d+$/);
    assert.deepEqual(await listDir(dir), ["shard_7.bin"]);
    const result = await loadShardCache(dir, 7);
    assert.ok(result.ok && result.index.index_generation === 2);
  });
});

Deno.test("a partial temp file left by a killed writer does not affect loads", async () => {
  await withDir(async (dir) => {
    await saveShardCache(dir, INDEX);
    const bytes = encodeShardCache({ ...INDEX, index_generation: 5 });
    await Deno.writeFile(
      `${dir}/shard_7.bin.tmp.1.0`,
      bytes.subarray(0, 20),
    );
    const result = await loadShardCache(dir, 7);
    assert.ok(result.ok && result.index.index_generation === 2);
    // The next save still succeeds (unique temp names).
    await saveShardCache(dir, { ...INDEX, index_generation: 6 });
    const after = await loadShardCache(dir, 7);
    assert.ok(after.ok && after.index.index_generation === 6);
  });
});

Deno.test("saveShardCache() surfaces I/O errors", async () => {
  if (Deno.build.os === "windows") return;
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/file`, "not a dir");
    await assert.rejects(saveShardCache(`${dir}/file`, INDEX));
  });
});

Deno.test("loadShardCache() turns flipped bytes of a saved cache into a miss (corrupt)", async () => {
  await withDir(async (dir) => {
    const path = await saveShardCache(dir, INDEX);
    const good = await Deno.readFile(path);
    // A name, a path and a line of the only symbol, and the digest itself.
    for (const at of [60, 70, good.length - 50, good.length - 1]) {
      const bad = good.slice();
      bad[at] ^= 0x04;
      await Deno.writeFile(path, bad);
      const result = await loadShardCache(dir, 7);
      assert.ok(!result.ok, `offset ${at}`);
      assert.equal(result.reason, "corrupt");
    }
    await Deno.writeFile(
      path,
      encodeShardCache(INDEX, { layout: "reference" }),
    );
    const reference = await loadShardCache(dir, 7);
    assert.ok(!reference.ok && reference.reason === "unverified");
    const asked = await loadShardCache(dir, 7, { acceptReferenceLayout: true });
    assert.ok(asked.ok);
  });
});

Deno.test("the cache directory is created 0700 whatever the umask, and refused when others can write", async () => {
  if (Deno.build.os === "windows") return;
  await withDir(async (dir) => {
    const old = Deno.umask(0);
    try {
      await saveShardCache(`${dir}/a/b`, INDEX);
    } finally {
      Deno.umask(old);
    }
    assert.equal((await Deno.stat(`${dir}/a/b`)).mode! & 0o777, 0o700);
    assert.equal((await Deno.stat(`${dir}/a`)).mode! & 0o777, 0o700);
    for (const mode of [0o777, 0o770, 0o702]) {
      await Deno.chmod(`${dir}/a/b`, mode);
      const load = await loadShardCache(`${dir}/a/b`, 7);
      assert.ok(!load.ok && load.reason === "unsafe_directory");
      await assert.rejects(
        () => saveShardCache(`${dir}/a/b`, INDEX),
        (err: unknown) =>
          err instanceof ShardCacheError && err.reason === "unsafe_directory",
      );
      await assert.rejects(
        () => prepareCacheDirectory(`${dir}/a/b`),
        ShardCacheError,
      );
    }
    await Deno.chmod(`${dir}/a/b`, 0o700);
    assert.ok((await loadShardCache(`${dir}/a/b`, 7)).ok);
  });
});
