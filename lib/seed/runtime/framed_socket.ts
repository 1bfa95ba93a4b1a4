/**
 * A `node:tls` socket carrying seed frames: incoming bytes go through a
 * capped {@link FrameReader} and the schema decoder; outgoing messages are
 * encoded and written. An optional tap sees every frame's bytes (tests use
 * it to prove that no secret ever crosses the wire).
 *
 * @module
 */

import type { TLSSocket } from "node:tls";
import { encodeFrameHeader, FrameReader } from "../frame.ts";
import { decodeSeedMessage, encodeSeedMessage } from "../messages.ts";
import type { SeedMessage } from "../messages.ts";
import type { SeedLimits } from "../limits.ts";
import type { FramePriority } from "../frame.ts";

/** Direction of a tapped frame. */
export type FrameDirection = "in" | "out";

/** Sees raw frame bytes (whole frames, header included). */
export type FrameTap = (direction: FrameDirection, bytes: Uint8Array) => void;

/** Callbacks of {@link FramedSocket}. */
export interface FramedSocketHandlers {
  /** A decoded message. */
  onMessage(message: SeedMessage): void;
  /** A framing or schema error (the socket is not closed by this class). */
  onError(error: unknown): void;
  /** The socket closed (called once). */
  onClose(): void;
}

/** Callbacks and limits of {@link FramedSocket}. */
export interface FramedSocketOptions extends FramedSocketHandlers {
  /** Decoder limits. */
  limits: SeedLimits;
  /** Payload cap until {@link FramedSocket.authenticated} is called. */
  initialMaxFrameBytes: number;
  /** Optional frame tap. */
  tap?: FrameTap;
}

/**
 * Frames over one TLS socket.
 *
 * @example
 * ```ts ignore
 * const framed = new FramedSocket(socket, { limits, initialMaxFrameBytes: 16384,
 *   onMessage: (m) => {}, onError: () => socket.destroy(), onClose: () => {} });
 * framed.send({ type: "leave" });
 * ```
 */
export class FramedSocket {
  readonly socket: TLSSocket;
  readonly #reader: FrameReader;
  readonly #o: FramedSocketOptions;
  #handlers: FramedSocketHandlers;
  #closed = false;
  #failed = false;

  /**
   * Wraps a connected socket.
   *
   * @param socket The socket (TLS established).
   * @param options Limits and callbacks.
   */
  constructor(socket: TLSSocket, options: FramedSocketOptions) {
    this.socket = socket;
    this.#o = options;
    this.#handlers = options;
    this.#reader = new FrameReader(options.initialMaxFrameBytes);
    socket.on("data", (chunk: Uint8Array) => this.#onData(chunk));
    const closed = (): void => {
      if (this.#closed) return;
      this.#closed = true;
      this.#handlers.onClose();
    };
    socket.on("close", closed);
    socket.on("end", () => socket.destroy());
    socket.on("error", () => {
      socket.destroy();
      closed();
    });
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Replaces the callbacks (e.g. after a handshake); frames already
   * buffered go to the new ones.
   *
   * @param handlers New callbacks.
   */
  rebind(handlers: FramedSocketHandlers): void {
    this.#handlers = handlers;
  }

  /** Raises the frame cap to the post-authentication limit. */
  authenticated(): void {
    this.#reader.setMaxFrameBytes(this.#o.limits.maxFrameBytes);
  }

  #onData(chunk: Uint8Array): void {
    if (this.#failed) return;
    this.#reader.push(chunk);
    for (;;) {
      let message: SeedMessage;
      try {
        const frame = this.#reader.next();
        if (frame === undefined) return;
        if (this.#o.tap !== undefined) {
          const whole = new Uint8Array(8 + frame.payload.length);
          whole.set(encodeFrameHeader(frame));
          whole.set(frame.payload, 8);
          this.#o.tap("in", whole);
        }
        message = decodeSeedMessage(frame, this.#o.limits);
      } catch (error) {
        this.#failed = true;
        this.socket.pause();
        this.#handlers.onError(error);
        return;
      }
      this.#handlers.onMessage(message);
      if (this.#closed || this.#failed) return;
    }
  }

  /**
   * Sends a message (dropped when closed).
   *
   * @param message The message.
   * @param priority Priority override.
   */
  send(message: SeedMessage, priority?: FramePriority): void {
    if (this.#closed || this.socket.destroyed) return;
    const bytes = encodeSeedMessage(message, priority);
    this.#o.tap?.("out", bytes);
    this.socket.write(bytes);
  }

  /**
   * Sends a message and resolves once the socket accepted it.
   *
   * @param message The message.
   */
  async sendAsync(message: SeedMessage): Promise<void> {
    if (this.#closed || this.socket.destroyed) return;
    const bytes = encodeSeedMessage(message);
    this.#o.tap?.("out", bytes);
    await new Promise<void>((resolve) => {
      this.socket.write(bytes, () => resolve());
    });
  }

  /** Ends the socket after pending writes, then destroys it shortly after. */
  close(): void {
    if (this.socket.destroyed) return;
    this.socket.end();
    const t = setTimeout(() => this.socket.destroy(), 200);
    this.socket.once("close", () => clearTimeout(t));
  }
}
