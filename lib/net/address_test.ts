import assert from "node:assert/strict";
import {
  formatAddress,
  parseAddress,
  unsupportedPipeError,
} from "./address.ts";

Deno.test("parseAddress() reads unix, tcp, tcp+tls and pipe", () => {
  assert.deepEqual(parseAddress("unix:/tmp/r.sock"), {
    transport: "unix",
    path: "/tmp/r.sock",
  });
  assert.deepEqual(parseAddress("unix:rel/r.sock"), {
    transport: "unix",
    path: "rel/r.sock",
  });
  assert.deepEqual(parseAddress("tcp:127.0.0.1:9000"), {
    transport: "tcp",
    hostname: "127.0.0.1",
    port: 9000,
  });
  assert.deepEqual(parseAddress("tcp+tls:router.example.com:443"), {
    transport: "tcp+tls",
    hostname: "router.example.com",
    port: 443,
  });
  assert.deepEqual(parseAddress("tcp:[::1]:0"), {
    transport: "tcp",
    hostname: "::1",
    port: 0,
  });
  assert.deepEqual(parseAddress("tcp:localhost:1"), {
    transport: "tcp",
    hostname: "localhost",
    port: 1,
  });
  assert.deepEqual(parseAddress("pipe:nova-router"), {
    transport: "pipe",
    name: "nova-router",
  });
});

Deno.test("parseAddress() rejects malformed addresses with TypeError", () => {
  for (
    const bad of [
      "",
      "unix",
      "unix:",
      "tcp:127.0.0.1",
      "tcp:127.0.0.1:",
      "tcp:127.0.0.1:65536",
      "tcp:127.0.0.1:-1",
      "tcp::80",
      "tcp:bad host:80",
      "tcp:[::1:80",
      "tcp:[zz]:80",
      "tcp+tls:a..b:1",
      "udp:1.2.3.4:5",
      "pipe:",
    ]
  ) {
    assert.throws(() => parseAddress(bad), TypeError, bad);
  }
});

Deno.test("formatAddress() round-trips parseAddress()", () => {
  for (
    const text of [
      "unix:/a/b.sock",
      "tcp:127.0.0.1:80",
      "tcp+tls:example.org:9000",
      "tcp:[fe80::1]:22",
      "pipe:x",
    ]
  ) {
    assert.equal(formatAddress(parseAddress(text)), text);
  }
});

Deno.test("unsupportedPipeError() explains that pipes are unavailable", () => {
  const err = unsupportedPipeError({ transport: "pipe", name: "r" });
  assert.ok(err instanceof Deno.errors.NotSupported);
  assert.match(err.message, /named pipes/);
});
