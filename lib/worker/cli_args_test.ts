import assert from "node:assert/strict";
import {
  isValidTlsDomain,
  MAX_RPC_BYTES,
  parseWorkerArgs,
  type ParseWorkerArgsOptions,
  redactWorkerArgs,
  WORKER_USAGE,
  type WorkerArgs,
} from "./cli_args.ts";

const FILES: Record<string, { text: string; mode: number }> = {
  "./auth.token": { text: "  s3cret-token\n", mode: 0o600 },
  "./empty.token": { text: " \n\t", mode: 0o600 },
  "./open.token": { text: "tok", mode: 0o644 },
  "./worker.key": { text: "KEY", mode: 0o600 },
  "./open.key": { text: "KEY", mode: 0o640 },
};
const ENV: Record<string, string> = {
  NOVA_WORKER_AUTH_TOKEN: " envtok \n",
  EMPTY: "   ",
};

const IO: ParseWorkerArgsOptions = {
  readTextFile: (path) => {
    const file = FILES[path];
    if (file === undefined) {
      throw new Error("No such file or directory (os error 2)");
    }
    return file.text;
  },
  getEnv: (name) => ENV[name],
  fileMode: (path) => {
    const file = FILES[path];
    if (file === undefined) {
      throw new Error("No such file or directory (os error 2)");
    }
    return file.mode;
  },
};

const BASE = [
  "--connect",
  "unix:/tmp/r.sock",
  "--shard-id",
  "0",
  "--cache-dir",
  "/tmp/c",
];

function parse(
  argv: string[],
  options: ParseWorkerArgsOptions = IO,
): WorkerArgs {
  const parsed = parseWorkerArgs(argv, options);
  assert.ok(!parsed.help);
  return parsed.args;
}

function fails(
  argv: string[],
  message: string,
  options: ParseWorkerArgsOptions = IO,
): void {
  assert.throws(() => parseWorkerArgs(argv, options), (err: unknown) => {
    assert.ok(err instanceof TypeError, String(err));
    assert.equal(err.message, message);
    return true;
  });
}

Deno.test("parseWorkerArgs() parses every seed example command line", () => {
  const examples = [
    "--connect unix:/run/user/1000/nova-router.sock --shard-id 0 --cache-dir /tmp/nova-cache",
    "--connect tcp+tls:router.example.com:9000 --tls-ca-cert ./ca.pem --tls-domain router.example.com --shard-id 0 --cache-dir /tmp/nova-cache --auth-token-file ./auth.token",
    "--connect tcp+tls:router.example.com:9000 --tls-ca-cert ./ca.pem --tls-domain router.example.com --tls-client-cert ./worker.pem --tls-client-key ./worker.key --shard-id 0 --cache-dir /tmp/nova-cache",
    "--connect tcp:127.0.0.1:9000 --shard-id 0 --cache-dir /tmp/nova-cache",
    "--connect tcp+tls:127.0.0.1:9000 --tls-ca-cert ./ca.pem --shard-id 0 --cache-dir /tmp/nova-cache",
    "--connect unix:/tmp/r.sock --shard-id 1 --cache-dir /tmp/c --auth-token-env NOVA_WORKER_AUTH_TOKEN",
    "--connect tcp:127.0.0.1:9000 --shard-id 1 --cache-dir /tmp/c --auth-token abc --allow-insecure",
    "--connect unix:/tmp/r.sock --shard-id 1 --cache-dir /tmp/c --max-rpc-bytes 1048576",
  ];
  for (const line of examples) parse(line.split(" "));
  const tls = parse(examples[1].split(" "));
  assert.equal(tls.transport, "tcp+tls");
  assert.equal(tls.authToken, "s3cret-token");
  assert.equal(tls.authTokenSource, "file");
  assert.equal(tls.tlsDomain, "router.example.com");
  const mtls = parse(examples[2].split(" "));
  assert.equal(mtls.tlsClientCert, "./worker.pem");
  assert.equal(mtls.tlsClientKey, "./worker.key");
  const env = parse(examples[5].split(" "));
  assert.equal(env.authToken, "envtok");
  assert.equal(env.authTokenSource, "env");
  assert.equal(parse(examples[7].split(" ")).maxRpcBytes, 1048576);
});

Deno.test("parseWorkerArgs() fills defaults", () => {
  const args = parse(BASE);
  assert.deepEqual(args, {
    connect: "unix:/tmp/r.sock",
    transport: "unix",
    shardId: 0,
    cacheDir: "/tmp/c",
    maxRpcBytes: MAX_RPC_BYTES,
    authToken: null,
    authTokenSource: "none",
    allowInsecure: false,
    tlsCaCert: null,
    tlsDomain: "localhost",
    tlsClientCert: null,
    tlsClientKey: null,
    linger: false,
    readReferenceCache: false,
    connectRetries: 0,
    warnings: [],
  });
});

Deno.test("parseWorkerArgs() accepts --flag=value, repeats (last wins) and --linger", () => {
  const args = parse([
    "--connect=unix:/a",
    "--connect=unix:/b=c",
    "--shard-id=+7",
    "--cache-dir=",
    "--linger",
  ]);
  assert.equal(args.connect, "unix:/b=c");
  assert.equal(args.shardId, 7);
  assert.equal(args.cacheDir, "");
  assert.equal(args.linger, true);
});

Deno.test("parseWorkerArgs() clamps --max-rpc-bytes to [1, 64 MiB]", () => {
  assert.equal(parse([...BASE, "--max-rpc-bytes", "0"]).maxRpcBytes, 1);
  assert.equal(
    parse([...BASE, "--max-rpc-bytes", "99999999999"]).maxRpcBytes,
    MAX_RPC_BYTES,
  );
  assert.equal(
    parse([...BASE, "--max-rpc-bytes", "18446744073709551615"]).maxRpcBytes,
    MAX_RPC_BYTES,
  );
  fails(
    [...BASE, "--max-rpc-bytes", "18446744073709551616"],
    "parse --max-rpc-bytes: number too large to fit in target type",
  );
  fails(
    [...BASE, "--max-rpc-bytes", "-1"],
    "parse --max-rpc-bytes: invalid digit found in string",
  );
});

Deno.test("parseWorkerArgs() --help wins and the usage documents every flag", () => {
  assert.deepEqual(parseWorkerArgs(["--connect", "x", "--help"]), {
    help: true,
  });
  assert.deepEqual(parseWorkerArgs(["-h"]), { help: true });
  for (
    const flag of [
      "--connect",
      "--shard-id",
      "--cache-dir",
      "--max-rpc-bytes",
      "--auth-token ",
      "--auth-token-file",
      "--auth-token-env",
      "--allow-insecure",
      "--tls-ca-cert",
      "--tls-domain",
      "--tls-client-cert",
      "--tls-client-key",
      "--linger",
      "--help",
      "LOOM_LOG",
    ]
  ) {
    assert.ok(WORKER_USAGE.includes(flag), flag);
  }
});

Deno.test("parseWorkerArgs() loop errors: unknown argument, missing value, integers", () => {
  fails(["--bogus"], "unknown argument: --bogus");
  fails(["positional"], "unknown argument: positional");
  fails(["--bogus=1"], "unknown argument: --bogus=1");
  fails(["--connect"], "--connect requires value");
  fails([...BASE, "--tls-domain"], "--tls-domain requires value");
  fails(["--allow-insecure=yes"], "--allow-insecure does not take a value");
  fails(["--shard-id", "x"], "parse --shard-id: invalid digit found in string");
  fails(
    ["--shard-id", ""],
    "parse --shard-id: cannot parse integer from empty string",
  );
  fails(["--shard-id", "+"], "parse --shard-id: invalid digit found in string");
  fails(
    ["--shard-id", "4294967296"],
    "parse --shard-id: number too large to fit in target type",
  );
  // The loop reports its error before any required-flag check.
  fails(["--shard-id", "1", "--nope"], "unknown argument: --nope");
});

Deno.test("parseWorkerArgs() required flags in reference order", () => {
  fails([], "--connect is required");
  fails(["--shard-id", "0", "--cache-dir", "/c"], "--connect is required");
  fails(["--connect", "bad", "--cache-dir", "/c"], "--shard-id is required");
  fails(["--connect", "bad", "--shard-id", "1"], "--cache-dir is required");
});

Deno.test("parseWorkerArgs() token sources are exclusive and validated", () => {
  fails(
    [...BASE, "--auth-token", "a", "--auth-token-env", "X"],
    "--auth-token, --auth-token-file, and --auth-token-env are mutually exclusive",
  );
  fails(
    [...BASE, "--auth-token-file", "./auth.token", "--auth-token-env", "X"],
    "--auth-token, --auth-token-file, and --auth-token-env are mutually exclusive",
  );
  fails(
    [...BASE, "--auth-token-file", "./missing"],
    "read --auth-token-file ./missing: No such file or directory (os error 2)",
  );
  fails(
    [...BASE, "--auth-token-file", "./empty.token"],
    "--auth-token-file ./empty.token was empty",
  );
  fails(
    [...BASE, "--auth-token-env", "NOPE"],
    "read --auth-token-env NOPE: environment variable not found",
  );
  fails(
    [...BASE, "--auth-token-env", "EMPTY"],
    "--auth-token-env EMPTY was empty",
  );
  fails([...BASE, "--auth-token", ""], "--auth-token was empty");
  const verbatim = parse([...BASE, "--auth-token", " spaced "]);
  assert.equal(verbatim.authToken, " spaced ");
  assert.equal(verbatim.authTokenSource, "argv");
});

Deno.test("parseWorkerArgs() refuses secrets readable by group or others", () => {
  fails(
    [...BASE, "--auth-token-file", "./open.token"],
    "--auth-token-file ./open.token is readable by group or others (mode 0644); restrict it with: chmod 600 ./open.token",
  );
  fails(
    [
      "--connect",
      "tcp+tls:127.0.0.1:1",
      "--shard-id",
      "0",
      "--cache-dir",
      "/c",
      "--tls-ca-cert",
      "./ca.pem",
      "--tls-client-cert",
      "./w.pem",
      "--tls-client-key",
      "./open.key",
    ],
    "--tls-client-key ./open.key is readable by group or others (mode 0640); restrict it with: chmod 600 ./open.key",
  );
  // Platforms without permission bits skip the check.
  parse([...BASE, "--auth-token-file", "./open.token"], {
    ...IO,
    fileMode: () => null,
  });
});

Deno.test("parseWorkerArgs() TLS flag pairing in reference order", () => {
  fails(
    [...BASE, "--tls-client-cert", "./w.pem", "--tls-client-key", "./k"],
    "--tls-client-cert/--tls-client-key cannot be used without --tls-ca-cert",
  );
  fails(
    [...BASE, "--tls-client-key", "./k"],
    "--tls-client-cert/--tls-client-key cannot be used without --tls-ca-cert",
  );
  fails(
    [...BASE, "--tls-ca-cert", "./ca.pem", "--tls-client-cert", "./w.pem"],
    "--tls-client-key is required with --tls-client-cert",
  );
  fails(
    [...BASE, "--tls-ca-cert", "./ca.pem", "--tls-client-key", "./worker.key"],
    "--tls-client-cert is required with --tls-client-key",
  );
  fails(
    [...BASE, "--tls-domain", "x"],
    "--tls-domain cannot be used without --tls-ca-cert",
  );
  // Token exclusivity is checked before TLS pairing.
  fails(
    [
      ...BASE,
      "--tls-domain",
      "x",
      "--auth-token",
      "a",
      "--auth-token-env",
      "B",
    ],
    "--auth-token, --auth-token-file, and --auth-token-env are mutually exclusive",
  );
  // TLS flags with unix:/tcp: are accepted (and ignored, with a warning).
  const ignored = parse([...BASE, "--tls-ca-cert", "./ca.pem"]);
  assert.equal(ignored.warnings.length, 1);
});

Deno.test("parseWorkerArgs() address errors come after the other checks", () => {
  const rest = ["--shard-id", "0", "--cache-dir", "/c"];
  fails(["--connect", "nocolon", ...rest], 'invalid connect addr "nocolon"');
  fails(["--connect", "ftp:x", ...rest], 'unsupported connect scheme "ftp"');
  fails(
    ["--connect", "pipe:nova-router", ...rest],
    "named pipes are only supported on Windows",
  );
  fails(
    ["--connect", "unix:/s", ...rest],
    "unix sockets are not supported on this platform",
    { ...IO, os: "windows" },
  );
  fails(["--connect", "unix:", ...rest], 'invalid connect addr "unix:"');
  for (
    const bad of [
      "tcp:127.0.0.1",
      "tcp:host:99999",
      "tcp:[::1]9",
      "tcp:bad host:1",
      "tcp+tls::1",
      "tcp:[zz]:1",
      "tcp:1.2.3.256:1",
    ]
  ) {
    fails(
      ["--connect", bad, ...rest],
      "parse tcp addr: invalid socket address syntax",
    );
  }
  fails(
    ["--connect", "ftp:x", ...rest, "--tls-domain", "d"],
    "--tls-domain cannot be used without --tls-ca-cert",
  );
  for (
    const good of [
      "tcp:127.0.0.1:9000",
      "tcp:[::1]:9000",
      "tcp:[fe80::1%eth0]:1".replace("%eth0", ""),
      "tcp:router.example.com:1",
      "tcp:localhost:0",
    ]
  ) {
    assert.equal(parse(["--connect", good, ...rest]).transport, "tcp");
  }
});

Deno.test("parseWorkerArgs() tcp+tls needs a CA and a valid domain", () => {
  const rest = ["--shard-id", "0", "--cache-dir", "/c"];
  fails(
    ["--connect", "tcp+tls:127.0.0.1:1", ...rest],
    "--tls-ca-cert is required for tcp+tls",
  );
  fails(
    [
      "--connect",
      "tcp+tls:127.0.0.1:1",
      ...rest,
      "--tls-ca-cert",
      "./ca.pem",
      "--tls-domain",
      "not a name",
    ],
    'invalid tls domain "not a name"',
  );
  assert.ok(isValidTlsDomain("127.0.0.1") && isValidTlsDomain("::1"));
  assert.ok(!isValidTlsDomain("") && !isValidTlsDomain("a..b"));
});

Deno.test("parseWorkerArgs() guards tokens over plaintext tcp", () => {
  const rest = [
    "--connect",
    "tcp:127.0.0.1:9000",
    "--shard-id",
    "0",
    "--cache-dir",
    "/c",
  ];
  assert.throws(
    () => parseWorkerArgs([...rest, "--auth-token", "s3cret"], IO),
    (err: unknown) => {
      assert.ok(err instanceof TypeError);
      assert.match(
        err.message,
        /^refusing to connect to tcp:127\.0\.0\.1:9000 via plaintext TCP \(`tcp:`\) while an auth token is set\./,
      );
      assert.ok(!err.message.includes("s3cret"));
      return true;
    },
  );
  const insecure = parse([
    ...rest,
    "--auth-token",
    "s3cret",
    "--allow-insecure",
  ]);
  assert.equal(insecure.allowInsecure, true);
  assert.equal(insecure.warnings.length, 1);
  assert.ok(!insecure.warnings[0].includes("s3cret"));
  assert.equal(parse(rest).warnings.length, 1);
});

Deno.test("redactWorkerArgs() never exposes the token", () => {
  const args = parse([...BASE, "--auth-token", "s3cret"]);
  const shown = JSON.stringify(redactWorkerArgs(args));
  assert.ok(!shown.includes("s3cret"));
  assert.match(shown, /"authPresent":true/);
});

Deno.test("parseWorkerArgs() reads --read-reference-cache", () => {
  const parsed = parseWorkerArgs(
    [
      "--connect",
      "unix:/r.sock",
      "--shard-id",
      "0",
      "--cache-dir",
      "/tmp/c",
      "--read-reference-cache",
    ],
    { getEnv: () => undefined, readTextFile: () => "", os: "linux" },
  );
  assert.ok(!parsed.help && parsed.args.readReferenceCache);
});
