/**
 * Cluster formation, Deno binding: {@link SeedNode} (bootstrap listener,
 * ephemeral CA), {@link joinCluster} (key pair and CSR made locally, mTLS
 * mesh with control and bulk lanes), token sources, and certificate helpers.
 *
 * @example
 * ```ts
 * import { generateToken } from "./mod.ts";
 * console.assert(generateToken().length === 32);
 * ```
 *
 * @module
 */

export {
  SeedNode,
  type SeedNodeOptions,
  type SeedSnapshot,
} from "./seed_node.ts";
export {
  type ClusterMember,
  joinCluster,
  type JoinOptions,
  type MemberEvent,
  type MemberMessage,
} from "./joiner.ts";
export type { MeshEvent, MeshLane } from "./mesh.ts";
export {
  LOG_LEVELS,
  type LogFields,
  type Logger,
  type LogLevel,
} from "../../net/log.ts";
export type { FrameDirection, FrameTap } from "./framed_socket.ts";
export {
  generateToken,
  readTokenFile,
  resolveJoinToken,
  resolveSeedToken,
  TOKEN_ENV,
  type TokenSource,
  writeTokenFile,
} from "./token.ts";
export {
  type CertificateFacts,
  type ClusterCa,
  type ClusterCaOptions,
  createClusterCa,
  createCsr,
  derToPem,
  describeCertificate,
  generateNodeKeys,
  type IssueLeafRequest,
  privateKeyPem,
  verifyIssuedBy,
} from "./certs.ts";
