import assert from "node:assert/strict";
import { sanitizeErrorText } from "./sanitize.ts";
import { internalError } from "./state.ts";

const SECRET = "hunter2-secret";

Deno.test("sanitizeErrorText() redacts JSON string values", () => {
  const out = sanitizeErrorText(
    `invalid type: string "${SECRET}", expected u32 at line 1 column 20`,
  );
  assert.ok(!out.includes(SECRET));
  assert.match(out, /"<redacted>"/);
});

Deno.test("sanitizeErrorText() redacts backticked values", () => {
  const out = sanitizeErrorText(
    `unknown field \`${SECRET}\`, expected one of \`a\`, \`b\``,
  );
  assert.ok(!out.includes(SECRET));
  assert.equal(
    out,
    "unknown field `<redacted>`, expected one of `<redacted>`, `<redacted>`",
  );
});

Deno.test("sanitizeErrorText() redacts values wrapped in an io error chain", () => {
  const out = sanitizeErrorText(
    `read config: io error: invalid value: string "${SECRET}"`,
  );
  assert.ok(!out.includes(SECRET));
  assert.match(
    out,
    /^read config: io error: invalid value: string "<redacted>"$/,
  );
});

Deno.test("sanitizeErrorText() drops TOML snippet lines and raw sources", () => {
  const toml = [
    "TOML parse error at line 2, column 11",
    "  |",
    `2 | api_key = "${SECRET}`,
    "  |           ^",
    "invalid string",
  ].join("\n");
  const out = sanitizeErrorText(toml);
  assert.ok(!out.includes(SECRET) && !out.includes("api_key ="));
  const raw = sanitizeErrorText(`Error { raw: Some("api_key = ${SECRET}") }`);
  assert.equal(raw, 'Error { raw: Some("<redacted>") }');
});

Deno.test("internalError() sanitises message and details", () => {
  const err = internalError(
    "index shard",
    new Error("outer", { cause: new Error(`inner \`${SECRET}\``) }),
  );
  assert.equal(err.code, "internal");
  assert.equal(err.retryable, false);
  assert.equal(err.message, "index shard");
  assert.equal(err.details, "index shard: outer: inner `<redacted>`");
});

Deno.test("sanitizeErrorText() leaves plain text alone", () => {
  const text = "connect failed: No such file or directory (os error 2)";
  assert.equal(sanitizeErrorText(text), text);
});
