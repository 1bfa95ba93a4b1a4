/**
 * `seed`: run the seed of a cluster. It waits for `--world-size` joiners,
 * forms the cluster, then keeps admitting joiners up to `--max-world-size`
 * and prints every membership change on stdout, one line each.
 *
 * @module
 */

import { flagValue, parseFlags } from "./router_flags.ts";
import {
  complain,
  errorLine,
  listenAndTokenFlags,
  msFlag,
  say,
  SEED_EXIT_FAILED,
  SEED_EXIT_OK,
  SEED_EXIT_USAGE,
} from "./_seed_cli.ts";
import { formatToken } from "../lib/seed/auth.ts";
import { SeedNode } from "../lib/seed/runtime/seed_node.ts";
import { resolveSeedToken, TOKEN_ENV } from "../lib/seed/runtime/token.ts";
import { DEFAULT_SEED_TIMINGS } from "../lib/seed/limits.ts";

/**
 * Usage text of the `seed` command.
 *
 * @example
 * ```ts
 * import { SEED_USAGE } from "./seed.ts";
 * console.assert(SEED_USAGE.startsWith("usage: seed"));
 * ```
 */
export const SEED_USAGE =
  `usage: seed --world-size N --listen HOST:PORT [options]

Runs the seed of a cluster: an ephemeral CA, token-authenticated joins,
formation of N members, then elastic joins up to --max-world-size.

options:
  --world-size N             members needed to form (required)
  --max-world-size M         cap on live + pending members (default: N)
  --listen HOST:PORT         bootstrap address (required; port 0 picks one)
  --token-file F             read the token from F (mode 0600), or create F
                             with a new token when it does not exist; without
                             it, ${TOKEN_ENV} is used, else a new token is
                             printed once on stdout
  --insecure-no-token        no token at all (loopback addresses only)
  --formation-timeout MS     default ${DEFAULT_SEED_TIMINGS.formationTimeoutMs}
  --handshake-timeout MS     per-connection handshake deadline, default ${DEFAULT_SEED_TIMINGS.handshakeTimeoutMs}
  --heartbeat-interval MS    default ${DEFAULT_SEED_TIMINGS.heartbeatIntervalMs}
  --heartbeat-timeout MS     a silent member is dead after this, default ${DEFAULT_SEED_TIMINGS.heartbeatTimeoutMs}
  --cert-validity MS         leaf certificate validity, default 86400000
  -h, --help                 show this help

exit codes: 0 stopped by a signal, 1 bad arguments or start-up failure,
2 formation failed.
`;

/**
 * Runs the `seed` command.
 *
 * @param args Arguments after `seed`.
 * @returns The exit status.
 *
 * @example
 * ```ts ignore
 * Deno.exit(await runSeed(["--world-size", "4", "--listen", "127.0.0.1:7000"]));
 * ```
 */
export async function runSeed(args: readonly string[]): Promise<number> {
  let seed: SeedNode;
  let tokenLine: string | undefined;
  let sizes = "";
  try {
    if (args.includes("--help") || args.includes("-h")) {
      say(SEED_USAGE.trimEnd());
      return SEED_EXIT_OK;
    }
    const f = parseFlags(args, {
      values: [
        "world-size",
        "max-world-size",
        "listen",
        "token-file",
        "formation-timeout",
        "handshake-timeout",
        "heartbeat-interval",
        "heartbeat-timeout",
        "cert-validity",
      ],
      bools: ["insecure-no-token"],
    });
    if (f.positionals.length > 0) {
      throw new TypeError(`unexpected argument: ${f.positionals[0]}`);
    }
    const n = flagValue(f, "world-size");
    if (n === undefined) throw new TypeError("--world-size is required");
    if (!/^[0-9]{1,6}$/.test(n) || Number(n) < 1) {
      throw new TypeError("--world-size must be a positive integer");
    }
    const maxText = flagValue(f, "max-world-size");
    if (maxText !== undefined && (!/^[0-9]{1,6}$/.test(maxText))) {
      throw new TypeError("--max-world-size must be a positive integer");
    }
    const max = maxText === undefined ? Number(n) : Number(maxText);
    if (max < Number(n)) {
      throw new TypeError("--max-world-size must be at least --world-size");
    }
    sizes = `world ${n} max ${max}`;
    const { listen, insecure, tokenFile } = listenAndTokenFlags(f);
    let token: Uint8Array | undefined;
    if (!insecure) {
      const resolved = await resolveSeedToken(
        tokenFile,
      );
      token = resolved.token;
      if (resolved.source === "generated") {
        tokenLine = `token: ${formatToken(token)}`;
      } else if (resolved.source === "generated_file") {
        tokenLine = `token written to ${tokenFile!} (mode 0600)`;
      }
    }
    seed = await SeedNode.bind(listen, {
      expectedWorldSize: Number(n),
      maxWorldSize: max,
      token,
      insecureNoAuth: insecure,
      formationTimeoutMs: msFlag(
        "formation-timeout",
        flagValue(f, "formation-timeout"),
        DEFAULT_SEED_TIMINGS.formationTimeoutMs,
      ),
      handshakeTimeoutMs: msFlag(
        "handshake-timeout",
        flagValue(f, "handshake-timeout"),
        DEFAULT_SEED_TIMINGS.handshakeTimeoutMs,
      ),
      heartbeatIntervalMs: msFlag(
        "heartbeat-interval",
        flagValue(f, "heartbeat-interval"),
        DEFAULT_SEED_TIMINGS.heartbeatIntervalMs,
      ),
      heartbeatTimeoutMs: msFlag(
        "heartbeat-timeout",
        flagValue(f, "heartbeat-timeout"),
        DEFAULT_SEED_TIMINGS.heartbeatTimeoutMs,
      ),
      certValidityMs: msFlag(
        "cert-validity",
        flagValue(f, "cert-validity"),
        86_400_000,
      ),
    });
  } catch (err) {
    complain(errorLine(err));
    if (err instanceof TypeError) complain(`run "seed --help" for usage`);
    return SEED_EXIT_USAGE;
  }
  const addr = `${seed.address.hostname}:${seed.address.port}`;
  say(`seed listening on ${addr} cluster ${seed.clusterId} ${sizes}`);
  if (tokenLine !== undefined) say(tokenLine);
  const short = (id: string): string => id.slice(0, 8);
  seed.on((e) => {
    switch (e.type) {
      case "admitted":
        say(
          `admitted node ${short(e.nodeId)} rank ${e.rank}${
            e.pending ? " (pending checkpoint)" : ""
          }`,
        );
        break;
      case "rejected":
        say(`rejected connection ${e.connId}: ${e.code}`);
        break;
      case "released":
        say(`released node ${short(e.nodeId)} (gone before acknowledging)`);
        break;
      case "committed": {
        const c = e.commit;
        const parts = [
          c.joined.length > 0 && !c.formation
            ? `joined ${c.joined.map(short).join(",")}`
            : "",
          c.left.length > 0 ? `left ${c.left.map(short).join(",")}` : "",
          c.failed.length > 0 ? `failed ${c.failed.map(short).join(",")}` : "",
        ].filter((p) => p !== "");
        say(
          `${
            c.formation ? "formed" : "changed"
          } generation ${c.generation} world ${c.peers.length}${
            parts.length > 0 ? " " + parts.join(" ") : ""
          }`,
        );
        break;
      }
      case "member_failed":
        say(`member ${short(e.nodeId)} failed (${e.reason})`);
        break;
      case "no_quorum":
        say(
          `no quorum: ${e.failed} of ${e.members} members lost; membership kept`,
        );
        break;
      case "suspected":
        say(`node ${short(e.by)} reports ${short(e.nodeId)} silent`);
        break;
      default:
        break;
    }
  });
  const stop = Promise.withResolvers<number>();
  const onSignal = (): void => stop.resolve(SEED_EXIT_OK);
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  seed.formed.catch((err) => {
    if ((err as { code?: string }).code === "formation_timeout") {
      complain(errorLine(err));
      stop.resolve(SEED_EXIT_FAILED);
    }
  });
  const code = await stop.promise;
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
  await seed.close();
  say("seed stopped");
  return code;
}
