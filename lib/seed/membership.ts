/**
 * The one membership state machine, owned by the seed: committed members
 * (rank = position), pending joins, pending leaves and failures, and the
 * checkpoint that applies them under a cluster-wide generation. Ranks stay
 * dense: leavers are removed and survivors keep their relative order,
 * joiners are appended in admission order. A change commits only when every
 * participant acknowledged it, and a change that removes failed members
 * needs a majority of the last agreed membership alive.
 *
 * @module
 */

import type { PeerEntry } from "./messages.ts";
import { hasQuorum } from "./health.ts";

/** A node known to the membership. */
export interface MemberRecord {
  /** Stable node id. */
  nodeId: string;
  /** Advertised mesh address. */
  addr: string;
}

/** A joiner admitted but not yet committed. */
export interface PendingJoin extends MemberRecord {
  /** True once it acknowledged its Welcome. */
  acked: boolean;
}

/** An in-flight checkpoint. */
export interface CheckpointProposal {
  /** The proposed generation. */
  generation: number;
  /** The proposed peer table. */
  peers: PeerEntry[];
  /** Nodes that must acknowledge. */
  participants: string[];
  /** Nodes that acknowledged. */
  acked: Set<string>;
  /** Joiners this proposal admits. */
  joining: string[];
  /** Members this proposal removes voluntarily. */
  leaving: string[];
  /** Members this proposal removes as failed. */
  failed: string[];
  /** True for the formation proposal. */
  formation: boolean;
}

/** The result of a commit. */
export interface CommitResult {
  /** The committed generation. */
  generation: number;
  /** The committed peer table. */
  peers: PeerEntry[];
  /** Joiners admitted. */
  joined: string[];
  /** Members who left voluntarily. */
  left: string[];
  /** Members removed as failed. */
  failed: string[];
  /** True for formation. */
  formation: boolean;
}

/** Why an admission was refused. */
export type AdmitRefusal = "full" | "duplicate" | "closed";

/** Options of {@link Membership}. */
export interface MembershipOptions {
  /** Members needed to form. */
  expectedWorldSize: number;
  /** Cap on live plus pending members after formation. @default {expectedWorldSize} */
  maxWorldSize?: number;
}

/** Phase of the cluster. */
export type MembershipPhase = "forming" | "running" | "closed";

/**
 * Seed-owned membership.
 *
 * @example
 * ```ts
 * import { Membership } from "./membership.ts";
 * const m = new Membership({ expectedWorldSize: 2, maxWorldSize: 3 });
 * m.admit("a", "h:1"); m.admit("b", "h:2");
 * const p = m.propose()!;
 * if ("generation" in p) { m.ack("a", p.generation); m.ack("b", p.generation); }
 * console.assert(m.phase === "running" && m.members.length === 2 && m.generation === 1);
 * ```
 */
export class Membership {
  /** Members needed to form. */
  readonly expectedWorldSize: number;
  /** Cap on live plus pending members. */
  readonly maxWorldSize: number;
  #phase: MembershipPhase = "forming";
  #generation = 0;
  #lastProposed = 0;
  #members: MemberRecord[] = [];
  #pending: PendingJoin[] = [];
  #leaving = new Set<string>();
  #failed = new Set<string>();
  #proposal: CheckpointProposal | undefined;
  #commits: CommitResult[] = [];

  /**
   * Creates the membership.
   *
   * @param options Sizes.
   */
  constructor(options: MembershipOptions) {
    const n = options.expectedWorldSize;
    const max = options.maxWorldSize ?? n;
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError("expectedWorldSize must be an integer ≥ 1");
    }
    if (!Number.isInteger(max) || max < n) {
      throw new RangeError(
        "maxWorldSize must be an integer ≥ expectedWorldSize",
      );
    }
    this.expectedWorldSize = n;
    this.maxWorldSize = max;
  }

  /** Current phase. */
  get phase(): MembershipPhase {
    return this.#phase;
  }

  /** Last committed generation (0 before formation). */
  get generation(): number {
    return this.#generation;
  }

  /** Committed members, rank order. */
  get members(): readonly MemberRecord[] {
    return this.#members;
  }

  /** Pending joiners, admission order. */
  get pending(): readonly PendingJoin[] {
    return this.#pending;
  }

  /** The in-flight proposal. */
  get proposal(): CheckpointProposal | undefined {
    return this.#proposal;
  }

  /** Committed peer table. */
  get peers(): PeerEntry[] {
    return toPeers(this.#members);
  }

  /** Members marked to leave or failed, not yet committed. */
  get pendingRemovals(): string[] {
    return [...this.#leaving, ...this.#failed];
  }

  /**
   * True when `nodeId` is a committed member.
   *
   * @param nodeId Node id.
   * @returns Whether it is.
   */
  isMember(nodeId: string): boolean {
    return this.#members.some((m) => m.nodeId === nodeId);
  }

  /**
   * The rank of a committed member, or the provisional rank of a pending joiner.
   *
   * @param nodeId Node id.
   * @returns The rank, or `undefined`.
   */
  rankOf(nodeId: string): number | undefined {
    const i = this.#members.findIndex((m) => m.nodeId === nodeId);
    if (i >= 0) return i;
    const j = this.#pending.findIndex((m) => m.nodeId === nodeId);
    return j >= 0 ? this.#members.length + j : undefined;
  }

  /**
   * Reserves a slot for a joiner (live plus pending counts against the cap).
   *
   * @param nodeId Node id.
   * @param addr Advertised address.
   * @returns The provisional rank, or why it was refused.
   */
  admit(
    nodeId: string,
    addr: string,
  ): { rank: number } | { refused: AdmitRefusal } {
    if (this.#phase === "closed") return { refused: "closed" };
    if (this.rankOf(nodeId) !== undefined) return { refused: "duplicate" };
    const cap = this.#phase === "forming"
      ? this.expectedWorldSize
      : this.maxWorldSize;
    if (this.#members.length + this.#pending.length >= cap) {
      return { refused: "full" };
    }
    this.#pending.push({ nodeId, addr, acked: false });
    return { rank: this.#members.length + this.#pending.length - 1 };
  }

  /**
   * Records a joiner's Welcome acknowledgement (elastic phase).
   *
   * @param nodeId Node id.
   */
  welcomed(nodeId: string): void {
    const p = this.#pending.find((j) => j.nodeId === nodeId);
    if (p !== undefined) p.acked = true;
  }

  /**
   * A pending joiner went away: its slot (and provisional rank) is freed.
   * An in-flight proposal that included it is aborted.
   *
   * @param nodeId Node id.
   * @returns Whether anything changed.
   */
  release(nodeId: string): boolean {
    const i = this.#pending.findIndex((j) => j.nodeId === nodeId);
    if (i < 0) return false;
    this.#pending.splice(i, 1);
    if (this.#proposal?.participants.includes(nodeId)) this.#abort();
    return true;
  }

  /**
   * A committed member asked to leave.
   *
   * @param nodeId Node id.
   */
  leave(nodeId: string): void {
    if (this.isMember(nodeId)) this.#leaving.add(nodeId);
  }

  /**
   * A committed member failed (disconnected or silent). An in-flight
   * proposal that needs it is aborted.
   *
   * @param nodeId Node id.
   */
  fail(nodeId: string): void {
    if (!this.isMember(nodeId)) {
      this.release(nodeId);
      return;
    }
    this.#failed.add(nodeId);
    this.#leaving.delete(nodeId);
    if (this.#proposal?.participants.includes(nodeId)) this.#abort();
  }

  #abort(): void {
    this.#proposal = undefined;
  }

  /** True when a checkpoint has something to apply. */
  get hasChanges(): boolean {
    if (this.#phase === "forming") {
      return this.#pending.length === this.expectedWorldSize;
    }
    return this.#leaving.size > 0 || this.#failed.size > 0 ||
      this.#pending.some((j) => j.acked);
  }

  /**
   * Starts the next checkpoint when there is something to apply and none is
   * in flight.
   *
   * @returns The new proposal, `{blocked: "no_quorum"}`, or `undefined`.
   */
  propose(): CheckpointProposal | { blocked: "no_quorum" } | undefined {
    if (this.#proposal !== undefined || this.#phase === "closed") {
      return undefined;
    }
    if (!this.hasChanges) return undefined;
    if (this.#phase === "forming") {
      const joining = this.#pending.map((j) => j.nodeId);
      this.#proposal = {
        generation: ++this.#lastProposed,
        peers: toPeers(this.#pending),
        participants: joining,
        acked: new Set(),
        joining,
        leaving: [],
        failed: [],
        formation: true,
      };
      return this.#proposal;
    }
    const alive = this.#members.length - this.#failed.size;
    if (this.#failed.size > 0 && !hasQuorum(this.#members.length, alive)) {
      return { blocked: "no_quorum" };
    }
    const removed = new Set([...this.#leaving, ...this.#failed]);
    const survivors = this.#members.filter((m) => !removed.has(m.nodeId));
    const joiners = this.#pending.filter((j) => j.acked);
    const next = [...survivors, ...joiners];
    this.#proposal = {
      generation: ++this.#lastProposed,
      peers: toPeers(next),
      participants: next.map((m) => m.nodeId),
      acked: new Set(),
      joining: joiners.map((j) => j.nodeId),
      leaving: [...this.#leaving],
      failed: [...this.#failed],
      formation: false,
    };
    return this.#proposal;
  }

  /**
   * Records an acknowledgement; commits when every participant acknowledged.
   *
   * @param nodeId Who acknowledged.
   * @param generation The generation acknowledged.
   * @returns The commit, when this acknowledgement completed it.
   */
  ack(nodeId: string, generation: number): CommitResult | undefined {
    const p = this.#proposal;
    if (p === undefined || p.generation !== generation) return undefined;
    if (!p.participants.includes(nodeId)) return undefined;
    p.acked.add(nodeId);
    if (p.acked.size < p.participants.length) return undefined;
    this.#proposal = undefined;
    const byId = new Map(
      [...this.#members, ...this.#pending].map((m) => [m.nodeId, m]),
    );
    this.#members = p.peers.map((e) => ({
      nodeId: e.nodeId,
      addr: byId.get(e.nodeId)?.addr ?? e.addr,
    }));
    const joined = new Set(p.joining);
    this.#pending = this.#pending.filter((j) => !joined.has(j.nodeId));
    for (const id of p.leaving) this.#leaving.delete(id);
    for (const id of p.failed) this.#failed.delete(id);
    this.#generation = p.generation;
    if (this.#phase === "forming") this.#phase = "running";
    const result: CommitResult = {
      generation: p.generation,
      peers: p.peers,
      joined: p.joining,
      left: p.leaving,
      failed: p.failed,
      formation: p.formation,
    };
    this.#commits.push(result);
    return result;
  }

  /** Closes the membership: no more admissions or checkpoints. */
  close(): void {
    this.#phase = "closed";
    this.#proposal = undefined;
  }
}

function toPeers(list: readonly MemberRecord[]): PeerEntry[] {
  return list.map((m, rank) => ({ rank, nodeId: m.nodeId, addr: m.addr }));
}
