/**
 * Drives our pure router-role session (`lib/wire/session.ts`) over a
 * runner connection, so that cases can check that the worker interoperates
 * with our own router implementation: bytes from the socket go to the
 * session, the session's transmit queue goes back through the (monitored)
 * connection.
 *
 * @module
 */

import {
  createRouterSession,
  type RouterSession,
  type RouterSessionOptions,
  type SessionEvent,
} from "../../lib/wire/session.ts";
import type { Admission } from "../../lib/wire/session.ts";
import type {
  Request,
  RpcResult,
  U64,
  WorkerHello,
} from "../../lib/wire/types.ts";
import type { Conn } from "./conn.ts";
import { CaseFailure } from "./types.ts";

/**
 * Our router session attached to a connection.
 *
 * @example
 * ```ts ignore
 * import { SessionDriver } from "./session_driver.ts";
 * const driver = new SessionDriver(await ctx.accept(), { expectedAuthToken: ctx.token });
 * await driver.handshake();
 * const result = await driver.call({ type: "get_worker_stats" });
 * ```
 */
export class SessionDriver {
  /** The session. */
  readonly session: RouterSession;
  /** Every event the session produced, in order. */
  readonly events: SessionEvent[] = [];
  #conn: Conn;
  #admission: (
    hello: WorkerHello,
  ) => Admission | {
    reject: { code: "unauthorized" | "invalid_request"; message: string };
  };
  #writing: Promise<void> = Promise.resolve();

  /**
   * Attaches a session to a connection (before any byte was read from it).
   *
   * @param conn The connection.
   * @param options Session options and the admission decision.
   */
  constructor(
    conn: Conn,
    options: RouterSessionOptions & {
      admit?: (
        hello: WorkerHello,
      ) => Admission | {
        reject: { code: "unauthorized" | "invalid_request"; message: string };
      };
    } = {},
  ) {
    this.#conn = conn;
    this.#admission = options.admit ?? (() => ({}));
    this.session = createRouterSession({
      handshakeTimeoutMs: Infinity,
      ...options,
    });
    conn.onData = (bytes) => {
      this.session.receive(bytes, performance.now());
      this.#pump();
    };
    conn.onEnd = () => {
      this.session.receiveEnd(performance.now());
      this.#pump();
    };
  }

  #pump(): void {
    for (let e = this.session.pollEvent(); e; e = this.session.pollEvent()) {
      this.events.push(e);
      if (e.type === "admission") {
        const verdict = this.#admission(e.hello);
        if ("reject" in verdict) {
          this.session.reject(verdict.reject.code, verdict.reject.message);
        } else this.session.admit(verdict);
      }
    }
    this.#flush();
    this.#conn.signal();
  }

  #flush(): void {
    for (
      let out = this.session.pollTransmit();
      out;
      out = this.session.pollTransmit()
    ) {
      const bytes = out;
      this.#writing = this.#writing.then(() => this.#conn.write(bytes));
    }
  }

  /** The session's close error, if it closed with one. */
  get closeError(): string | undefined {
    const closed = this.events.find((e) => e.type === "closed");
    return closed?.type === "closed" ? closed.error?.code : undefined;
  }

  /**
   * Waits for the handshake to finish.
   *
   * @param timeoutMs How long to wait.
   */
  async handshake(timeoutMs = 15_000): Promise<void> {
    const done = await this.#conn.waitFor(
      () =>
        this.events.find((e) =>
          e.type === "handshake_done" || e.type === "closed"
        ),
      timeoutMs,
    );
    if (done?.type !== "handshake_done") {
      throw new CaseFailure(
        "our router session completes the handshake",
        done?.type === "closed"
          ? `the session closed: ${done.error?.code ?? "no error"} ${
            done.error?.message ?? ""
          }`
          : `no handshake within ${timeoutMs} ms`,
      );
    }
  }

  /**
   * Sends a request through the session.
   *
   * @param request The request.
   * @returns The id.
   */
  send(request: Request): U64 {
    const id = this.session.call(request);
    this.#flush();
    return id;
  }

  /**
   * Sends a Cancel through the session.
   *
   * @param id The request id.
   */
  cancel(id: U64): void {
    this.session.cancel(id);
    this.#flush();
  }

  /**
   * Waits for the session's response event for `id`.
   *
   * @param id The id.
   * @param timeoutMs How long to wait.
   * @returns The result.
   */
  async response(id: U64, timeoutMs = 15_000): Promise<RpcResult> {
    const key = String(id);
    const got = await this.#conn.waitFor(
      () =>
        this.events.find((e) =>
          (e.type === "response" && String(e.id) === key) || e.type === "closed"
        ),
      timeoutMs,
    );
    if (got?.type !== "response") {
      throw new CaseFailure(
        `our router session receives the response to id ${key}`,
        got?.type === "closed"
          ? `the session closed: ${got.error?.code ?? "no error"} ${
            got.error?.message ?? ""
          }`
          : `no response within ${timeoutMs} ms`,
      );
    }
    return got.result;
  }

  /**
   * Sends a request and waits for its result.
   *
   * @param request The request.
   * @param timeoutMs How long to wait.
   * @returns The result.
   */
  async call(request: Request, timeoutMs?: number): Promise<RpcResult> {
    return await this.response(this.send(request), timeoutMs);
  }
}
