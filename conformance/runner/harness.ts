/**
 * The I/O side of one conformance case: a fresh listener in the router
 * role, worker processes started from the command template with a fresh
 * cache directory, and connections observed by a {@link WireMonitor}.
 * Everything a case opens is registered and torn down by
 * {@link CaseContext.cleanup}, whatever happened.
 *
 * This file (with `conn.ts`, `listeners.ts`, `tls_material.ts` and
 * `run.ts`) is the only part of the runner that touches sockets, processes,
 * timers and files.
 *
 * @module
 */

import { expandTemplate, type TemplateValues } from "./template.ts";
import { CaseFailure, CaseSkip } from "./types.ts";
import { Conn, type ConnOptions } from "./conn.ts";
import {
  type AcceptedStream,
  type CaseListener,
  denoCaseListener,
  openMtlsListener,
} from "./listeners.ts";
import type { TranscriptEntry } from "./types.ts";

/**
 * The transports the runner can listen on: `tls` authenticates the runner
 * only; `mtls` also requires the worker's client certificate.
 */
export type Transport = "unix" | "tcp" | "tls" | "mtls";

/** The client identity the worker presents under `mtls`. */
export interface ClientIdentityFiles {
  /** Path of the client certificate (PEM), given as `{client_cert}`. */
  certPath: string;
  /** Path of its private key (PEM), given as `{client_key}`. */
  keyPath: string;
  /** SHA-256 of the certificate's DER, lowercase hex without colons. */
  fingerprint: string;
}

/** TLS material for the `tls` and `mtls` transports. */
export interface TlsMaterial {
  /** Server certificate (PEM text). */
  cert: string;
  /** Server private key (PEM text). */
  key: string;
  /** Path of the CA certificate the worker must trust. */
  caCertPath: string;
  /** The CA certificate (PEM text) client certificates must chain to (mtls). */
  clientCa?: string;
  /** The client identity handed to the worker (mtls). */
  client?: ClientIdentityFiles;
}

/** Settings shared by every case of a run. */
export interface HarnessSettings {
  /** The worker command template. */
  template: string;
  /** Listener transport. */
  transport: Transport;
  /** A private directory for this run (sockets, cache dirs). */
  runDir: string;
  /** TLS material (required for the `tls` and `mtls` transports). */
  tls?: TlsMaterial;
  /** Name of the environment variable that carries the token. */
  tokenEnv: string;
}

/** How a worker process ended. */
export interface ExitInfo {
  code: number | null;
  signal: string | null;
}

/** Options for {@link CaseContext.startWorker}. */
export interface StartWorkerOptions {
  /** Cache directory; defaults to the case's own fresh one. */
  cacheDir?: string;
  /** Shard id; defaults to the case's shard. */
  shard?: number;
  /** Token value put in the env var; defaults to the case's token. */
  token?: string;
  /** Address given as `{connect}`; defaults to the case's listener. */
  connect?: string;
  /**
   * Start the worker without its client identity: the template's words
   * using `{client_cert}`/`{client_key}` are left out, with the flag before
   * each. @default false
   */
  withoutClientIdentity?: boolean;
}

const TAIL_BYTES = 16 * 1024;

const LIVE = new Set<WorkerProcess>();

/**
 * Kills every worker process (group) still running, e.g. on Ctrl-C.
 *
 * @example
 * ```ts
 * import { killAllWorkers } from "./harness.ts";
 * killAllWorkers(); // nothing running: a no-op
 * ```
 */
export function killAllWorkers(): void {
  for (const w of LIVE) w.killNow();
}

/**
 * A running worker process.
 *
 * @example
 * ```ts ignore
 * import { WorkerProcess } from "./harness.ts";
 * const w = new WorkerProcess(["my-worker", "--connect", "unix:/tmp/r.sock"], { TOKEN: "t" });
 * const exit = await w.waitExit(5000);
 * await w.kill();
 * ```
 */
export class WorkerProcess {
  #child: Deno.ChildProcess;
  #stderr = "";
  #stdout = "";
  #status: Promise<ExitInfo>;
  #exit: ExitInfo | undefined;
  #pumps: Promise<void>[] = [];
  #pid: number;
  /** The argv it was started with (token never included). */
  readonly argv: string[];

  /**
   * Starts a process.
   *
   * @param argv Program and arguments.
   * @param env Extra environment variables.
   */
  constructor(argv: string[], env: Record<string, string>) {
    this.argv = argv;
    this.#child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      // Its own process group, so that kill() also reaches the children of
      // a wrapper script that does not `exec` the worker.
      detached: true,
    }).spawn();
    this.#pid = this.#child.pid;
    LIVE.add(this);
    this.#pumps.push(this.#pump(this.#child.stderr, true));
    this.#pumps.push(this.#pump(this.#child.stdout, false));
    this.#status = this.#child.status.then((s) => {
      this.#exit = {
        code: s.signal === null ? s.code : null,
        signal: s.signal,
      };
      return this.#exit;
    });
  }

  async #pump(
    stream: ReadableStream<Uint8Array>,
    isErr: boolean,
  ): Promise<void> {
    const dec = new TextDecoder();
    try {
      for await (const chunk of stream) {
        let text = (isErr ? this.#stderr : this.#stdout) +
          dec.decode(chunk, { stream: true });
        if (text.length > TAIL_BYTES * 2) text = text.slice(-TAIL_BYTES);
        if (isErr) this.#stderr = text;
        else this.#stdout = text;
      }
    } catch { /* the process was killed */ }
  }

  /** The last part of what the process wrote to stdout. */
  get stdout(): string {
    return this.#stdout.slice(-TAIL_BYTES);
  }

  /** The last part of what the process wrote to stderr. */
  get stderr(): string {
    return this.#stderr.slice(-TAIL_BYTES);
  }

  /** How it exited, if it has. */
  get exit(): ExitInfo | undefined {
    return this.#exit;
  }

  /**
   * Waits for the process to exit.
   *
   * @param timeoutMs How long to wait.
   * @returns How it exited, or undefined on timeout.
   */
  async waitExit(timeoutMs: number): Promise<ExitInfo | undefined> {
    if (this.#exit) return this.#exit;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    try {
      return await Promise.race([this.#status, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills the process group (SIGKILL) at once, without waiting. */
  killNow(): void {
    try {
      // The whole group: wrapper scripts and their children too.
      Deno.kill(-this.#pid, "SIGKILL");
    } catch {
      try {
        if (!this.#exit) this.#child.kill("SIGKILL");
      } catch { /* already gone */ }
    }
  }

  /** Kills the process group (SIGKILL) and waits for it and its pipes. */
  async kill(): Promise<void> {
    this.killNow();
    await this.#status;
    await Promise.all(this.#pumps);
    LIVE.delete(this);
  }
}

/**
 * Everything one case can use. Created and cleaned up by the runner.
 *
 * @example
 * ```ts ignore
 * // A case body receives the context:
 * async function run(ctx: CaseContext): Promise<void> {
 *   const { conn } = await ctx.connectWorker();
 *   await conn.callOk({ type: "shutdown" }, "shutdown");
 *   if ((await ctx.workers[0].waitExit(2000))?.code !== 0) ctx.fail("exit 0", "something else");
 * }
 * ```
 */
export class CaseContext {
  /** The shard id the case gives the worker. */
  readonly shard: number;
  /** The token put in the worker's environment. */
  readonly token: string;
  /** The case's private directory. */
  readonly dir: string;
  /** The case's fresh cache directory. */
  readonly cacheDir: string;
  /** Time origin of the case (ms, `performance.now()`). */
  readonly start: number;
  /** Notes reported with the result. */
  readonly notes: string[] = [];
  /** Connections accepted so far. */
  readonly conns: Conn[] = [];
  /** Processes started so far. */
  readonly workers: WorkerProcess[] = [];
  /** When false, worker-traffic violations seen by the monitor do not fail the case. */
  checkTraffic = true;
  /** The settings of the run. */
  readonly settings: HarnessSettings;
  #listener: CaseListener | undefined;
  #listening: Promise<void> | undefined;
  #closed = false;

  /**
   * Creates a context.
   *
   * @param settings The run's settings.
   * @param options Case directory and shard.
   */
  constructor(
    settings: HarnessSettings,
    options: { dir: string; shard: number },
  ) {
    this.settings = settings;
    this.dir = options.dir;
    this.cacheDir = `${options.dir}/cache`;
    this.shard = options.shard;
    this.token = `tok-${crypto.randomUUID()}`;
    this.start = performance.now();
  }

  /** Milliseconds since the case started. */
  now(): number {
    return performance.now() - this.start;
  }

  /** The address workers are told to connect to. */
  get connectAddress(): string {
    return this.#listener?.connect ?? "";
  }

  /**
   * TLS handshakes the listener saw fail (mtls only: e.g. no client
   * certificate), as short reasons.
   */
  get failedHandshakes(): readonly string[] {
    return this.#listener?.failedHandshakes ?? [];
  }

  #checkOpen(): void {
    // A case body that outlived its timeout must not open anything after
    // the cleanup.
    if (this.#closed) {
      throw new CaseFailure(
        "the case runs before its cleanup",
        "the case had already ended",
      );
    }
  }

  /** Opens the case's listener (once). */
  async listen(): Promise<void> {
    this.#checkOpen();
    this.#listening ??= this.#open();
    await this.#listening;
  }

  async #open(): Promise<void> {
    const t = this.settings.transport;
    if (t === "unix") {
      const sockDir = `${this.dir}/s`;
      await Deno.mkdir(sockDir, { recursive: true, mode: 0o700 });
      const path = `${sockDir}/r.sock`;
      const l = Deno.listen({ transport: "unix", path });
      this.#listener = denoCaseListener(l, `unix:${path}`);
    } else if (t === "tcp") {
      const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      this.#listener = denoCaseListener(l, `tcp:127.0.0.1:${l.addr.port}`);
    } else if (t === "tls") {
      if (!this.settings.tls) {
        throw new TypeError("tls transport needs TLS material");
      }
      const l = Deno.listenTls({
        hostname: "127.0.0.1",
        port: 0,
        cert: this.settings.tls.cert,
        key: this.settings.tls.key,
      });
      this.#listener = denoCaseListener(
        l,
        `tcp+tls:localhost:${l.addr.port}`,
      );
    } else {
      const tls = this.settings.tls;
      if (!tls?.clientCa || !tls.client) {
        throw new TypeError(
          "mtls transport needs TLS material with a client CA and identity",
        );
      }
      const l = await openMtlsListener({
        cert: tls.cert,
        key: tls.key,
        clientCa: tls.clientCa,
      });
      if (this.#closed) {
        await l.close();
        this.#checkOpen();
      }
      this.#listener = l;
    }
  }

  /**
   * Starts the worker from the template.
   *
   * @param options Cache dir, shard and token overrides.
   * @returns The process.
   */
  async startWorker(options: StartWorkerOptions = {}): Promise<WorkerProcess> {
    await this.listen();
    const cacheDir = options.cacheDir ?? this.cacheDir;
    this.#checkOpen();
    await Deno.mkdir(cacheDir, { recursive: true });
    const values: TemplateValues = {
      connect: options.connect ?? this.connectAddress,
      shard: String(options.shard ?? this.shard),
      cache_dir: cacheDir,
      token_env: this.settings.tokenEnv,
      ca_cert: this.settings.tls?.caCertPath ?? "",
      client_cert: this.settings.tls?.client?.certPath ?? "",
      client_key: this.settings.tls?.client?.keyPath ?? "",
    };
    const argv = expandTemplate(this.settings.template, values, {
      dropWordsWith: options.withoutClientIdentity
        ? ["client_cert", "client_key"]
        : [],
    });
    this.#checkOpen();
    const env: Record<string, string> = {
      [this.settings.tokenEnv]: options.token ?? this.token,
    };
    let w: WorkerProcess;
    try {
      w = new WorkerProcess(argv, env);
    } catch (err) {
      throw new CaseFailure(
        "the worker command starts",
        `cannot run ${JSON.stringify(argv[0])}: ${(err as Error).message}`,
      );
    }
    this.workers.push(w);
    return w;
  }

  /**
   * Waits for the next worker connection.
   *
   * @param timeoutMs How long to wait.
   * @param options Connection options.
   * @returns The connection.
   */
  async accept(timeoutMs = 15_000, options: ConnOptions = {}): Promise<Conn> {
    await this.listen();
    const listener = this.#listener!;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const accepted = listener.accept();
    accepted.catch(() => {});
    const exited = this.workers.length
      ? this.workers[this.workers.length - 1].waitExit(timeoutMs).then((e) =>
        e ? "exited" as const : "timeout" as const
      )
      : timeout;
    try {
      const got = await Promise.race([accepted, timeout, exited]);
      if (got === "timeout") {
        throw new CaseFailure(
          `the worker connects within ${timeoutMs} ms`,
          "no connection arrived",
        );
      }
      if (got === "exited") {
        // The process may have connected just before exiting.
        const late = await Promise.race([
          accepted,
          new Promise<"none">((r) => setTimeout(() => r("none"), 50)),
        ]);
        if (late === "none") {
          const e = this.workers[this.workers.length - 1].exit;
          throw new CaseFailure(
            "the worker connects to the runner",
            `the worker exited (code ${e?.code}, signal ${e?.signal}) without connecting`,
          );
        }
        return this.#wrap(late, options);
      }
      return this.#wrap(got, options);
    } finally {
      clearTimeout(timer);
    }
  }

  #wrap(raw: AcceptedStream, options: ConnOptions): Conn {
    const c = new Conn(raw.stream, this.start, {
      ...options,
      peerFingerprint: raw.peerFingerprint,
    });
    this.conns.push(c);
    if (this.#closed) c.close();
    return c;
  }

  /**
   * Starts a worker, accepts its connection and completes the handshake
   * with a default Welcome.
   *
   * @param options Worker start options.
   * @returns The connection (handshake done) and the process.
   */
  async connectWorker(
    options: StartWorkerOptions = {},
  ): Promise<{ conn: Conn; worker: WorkerProcess }> {
    const worker = await this.startWorker(options);
    const conn = await this.accept();
    await conn.handshake();
    return { conn, worker };
  }

  /**
   * Records an informational note.
   *
   * @param text The note.
   */
  note(text: string): void {
    this.notes.push(text);
  }

  /**
   * Fails the case.
   *
   * @param expected What the rule requires.
   * @param observed What happened.
   */
  fail(expected: string, observed: string): never {
    throw new CaseFailure(expected, observed);
  }

  /**
   * Skips the case.
   *
   * @param reason Why it does not apply.
   */
  skip(reason: string): never {
    throw new CaseSkip(reason);
  }

  /** The merged transcript of every connection, in time order. */
  transcript(limit = 40): TranscriptEntry[] {
    const all = this.conns.flatMap((c) => c.monitor.transcript);
    all.sort((a, b) => a.t - b.t);
    return all.slice(-limit);
  }

  /** Worker-traffic violations seen on every connection. */
  violations(): string[] {
    return this.conns.flatMap((c) => c.monitor.violations);
  }

  /** The stderr tails of every process started, labelled. */
  stderrTail(): string {
    return this.workers.map((w, i) =>
      this.workers.length > 1
        ? `--- worker process ${i + 1} ---\n${w.stderr}`
        : w.stderr
    ).join("\n").slice(-6000);
  }

  /** Closes everything the case opened and kills its processes. */
  async cleanup(): Promise<void> {
    this.#closed = true;
    for (const c of this.conns) c.close();
    await this.#listening?.catch(() => {});
    await this.#listener?.close();
    await Promise.all(this.workers.map((w) => w.kill()));
    await Promise.all(this.conns.map((c) => c.done));
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await Deno.remove(this.dir, { recursive: true });
        break;
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
}
