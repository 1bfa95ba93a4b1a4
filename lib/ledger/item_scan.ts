/**
 * One item through the scanner, pure: archives are expanded (zip, tar,
 * gzip, tar.gz; nested up to the depth limit) and each member scanned;
 * binary content is skipped unless asked for; text goes through the
 * {@link ScanEngine}.
 *
 * @module
 */

import {
  archiveKind,
  type ArchiveLimits,
  DEFAULT_ARCHIVE_LIMITS,
  expandArchive,
} from "./archive.ts";
import type { EngineFinding, ScanEngine } from "./engine.ts";
import { LedgerError } from "./errors.ts";

/** How many leading bytes are checked for NUL to call content binary. */
export const BINARY_SNIFF_BYTES = 8000;

/**
 * Whether content looks binary: a NUL byte in the first 8000 bytes (the
 * heuristic git uses).
 *
 * @param bytes The content.
 * @returns True when binary.
 *
 * @example
 * ```ts
 * import { looksBinary } from "./item_scan.ts";
 * console.assert(looksBinary(new Uint8Array([65, 0, 66])) && !looksBinary(new Uint8Array([65])));
 * ```
 */
export function looksBinary(bytes: Uint8Array): boolean {
  // A native search instead of a loop over the bytes.
  return bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0);
}

/** A finding with the archive member it was found in. */
export interface ItemFinding extends EngineFinding {
  /** Member path inside the item (`inner/a.txt`, nested `x.zip!y.txt`), or null. */
  readonly member: string | null;
}

/** What one item gave. */
export interface ItemScanResult {
  /** Findings, in member then offset order. */
  readonly findings: ItemFinding[];
  /** Archive members scanned (0 for a plain item). */
  readonly membersScanned: number;
  /** Bytes run through the engine (expanded members included). */
  readonly bytesScanned: number;
  /** Whether the item (or all its content) was skipped as binary. */
  readonly skippedBinary: boolean;
  /** Secret-free remarks (a member over a limit, a corrupt archive). */
  readonly notes: string[];
}

/** Options for {@link scanItem}. */
export interface ScanItemOptions {
  /** The engine. */
  readonly engine: ScanEngine;
  /** Scan binary content. */
  readonly scanBinary: boolean;
  /** Do not expand archives. */
  readonly skipArchives: boolean;
  /** Archive limits. */
  readonly archiveLimits?: ArchiveLimits;
}

/**
 * Scans one item.
 *
 * @param bytes The item's content.
 * @param path Its path (for rules and allowlists).
 * @param options Engine and switches.
 * @returns Findings and counts.
 *
 * @example
 * ```ts
 * import { scanItem } from "./item_scan.ts";
 * import { ScanEngine } from "./engine.ts";
 * import { defaultRuleSet } from "./default_rules.ts";
 * import { zipSync } from "fflate";
 * const engine = new ScanEngine({ rules: defaultRuleSet(), anchorMode: "manual" });
 * const zip = zipSync({ "k.txt": new TextEncoder().encode("AKIAQYLPMN5HFIQR7XYZ") });
 * const r = scanItem(zip, "a.zip", { engine, scanBinary: false, skipArchives: false });
 * console.assert(r.findings[0].member === "k.txt");
 * ```
 */
export function scanItem(
  bytes: Uint8Array,
  path: string,
  options: ScanItemOptions,
): ItemScanResult {
  const limits = options.archiveLimits ?? DEFAULT_ARCHIVE_LIMITS;
  const findings: ItemFinding[] = [];
  const notes: string[] = [];
  let members = 0;
  let scanned = 0;
  let binarySkips = 0;
  let texts = 0;
  const visit = (
    data: Uint8Array,
    member: string | null,
    depth: number,
  ): void => {
    const kind = options.skipArchives ? null : archiveKind(data);
    if (kind !== null && depth < limits.maxDepth) {
      let list;
      try {
        list = expandArchive(data, kind, member ?? path, limits);
      } catch (error) {
        notes.push(
          `${member ?? path}: ${
            error instanceof LedgerError ? error.message : "unreadable archive"
          }`,
        );
        return;
      }
      for (const m of list) {
        const name = member === null ? m.name : `${member}!${m.name}`;
        if (m.bytes === null) {
          notes.push(`${path}!${name}: not expanded (${m.skipped})`);
          continue;
        }
        members++;
        visit(m.bytes, name, depth + 1);
      }
      return;
    }
    if (!options.scanBinary && looksBinary(data)) {
      binarySkips++;
      return;
    }
    texts++;
    scanned += data.length;
    const full = member === null ? path : `${path}!${member}`;
    for (const f of options.engine.scan(data, full)) {
      findings.push({ ...f, member });
    }
  };
  visit(bytes, null, 0);
  return {
    findings,
    membersScanned: members,
    bytesScanned: scanned,
    skippedBinary: texts === 0 && binarySkips > 0,
    notes,
  };
}
