/**
 * `join`: join a cluster through its seed and stay a member, printing the
 * rank, world size and generation whenever they change. SIGINT leaves the
 * cluster cleanly (at the next checkpoint); SIGTERM just stops.
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
import { joinCluster } from "../lib/seed/runtime/joiner.ts";
import { resolveJoinToken, TOKEN_ENV } from "../lib/seed/runtime/token.ts";
import { DEFAULT_SEED_TIMINGS } from "../lib/seed/limits.ts";
import { isSeedError } from "../lib/seed/errors.ts";

/**
 * Usage text of the `join` command.
 *
 * @example
 * ```ts
 * import { JOIN_USAGE } from "./join.ts";
 * console.assert(JOIN_USAGE.startsWith("usage: join"));
 * ```
 */
export const JOIN_USAGE =
  `usage: join --seed HOST:PORT --listen HOST:PORT [--token-file F] [options]

Joins a cluster: makes this node's key and CSR locally, proves the cluster
token to the seed without sending it, and joins the mTLS mesh.

options:
  --seed HOST:PORT           the seed's bootstrap address (required)
  --listen HOST:PORT         mesh listen address (required; port 0 picks one)
  --advertise HOST:PORT      address peers dial (default: the listen address)
  --token-file F             the token as printed by the seed (mode 0600);
                             default: ${TOKEN_ENV}
  --insecure-no-token        join an insecure loopback seed
  --node-id ID               stable node id (default: random)
  --join-timeout MS          overall deadline to be admitted, default ${
    DEFAULT_SEED_TIMINGS.formationTimeoutMs + 10_000
  }
  --heartbeat-interval MS    default ${DEFAULT_SEED_TIMINGS.heartbeatIntervalMs}
  --heartbeat-timeout MS     a silent peer is dead after this, default ${DEFAULT_SEED_TIMINGS.heartbeatTimeoutMs}
  -h, --help                 show this help

exit codes: 0 left or stopped by a signal, 1 bad arguments or start-up
failure, 2 rejected, timed out, removed, or the seed was lost.
`;

/**
 * Runs the `join` command.
 *
 * @param args Arguments after `join`.
 * @returns The exit status.
 *
 * @example
 * ```ts ignore
 * Deno.exit(await runJoin(["--seed", "127.0.0.1:7000", "--listen", "127.0.0.1:0", "--token-file", "t"]));
 * ```
 */
export async function runJoin(args: readonly string[]): Promise<number> {
  let options: Parameters<typeof joinCluster>[0];
  try {
    if (args.includes("--help") || args.includes("-h")) {
      say(JOIN_USAGE.trimEnd());
      return SEED_EXIT_OK;
    }
    const f = parseFlags(args, {
      values: [
        "seed",
        "listen",
        "advertise",
        "token-file",
        "node-id",
        "join-timeout",
        "heartbeat-interval",
        "heartbeat-timeout",
      ],
      bools: ["insecure-no-token"],
    });
    if (f.positionals.length > 0) {
      throw new TypeError(`unexpected argument: ${f.positionals[0]}`);
    }
    const seed = flagValue(f, "seed");
    if (seed === undefined) throw new TypeError("--seed is required");
    const { listen, insecure, tokenFile } = listenAndTokenFlags(f);
    const token = insecure ? undefined : await resolveJoinToken(
      tokenFile,
    );
    if (!insecure && token === undefined) {
      throw new TypeError(
        `a token is required: --token-file F or ${TOKEN_ENV}`,
      );
    }
    options = {
      seed,
      listen,
      advertise: flagValue(f, "advertise"),
      token,
      insecureNoAuth: insecure,
      nodeId: flagValue(f, "node-id"),
      joinTimeoutMs: msFlag(
        "join-timeout",
        flagValue(f, "join-timeout"),
        DEFAULT_SEED_TIMINGS.formationTimeoutMs + 10_000,
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
    };
  } catch (err) {
    complain(errorLine(err));
    if (err instanceof TypeError) complain(`run "join --help" for usage`);
    return SEED_EXIT_USAGE;
  }
  let member;
  try {
    member = await joinCluster(options);
  } catch (err) {
    complain(errorLine(err));
    return isSeedError(err, "invalid_option") || isSeedError(err, "io_error") &&
        String((err as Error).message).startsWith("cannot listen")
      ? SEED_EXIT_USAGE
      : SEED_EXIT_FAILED;
  }
  const short = (id: string): string => id.slice(0, 8);
  say(
    `joined cluster ${member.clusterId} as node ${
      short(member.nodeId)
    } rank ${member.rank} world ${member.worldSize} generation ${member.generation} mesh ${member.address}`,
  );
  const stop = Promise.withResolvers<number>();
  member.on((e) => {
    switch (e.type) {
      case "committed":
        if (e.generation > 0) {
          say(
            `generation ${e.generation} rank ${e.rank} world ${e.worldSize}${
              e.previousRank !== e.rank ? ` (was rank ${e.previousRank})` : ""
            }`,
          );
        }
        break;
      case "mesh_ready":
        say(`mesh ready generation ${e.generation}`);
        break;
      case "peer_dead":
        say(
          `peer ${short(e.nodeId)} rank ${e.rank ?? "?"} silent for ${
            Math.round(e.silentMs)
          } ms: dead`,
        );
        break;
      case "removed":
        say(`removed: ${e.code}`);
        stop.resolve(e.code === "left" ? SEED_EXIT_OK : SEED_EXIT_FAILED);
        break;
      case "seed_lost":
        say(`seed lost: ${e.reason}`);
        stop.resolve(SEED_EXIT_FAILED);
        break;
      default:
        break;
    }
  });
  let leaving = false;
  const onInt = (): void => {
    if (leaving) {
      stop.resolve(SEED_EXIT_OK);
      return;
    }
    leaving = true;
    say("leaving");
    member.leave().then(() => stop.resolve(SEED_EXIT_OK));
    setTimeout(() => stop.resolve(SEED_EXIT_OK), 5000);
  };
  const onTerm = (): void => stop.resolve(SEED_EXIT_OK);
  Deno.addSignalListener("SIGINT", onInt);
  Deno.addSignalListener("SIGTERM", onTerm);
  const code = await stop.promise;
  Deno.removeSignalListener("SIGINT", onInt);
  Deno.removeSignalListener("SIGTERM", onTerm);
  await member.close();
  return code;
}
