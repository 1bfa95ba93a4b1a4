/**
 * A tiny structured logger: one JSON object per line on stderr. The level
 * comes from the `LOOM_LOG` environment variable (`error`, `warn`, `info` or
 * `debug`; default `warn`). Fields whose names look secret (`token`,
 * `secret`, `password`, `key`) are always replaced by `"<redacted>"`.
 *
 * @module
 */

/** Log levels, most severe first. */
export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];

/** Extra structured data for one event. */
export type LogFields = Record<string, unknown>;

/** A structured logger. */
export interface Logger {
  /** The most verbose level that is written. */
  readonly level: LogLevel;
  /** Logs an error event. */
  error(event: string, fields?: LogFields): void;
  /** Logs a warning event. */
  warn(event: string, fields?: LogFields): void;
  /** Logs an informational event. */
  info(event: string, fields?: LogFields): void;
  /** Logs a debug event. */
  debug(event: string, fields?: LogFields): void;
}

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** Level; defaults to `LOOM_LOG` or `warn`. */
  level?: LogLevel;
  /** A `component` field added to every line. */
  component?: string;
  /** Where lines go. @default {writes to stderr} */
  write?: (line: string) => void;
}

const SECRET = /token|secret|password|passwd|private|key$/i;

function levelFromEnv(): LogLevel {
  try {
    const value = Deno.env.get("LOOM_LOG")?.trim().toLowerCase();
    if (
      value !== undefined && (LOG_LEVELS as readonly string[]).includes(value)
    ) {
      return value as LogLevel;
    }
  } catch {
    // No env permission: use the default.
  }
  return "warn";
}

function plain(value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return code === undefined
      ? { name: value.name, message: value.message }
      : { name: value.name, code, message: value.message };
  }
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  return value;
}

const encoder = new TextEncoder();

function writeStderr(line: string): void {
  try {
    Deno.stderr.writeSync(encoder.encode(line + "\n"));
  } catch {
    // Logging never throws.
  }
}

/**
 * Creates a logger.
 *
 * @param options Level, component name and sink.
 * @returns The logger.
 *
 * @example
 * ```ts
 * import { createLogger } from "./log.ts";
 * const lines: string[] = [];
 * const log = createLogger({ level: "info", write: (l) => lines.push(l) });
 * log.info("connected", { auth_token: "s3cret", port: 1 });
 * log.debug("hidden");
 * console.assert(lines.length === 1 && !lines[0].includes("s3cret"));
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? levelFromEnv();
  const max = LOG_LEVELS.indexOf(level);
  const write = options.write ?? writeStderr;
  const emit = (at: LogLevel, event: string, fields?: LogFields): void => {
    if (LOG_LEVELS.indexOf(at) > max) return;
    const record: Record<string, unknown> = {
      ts: new Date().toISOString(),
      level: at,
    };
    if (options.component !== undefined) record.component = options.component;
    record.event = event;
    for (const [name, value] of Object.entries(fields ?? {})) {
      record[name] = SECRET.test(name) ? "<redacted>" : plain(value);
    }
    let line: string;
    try {
      line = JSON.stringify(record);
    } catch {
      line = JSON.stringify({ ts: record.ts, level: at, event });
    }
    write(line);
  };
  return {
    level,
    error: (event, fields) => emit("error", event, fields),
    warn: (event, fields) => emit("warn", event, fields),
    info: (event, fields) => emit("info", event, fields),
    debug: (event, fields) => emit("debug", event, fields),
  };
}
