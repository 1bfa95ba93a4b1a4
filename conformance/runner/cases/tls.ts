/**
 * Mutual TLS cases: the worker's client identity (`--tls-client-cert` /
 * `--tls-client-key`). They need `--transport mtls`, where the runner's
 * listener requires a client certificate signed by the run's CA; under
 * every other transport they are skipped.
 *
 * @module
 */

import { type CaseDef, defineCase } from "../case.ts";
import type { CaseContext } from "../harness.ts";
import { CaseFailure } from "../types.ts";
import { RW, stats } from "./_util.ts";

function requireMtls(ctx: CaseContext): string {
  const fingerprint = ctx.settings.tls?.client?.fingerprint;
  if (ctx.settings.transport !== "mtls" || fingerprint === undefined) {
    ctx.skip(
      `needs --transport mtls (the runner asks for a client certificate only there; this run uses ${ctx.settings.transport})`,
    );
  }
  return fingerprint;
}

const NO_IDENTITY_WAIT_MS = 10_000;

/**
 * The mutual TLS cases.
 *
 * @example
 * ```ts
 * import { TLS_CASES } from "./tls.ts";
 * console.assert(TLS_CASES.every((c) => c.id.startsWith("tls.") && c.rule.includes("§")));
 * ```
 */
export const TLS_CASES: CaseDef[] = [
  defineCase({
    id: "tls.client_certificate_presented",
    title:
      "Under mutual TLS the worker presents the client certificate it was given",
    rule: `${RW} §3.1 (--tls-client-cert/--tls-client-key), §3.10, §2.4`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      const expected = requireMtls(ctx);
      const { conn } = await ctx.connectWorker();
      if (conn.peerFingerprint !== expected) {
        ctx.fail(
          `client certificate SHA-256 ${expected}`,
          conn.peerFingerprint === undefined
            ? "no client certificate"
            : `a different certificate (SHA-256 ${conn.peerFingerprint})`,
        );
      }
      // The session works over the mutually authenticated connection.
      await stats(conn);
    },
  }),
  defineCase({
    id: "tls.no_client_certificate_fails",
    title:
      "Without a client identity the worker cannot connect to a router requiring one and exits non-zero",
    rule: `${RW} §3.10`,
    severity: "MUST",
    async run(ctx: CaseContext) {
      requireMtls(ctx);
      const template = ctx.settings.template;
      if (
        !template.includes("{client_cert}") &&
        !template.includes("{client_key}")
      ) {
        ctx.skip(
          "the template does not use {client_cert}/{client_key}, so the runner cannot start the worker without them",
        );
      }
      const worker = await ctx.startWorker({ withoutClientIdentity: true });
      let accepted = false;
      try {
        await ctx.accept(NO_IDENTITY_WAIT_MS);
        accepted = true;
      } catch (err) {
        // The expected outcome: the worker exited, or nothing completed TLS.
        if (!(err instanceof CaseFailure)) throw err;
      }
      if (accepted) {
        ctx.fail(
          "no TLS connection completes without a client certificate",
          "the runner accepted a connection",
        );
      }
      const exit = await worker.waitExit(1000);
      if (exit === undefined) {
        ctx.fail(
          "the worker exits with a non-zero code",
          `still running after ${NO_IDENTITY_WAIT_MS} ms`,
        );
      }
      if (exit.code === 0) {
        ctx.fail("a non-zero exit code", "exit code 0");
      }
      const failed = ctx.failedHandshakes;
      ctx.note(
        failed.length > 0
          ? `the runner refused the TLS handshake: ${failed[0]}`
          : "the worker gave up before completing a TLS handshake",
      );
    },
  }),
];
