import assert from "node:assert/strict";
import {
  normalizeAllowlist,
  normalizeFingerprint,
  shardAuthorized,
  validateRouterConfig,
} from "./router_config.ts";

const A = "ab".repeat(32);

Deno.test("normalizeFingerprint() accepts the OpenSSL format", () => {
  const openssl = "SHA256 Fingerprint=" + Array(32).fill("AB").join(":");
  assert.equal(normalizeFingerprint(openssl), A);
  assert.equal(
    normalizeFingerprint(`  sha256 fingerprint=${A.toUpperCase()} `),
    A,
  );
  assert.equal(normalizeFingerprint(A.match(/.{8}/g)!.join(" ")), A);
});

Deno.test("normalizeFingerprint() rejects invalid values", () => {
  assert.throws(
    () => normalizeFingerprint("not-a-fingerprint"),
    /expected 64 hex characters/,
  );
  assert.throws(() => normalizeFingerprint("abcd"), /got 4/);
  assert.throws(
    () => normalizeAllowlist({ shards: { 2: ["zz"] } }),
    /for shard 2: "zz"/,
  );
  assert.throws(() => normalizeAllowlist({ global: ["zz"] }), /global/);
});

Deno.test("shardAuthorized() follows the reference semantics", () => {
  const a = "a".repeat(64);
  const b = "b".repeat(64);
  const c = "c".repeat(64);
  const list = normalizeAllowlist({ global: [c], shards: { 0: [a], 1: [b] } });
  assert.ok(shardAuthorized(list, 0, a));
  assert.ok(!shardAuthorized(list, 1, a));
  assert.ok(shardAuthorized(list, 1, b));
  assert.ok(!shardAuthorized(list, 2, a));
  assert.ok(shardAuthorized(list, 2, c));
  assert.ok(shardAuthorized(list, 0, c.toUpperCase()));
  assert.ok(!shardAuthorized(list, 0, undefined));
  // Empty global list: unlisted shards are open, listed (even empty) guarded.
  const open = normalizeAllowlist({ shards: { 0: [] } });
  assert.ok(shardAuthorized(open, 1, undefined));
  assert.ok(!shardAuthorized(open, 0, a));
});

Deno.test("validateRouterConfig() errors in the reference order", () => {
  const none = normalizeAllowlist(undefined);
  const list = normalizeAllowlist({ global: [A] });
  const tcp = { transport: "tcp" as const, hostname: "127.0.0.1", port: 0 };
  const unix = { transport: "unix" as const, path: "/r.sock" };
  const tls = { transport: "tcp+tls" as const, hostname: "127.0.0.1", port: 0 };
  const base = { tokenInUse: false, allowInsecureTcp: false, allowlist: none };
  assert.throws(
    () => validateRouterConfig({ ...base, address: tcp, tokenInUse: true }),
    /auth token/,
  );
  validateRouterConfig({
    ...base,
    address: tcp,
    tokenInUse: true,
    allowInsecureTcp: true,
  });
  assert.throws(
    () =>
      validateRouterConfig({
        ...base,
        address: { ...tcp, hostname: "10.0.0.1" },
      }),
    /not loopback/,
  );
  validateRouterConfig({ ...base, address: { ...tcp, hostname: "localhost" } });
  assert.throws(
    () => validateRouterConfig({ ...base, address: unix, allowlist: list }),
    /TCP\+TLS/,
  );
  assert.throws(
    () => validateRouterConfig({ ...base, address: tcp, allowlist: list }),
    /requires TLS/,
  );
  assert.throws(
    () =>
      validateRouterConfig({
        ...base,
        address: tls,
        allowlist: list,
        tls: { certFile: "c", keyFile: "k" },
      }),
    /client CA/,
  );
  validateRouterConfig({
    ...base,
    address: tls,
    allowlist: list,
    tls: { certFile: "c", keyFile: "k", clientCaFile: "ca" },
  });
  assert.throws(
    () => validateRouterConfig({ ...base, address: tls }),
    /needs TLS options/,
  );
  assert.throws(
    () =>
      validateRouterConfig({
        ...base,
        address: { transport: "pipe", name: "x" },
      }),
    /not supported/,
  );
});
