import assert from "node:assert/strict";
import fc from "fast-check";
import {
  expandTemplate,
  substitutePlaceholders,
  templatePlaceholders,
  tokenizeCommand,
} from "./template.ts";
import { quoteWord } from "./options.ts";

const VALUES = {
  connect: "unix:/tmp/a b/r.sock",
  shard: "7",
  cache_dir: "/tmp/cache dir",
  token_env: "TOKEN_VAR",
  ca_cert: "/ca.pem",
};

Deno.test("tokenizeCommand splits like a shell for quotes and escapes", () => {
  assert.deepEqual(tokenizeCommand("  a   b\tc\n"), ["a", "b", "c"]);
  assert.deepEqual(tokenizeCommand(`'a b' "c d" e\\ f`), ["a b", "c d", "e f"]);
  assert.deepEqual(tokenizeCommand(`"x\\"y" 'it'\\''s' "$HOME"`), [
    'x"y',
    "it's",
    "$HOME",
  ]);
  assert.deepEqual(tokenizeCommand(`a''b "" ''`), ["ab", "", ""]);
  assert.deepEqual(tokenizeCommand(`"a\\nb"`), ["a\\nb"]);
  assert.deepEqual(tokenizeCommand(""), []);
});

Deno.test("tokenizeCommand rejects unterminated quotes and trailing backslashes", () => {
  assert.throws(() => tokenizeCommand(`a 'b`), SyntaxError);
  assert.throws(() => tokenizeCommand(`a "b`), SyntaxError);
  assert.throws(() => tokenizeCommand(`a \\`), SyntaxError);
});

Deno.test("placeholders are substituted inside words, after quote removal", () => {
  const argv = expandTemplate(
    `w --connect={connect} --cache-dir '{cache_dir}' --env {token_env} --x {{literal}}`,
    VALUES,
  );
  assert.deepEqual(argv, [
    "w",
    "--connect=unix:/tmp/a b/r.sock",
    "--cache-dir",
    "/tmp/cache dir",
    "--env",
    "TOKEN_VAR",
    "--x",
    "{literal}",
  ]);
});

Deno.test("unknown placeholders, lone braces and empty commands are errors", () => {
  assert.throws(() => substitutePlaceholders("{token}", VALUES), SyntaxError);
  assert.throws(() => substitutePlaceholders("a}b", VALUES), SyntaxError);
  assert.throws(() => substitutePlaceholders("{connect", VALUES), SyntaxError);
  assert.throws(() => expandTemplate("   ", VALUES), SyntaxError);
});

Deno.test("templatePlaceholders lists the used names once", () => {
  assert.deepEqual(
    templatePlaceholders("w {shard} {connect} x{shard}y {{connect}}"),
    ["shard", "connect"],
  );
});

Deno.test("the token never reaches argv: only the env var name does", () => {
  const argv = expandTemplate("w --auth-token-env {token_env}", VALUES);
  assert.deepEqual(argv.includes("TOKEN_VAR"), true);
});

Deno.test("property: quoteWord output tokenizes back to the same word", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), (word) => {
      assert.deepEqual(tokenizeCommand(quoteWord(word)), [word]);
    }),
  );
  fc.assert(
    fc.property(
      fc.array(fc.string({ minLength: 1, maxLength: 12 }), {
        minLength: 1,
        maxLength: 6,
      }),
      (words) => {
        assert.deepEqual(
          tokenizeCommand(words.map(quoteWord).join(" ")),
          words,
        );
      },
    ),
  );
});

Deno.test("client identity placeholders are filled in, or dropped with their flag", () => {
  const template =
    "w --tls-ca-cert {ca_cert} --tls-client-cert {client_cert} --tls-client-key={client_key} -q";
  assert.deepEqual(
    expandTemplate(template, {
      ...VALUES,
      client_cert: "/run/c.pem",
      client_key: "/run/c.key",
    }),
    [
      "w",
      "--tls-ca-cert",
      "/ca.pem",
      "--tls-client-cert",
      "/run/c.pem",
      "--tls-client-key=/run/c.key",
      "-q",
    ],
  );
  assert.deepEqual(
    expandTemplate(template, VALUES, {
      dropWordsWith: ["client_cert", "client_key"],
    }),
    ["w", "--tls-ca-cert", "/ca.pem", "-q"],
  );
  // Missing optional values become empty strings.
  assert.deepEqual(expandTemplate("w x{client_key}y", VALUES), ["w", "xy"]);
  assert.deepEqual(templatePlaceholders("w {client_cert} {client_key}"), [
    "client_cert",
    "client_key",
  ]);
});
