import assert from "node:assert/strict";
import { listenUnixSocket } from "./unix.ts";

Deno.test("listenUnixSocket() creates a 0700 directory and a 0600 socket, and removes it on close", async () => {
  const base = await Deno.makeTempDir();
  try {
    const path = `${base}/run/loom/r.sock`;
    const l = listenUnixSocket(path);
    try {
      assert.equal(Deno.statSync(`${base}/run/loom`).mode! & 0o777, 0o700);
      const info = Deno.lstatSync(path);
      assert.equal(info.isSocket, true);
      assert.equal(info.mode! & 0o777, 0o600);
    } finally {
      l.close();
    }
    assert.throws(() => Deno.lstatSync(path), Deno.errors.NotFound);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("listenUnixSocket() never chmods an existing directory", async () => {
  const base = await Deno.makeTempDir();
  try {
    Deno.chmodSync(base, 0o755);
    const l = listenUnixSocket(`${base}/r.sock`);
    l.close();
    assert.equal(Deno.statSync(base).mode! & 0o777, 0o755);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("listenUnixSocket() replaces a stale socket but refuses other files", async () => {
  const base = await Deno.makeTempDir();
  try {
    const path = `${base}/r.sock`;
    // A stale socket: a hard link to a bound socket outlives the listener
    // (Deno unlinks the path it bound on close).
    const stale = Deno.listen({ transport: "unix", path: `${base}/tmp.sock` });
    Deno.linkSync(`${base}/tmp.sock`, path);
    stale.close();
    assert.equal(Deno.lstatSync(path).isSocket, true);
    const l = listenUnixSocket(path);
    l.close();

    const file = `${base}/not-a-socket`;
    Deno.writeTextFileSync(file, "keep me");
    assert.throws(() => listenUnixSocket(file), Deno.errors.AlreadyExists);
    assert.equal(Deno.readTextFileSync(file), "keep me");

    Deno.mkdirSync(`${base}/dir`);
    assert.throws(
      () => listenUnixSocket(`${base}/dir`),
      Deno.errors.AlreadyExists,
    );
    assert.throws(
      () => listenUnixSocket(`${file}/r.sock`),
      Deno.errors.NotADirectory,
    );
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});
