/**
 * Node identities in certificates: the leaf of node `<id>` in cluster
 * `<cluster>` carries the URI SAN `spiffe://loom-<cluster>/node/<id>`. The
 * node id is stable across renumbering; the rank is bound by the committed
 * peer table, which maps every rank to exactly one node id.
 *
 * @module
 */

const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * True when `id` is a valid node or cluster id (lowercase letters, digits,
 * `-`, 1 to 63 characters, not starting with `-`).
 *
 * @param id Candidate.
 * @returns Whether it is valid.
 *
 * @example
 * ```ts
 * import { isValidId } from "./identity.ts";
 * console.assert(isValidId("node-1") && !isValidId("Node/1"));
 * ```
 */
export function isValidId(id: string): boolean {
  return ID.test(id);
}

/**
 * The URI SAN naming a node.
 *
 * @param clusterId Cluster id.
 * @param nodeId Node id.
 * @returns The URI.
 *
 * @example
 * ```ts
 * import { nodeUri } from "./identity.ts";
 * console.assert(nodeUri("c1", "n1") === "spiffe://loom-c1/node/n1");
 * ```
 */
export function nodeUri(clusterId: string, nodeId: string): string {
  return `spiffe://loom-${clusterId}/node/${nodeId}`;
}

/**
 * The node ids named for `clusterId` in a Node-style `subjectaltname`
 * string (`URI:spiffe://..., IP Address:...`).
 *
 * @param subjectAltName The SAN string.
 * @param clusterId The cluster the names must belong to.
 * @returns The node ids found.
 *
 * @example
 * ```ts
 * import { nodeIdsFromSubjectAltName } from "./identity.ts";
 * const ids = nodeIdsFromSubjectAltName("URI:spiffe://loom-c1/node/a, IP Address:127.0.0.1", "c1");
 * console.assert(ids.length === 1 && ids[0] === "a");
 * ```
 */
export function nodeIdsFromSubjectAltName(
  subjectAltName: string,
  clusterId: string,
): string[] {
  const prefix = `URI:spiffe://loom-${clusterId}/node/`;
  const out: string[] = [];
  for (const part of subjectAltName.split(",")) {
    const item = part.trim();
    if (item.startsWith(prefix)) {
      const id = item.slice(prefix.length);
      if (isValidId(id)) out.push(id);
    }
  }
  return out;
}

/**
 * Splits `host:port` (IPv6 in brackets) and checks the port.
 *
 * @param addr The address.
 * @returns Host and port, or `undefined` when malformed.
 *
 * @example
 * ```ts
 * import { splitHostPort } from "./identity.ts";
 * console.assert(splitHostPort("[::1]:80")?.hostname === "::1");
 * console.assert(splitHostPort("x") === undefined);
 * ```
 */
export function splitHostPort(
  addr: string,
): { hostname: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:\[\]]+)):(\d{1,5})$/.exec(addr);
  if (m === null) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { hostname: m[1] ?? m[2], port };
}

/**
 * True for loopback hosts (`localhost`, `127.0.0.0/8`, `::1`).
 *
 * @param hostname Host.
 * @returns Whether it is loopback.
 *
 * @example
 * ```ts
 * import { isLoopbackHost } from "./identity.ts";
 * console.assert(isLoopbackHost("127.0.0.2") && !isLoopbackHost("0.0.0.0"));
 * ```
 */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}
