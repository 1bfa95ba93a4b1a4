import assert from "node:assert/strict";
import { ProtocolError } from "../wire/errors.ts";
import { type DrivableSession, SessionDriver } from "./driver.ts";
import type { ByteStream } from "./stream.ts";

type Ev = { type: "data"; bytes: number } | {
  type: "closed";
  error?: ProtocolError;
};

/** A scripted session: queues whatever `send` gets, closes on demand. */
class FakeSession implements DrivableSession<Ev> {
  out: Uint8Array[] = [];
  events: Ev[] = [];
  deadline: number | undefined;
  timeouts: number[] = [];
  closed = false;
  received = 0;
  send(bytes: Uint8Array): void {
    this.out.push(bytes);
  }
  receive(bytes: Uint8Array): void {
    this.received += bytes.length;
    this.events.push({ type: "data", bytes: bytes.length });
  }
  receiveEnd(): void {
    this.close(new ProtocolError("connection_closed", "eof", { remote: true }));
  }
  pollEvent(): Ev | undefined {
    return this.events.shift();
  }
  pollTransmit(): Uint8Array | undefined {
    if (this.out.length === 0) return undefined;
    const total = this.out.reduce((n, b) => n + b.length, 0);
    const joined = new Uint8Array(total);
    let off = 0;
    for (const b of this.out) {
      joined.set(b, off);
      off += b.length;
    }
    this.out = [];
    return joined;
  }
  nextDeadline(): number | undefined {
    return this.deadline;
  }
  handleTimeout(now: number): void {
    this.timeouts.push(now);
    this.deadline = undefined;
    this.close(
      new ProtocolError("handshake_timeout", "late", { remote: true }),
    );
  }
  close(error?: ProtocolError): void {
    if (this.closed) return;
    this.closed = true;
    this.deadline = undefined;
    this.events.push({ type: "closed", error });
  }
}

/** A stream that records writes and serves scripted reads. */
class FakeStream implements ByteStream {
  writes: Uint8Array[] = [];
  closed = false;
  #reads: ((v: number | null) => void)[] = [];
  #pending: (Uint8Array | null)[] = [];
  stuck = false;
  #stuckWrite?: (n: number) => void;
  #stuckFail?: (e: Error) => void;
  feed(bytes: Uint8Array | null): void {
    this.#pending.push(bytes);
    this.#pump();
  }
  #buf: Uint8Array | undefined;
  #pump(): void {
    while (this.#reads.length > 0 && this.#pending.length > 0) {
      const next = this.#pending.shift()!;
      const resolve = this.#reads.shift()!;
      if (next === null) resolve(null);
      else {
        this.#buf!.set(next);
        resolve(next.length);
      }
    }
  }
  read(buffer: Uint8Array): Promise<number | null> {
    if (this.closed) {
      return Promise.reject(new Deno.errors.BadResource("closed"));
    }
    this.#buf = buffer;
    return new Promise((resolve, reject) => {
      this.#reads.push(resolve);
      this.#rejectRead = reject;
      this.#pump();
    });
  }
  #rejectRead?: (e: Error) => void;
  write(bytes: Uint8Array): Promise<number> {
    if (this.closed) {
      return Promise.reject(new Deno.errors.BrokenPipe("closed"));
    }
    this.writes.push(bytes.slice());
    if (this.stuck) {
      return new Promise((resolve, reject) => {
        this.#stuckWrite = resolve;
        this.#stuckFail = reject;
      });
    }
    return Promise.resolve(bytes.length);
  }
  close(): void {
    this.closed = true;
    this.#rejectRead?.(new Deno.errors.BadResource("closed"));
    this.#stuckFail?.(new Deno.errors.BadResource("closed"));
    void this.#stuckWrite;
  }
}

function drive(session: FakeSession, stream: FakeStream, lingerMs = 1000) {
  const seen: Ev[] = [];
  const driver = new SessionDriver<Ev>(session, stream, {
    onEvent: (e) => seen.push(e),
    isClosed: (e) => e.type === "closed",
    lingerMs,
  });
  return { driver, seen };
}

Deno.test("SessionDriver coalesces frames queued in the same tick into one write", async () => {
  const session = new FakeSession();
  const stream = new FakeStream();
  const { driver } = drive(session, stream);
  driver.start();
  for (let i = 0; i < 50; i++) {
    session.send(new Uint8Array([i]));
    driver.pump();
  }
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(stream.writes.length, 1);
  assert.equal(stream.writes[0].length, 50);
  driver.close();
  await driver.done;
  assert.ok(stream.closed);
});

Deno.test("SessionDriver feeds reads to the session and closes on EOF", async () => {
  const session = new FakeSession();
  const stream = new FakeStream();
  const { driver, seen } = drive(session, stream);
  driver.start();
  stream.feed(new Uint8Array(7));
  stream.feed(new Uint8Array(3));
  stream.feed(null);
  await driver.done;
  assert.equal(session.received, 10);
  assert.deepEqual(seen.map((e) => e.type), ["data", "data", "closed"]);
  assert.ok(stream.closed);
});

Deno.test("SessionDriver arms one timer from nextDeadline and calls handleTimeout", async () => {
  const session = new FakeSession();
  const stream = new FakeStream();
  session.deadline = performance.now() + 30;
  const { driver, seen } = drive(session, stream);
  driver.start();
  await driver.done;
  assert.equal(session.timeouts.length, 1);
  const last = seen.at(-1) as { type: "closed"; error?: ProtocolError };
  assert.equal(last.error?.code, "handshake_timeout");
});

Deno.test("SessionDriver flushes what the session queued before closing the stream", async () => {
  const session = new FakeSession();
  const stream = new FakeStream();
  const { driver } = drive(session, stream);
  driver.start();
  session.send(new Uint8Array([1, 2, 3]));
  session.close(new ProtocolError("handshake_rejected", "no"));
  driver.pump();
  await driver.done;
  assert.deepEqual(stream.writes.map((w) => [...w]), [[1, 2, 3]]);
  assert.ok(stream.closed);
});

Deno.test("SessionDriver closes the stream under a peer that stops reading", async () => {
  const session = new FakeSession();
  const stream = new FakeStream();
  stream.stuck = true;
  const { driver } = drive(session, stream, 30);
  driver.start();
  session.send(new Uint8Array(10));
  driver.pump();
  await new Promise((r) => setTimeout(r, 0));
  driver.close();
  const t0 = performance.now();
  await driver.done;
  assert.ok(performance.now() - t0 < 1000);
  assert.ok(stream.closed);
});

/** One `data` event per byte received (a read carrying many frames). */
class ByteEventSession extends FakeSession {
  override receive(bytes: Uint8Array): void {
    this.received += bytes.length;
    for (let i = 0; i < bytes.length; i++) {
      this.events.push({ type: "data", bytes: bytes[i] });
    }
  }
}

Deno.test("SessionDriver delivers a read of many frames in slices, sending handler output between them", async () => {
  const session = new ByteEventSession();
  const stream = new FakeStream();
  const seen: number[] = [];
  const seenAtWrite: number[] = [];
  const write = stream.write.bind(stream);
  stream.write = (bytes) => {
    seenAtWrite.push(seen.length);
    return write(bytes);
  };
  const driver: SessionDriver<Ev> = new SessionDriver<Ev>(session, stream, {
    onEvent: (e) => {
      if (e.type !== "data") return;
      seen.push(e.bytes);
      // Like a caller whose awaited response just arrived: the next request
      // is sent from a microtask.
      void Promise.resolve().then(() => {
        session.send(new Uint8Array([e.bytes]));
        driver.pump();
      });
    },
    isClosed: (e) => e.type === "closed",
  });
  driver.start();
  stream.feed(Uint8Array.from({ length: 40 }, (_, i) => i));
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(seen, Array.from({ length: 40 }, (_, i) => i));
  // Output of the first slice left before the last events were delivered.
  assert.ok(stream.writes.length >= 2);
  assert.ok(seenAtWrite[0] < 40);
  const sent = stream.writes.flatMap((w) => [...w]);
  assert.deepEqual(sent, Array.from({ length: 40 }, (_, i) => i));
  driver.close();
  await driver.done;
});

Deno.test("SessionDriver reports a close made during a sliced delivery", async () => {
  const session = new ByteEventSession();
  const stream = new FakeStream();
  const seen: Ev[] = [];
  const driver: SessionDriver<Ev> = new SessionDriver<Ev>(session, stream, {
    onEvent: (e) => {
      seen.push(e);
      if (e.type === "data" && e.bytes === 20) {
        void Promise.resolve().then(() => driver.close());
      }
    },
    isClosed: (e) => e.type === "closed",
  });
  driver.start();
  stream.feed(new Uint8Array(40).map((_, i) => i));
  await driver.done;
  assert.equal(seen.at(-1)?.type, "closed");
  assert.ok(driver.isClosed && stream.closed);
});
