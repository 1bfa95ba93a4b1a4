/**
 * Transport addresses in the reference syntax: `unix:/path`, `tcp:host:port`,
 * `tcp+tls:host:port` and `pipe:name`. The scheme is everything before the
 * first `:`. Hosts may be IPv4 literals, bracketed IPv6 literals or DNS names.
 * `pipe:` (Windows named pipes) parses, but connecting or listening on it
 * fails with {@link unsupportedPipeError}.
 *
 * @module
 */

/** A parsed transport address. */
export type Address =
  | { readonly transport: "unix"; readonly path: string }
  | {
    readonly transport: "tcp" | "tcp+tls";
    readonly hostname: string;
    readonly port: number;
  }
  | { readonly transport: "pipe"; readonly name: string };

/** The transports {@link parseAddress} knows. */
export const TRANSPORTS = ["unix", "tcp", "tcp+tls", "pipe"] as const;

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/;
const IPV6 = /^[0-9A-Fa-f:.]+(?:%[A-Za-z0-9_.-]+)?$/;

function parseHostPort(raw: string, rest: string): {
  hostname: string;
  port: number;
} {
  let hostname: string;
  let portText: string;
  if (rest.startsWith("[")) {
    const end = rest.indexOf("]");
    if (end < 0 || rest[end + 1] !== ":") {
      throw new TypeError(`invalid address "${raw}": expected [ipv6]:port`);
    }
    hostname = rest.slice(1, end);
    portText = rest.slice(end + 2);
    if (!IPV6.test(hostname) || !hostname.includes(":")) {
      throw new TypeError(`invalid address "${raw}": bad IPv6 literal`);
    }
  } else {
    const colon = rest.lastIndexOf(":");
    if (colon < 0) {
      throw new TypeError(`invalid address "${raw}": expected host:port`);
    }
    hostname = rest.slice(0, colon);
    portText = rest.slice(colon + 1);
    if (!HOSTNAME.test(hostname)) {
      throw new TypeError(`invalid address "${raw}": bad host name`);
    }
  }
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new TypeError(`invalid address "${raw}": bad port`);
  }
  return { hostname, port: Number(portText) };
}

/**
 * Parses an address string.
 *
 * @param text `unix:<path>`, `tcp:<host>:<port>`, `tcp+tls:<host>:<port>` or
 *   `pipe:<name>`.
 * @returns The parsed address.
 * @throws {TypeError} When the text is not a valid address.
 *
 * @example
 * ```ts
 * import { parseAddress } from "./address.ts";
 * const a = parseAddress("tcp+tls:router.example.com:9000");
 * console.assert(a.transport === "tcp+tls" && a.port === 9000);
 * console.assert(parseAddress("unix:/run/r.sock").transport === "unix");
 * ```
 */
export function parseAddress(text: string): Address {
  if (typeof text !== "string") {
    throw new TypeError("address must be a string");
  }
  const colon = text.indexOf(":");
  if (colon < 0) throw new TypeError(`invalid address "${text}"`);
  const scheme = text.slice(0, colon);
  const rest = text.slice(colon + 1);
  switch (scheme) {
    case "unix":
      if (rest === "" || rest.includes("\0")) {
        throw new TypeError(`invalid address "${text}": empty unix path`);
      }
      return { transport: "unix", path: rest };
    case "pipe":
      if (rest === "") {
        throw new TypeError(`invalid address "${text}": empty pipe name`);
      }
      return { transport: "pipe", name: rest };
    case "tcp":
    case "tcp+tls":
      return { transport: scheme, ...parseHostPort(text, rest) };
    default:
      throw new TypeError(`unsupported address scheme "${scheme}"`);
  }
}

/**
 * Formats an address back into its string form.
 *
 * @param address A parsed address.
 * @returns The canonical string.
 *
 * @example
 * ```ts
 * import { formatAddress, parseAddress } from "./address.ts";
 * console.assert(formatAddress(parseAddress("tcp:[::1]:80")) === "tcp:[::1]:80");
 * ```
 */
export function formatAddress(address: Address): string {
  switch (address.transport) {
    case "unix":
      return `unix:${address.path}`;
    case "pipe":
      return `pipe:${address.name}`;
    default: {
      const host = address.hostname.includes(":")
        ? `[${address.hostname}]`
        : address.hostname;
      return `${address.transport}:${host}:${address.port}`;
    }
  }
}

/**
 * The error thrown when a `pipe:` address is used: named pipes do not exist
 * on this runtime's platforms.
 *
 * @param address The pipe address.
 * @returns A `Deno.errors.NotSupported` with a clear message.
 *
 * @example
 * ```ts
 * import { unsupportedPipeError } from "./address.ts";
 * const err = unsupportedPipeError({ transport: "pipe", name: "r" });
 * console.assert(err.message.includes("unix:"));
 * ```
 */
export function unsupportedPipeError(
  address: { transport: "pipe"; name: string },
): Error {
  return new Deno.errors.NotSupported(
    `pipe:${address.name}: Windows named pipes are not supported by this runtime; use a unix: socket instead`,
  );
}

/**
 * Accepts an address string or an already parsed address.
 *
 * @param address Text or parsed form.
 * @returns The parsed form.
 *
 * @example
 * ```ts
 * import { toAddress } from "./address.ts";
 * console.assert(toAddress("tcp:127.0.0.1:0").transport === "tcp");
 * ```
 */
export function toAddress(address: string | Address): Address {
  return typeof address === "string" ? parseAddress(address) : address;
}
