/**
 * The local scan (`--mode=direct`): walks a directory or a git
 * repository's blobs, skips every item the done-ledger already has under the
 * same policy hash, scans the rest, and writes done rows and findings in
 * one transaction per batch. Budgets stop the scan cleanly between items.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";
import type { LocalScanConfig } from "../config.ts";
import { DEFAULT_DECODE_DEPTH, ScanEngine } from "../engine.ts";
import { LedgerError } from "../errors.ts";
import {
  deriveId,
  fsOvid,
  gitOvid,
  ID_CONTEXTS,
  policyHash as computePolicyHash,
  ruleFingerprint,
  secretHash,
  stableItemId,
} from "../ids.ts";
import { type ItemScanResult, scanItem } from "../item_scan.ts";
import type { CoordinationRecorder } from "../recorder.ts";
import {
  type BudgetStop,
  type GitProvenance,
  type RecordedFinding,
  type ScanFinding,
  type ScanReport,
  secretDigest,
} from "../report.ts";
import type { RuleSet } from "../rules.ts";
import {
  DONE_STATUS,
  type DoneLedgerRecord,
  type FindingRecord,
  type LedgerBackend,
  type ObservationRecord,
  type OccurrenceRecord,
} from "../store.ts";
import {
  type GitBlob,
  GitBlobReader,
  gitRefsFingerprint,
  listGitBlobs,
} from "./git_source.ts";

/** The tenant id of local scans (32 zero bytes). */
export const LOCAL_TENANT_ID: Uint8Array = new Uint8Array(32);

/** Dependencies of {@link runLocalScan}. */
export interface LocalScanDeps {
  /** The rules. */
  readonly rules: RuleSet;
  /** The ledger, or null to scan everything and record nothing. */
  readonly ledger: LedgerBackend | null;
  /** The key of the secret hashes stored in the ledger (32 bytes). */
  readonly secretKey: Uint8Array;
  /** Telemetry. */
  readonly recorder: CoordinationRecorder;
  /** Milliseconds since the epoch. */
  readonly now?: () => number;
  /**
   * Content hashes of files by `(size, mtime, inode)`, so a rescan need not
   * read unchanged files (as git's index does). Optional.
   */
  readonly fileVersionCache?: FileVersionCache;
  /**
   * The blob listing of a repository by its refs fingerprint, so a rescan
   * of an unchanged repository does not walk its history again. Optional.
   */
  readonly gitListingCache?: GitListingCache;
  /**
   * Absolute directories never scanned (the ledger's own state directory
   * when it lies inside the scanned tree).
   */
  readonly exclude?: readonly string[];
  /**
   * Items per ledger batch: files (also capped by `batchBytes`) default to
   * 1024, git blobs to 256. Fewer, larger transactions rewrite fewer
   * index pages per item.
   */
  readonly batchItems?: number;
  /** Bytes per batch of file reads. @default {33554432} */
  readonly batchBytes?: number;
}

/** A file's stat stamp. */
export interface FileStamp {
  /** Size in bytes. */
  readonly size: number;
  /** Modification time, ms since the epoch. */
  readonly mtimeMs: number;
  /** Inode number (0 when unknown). */
  readonly ino: number;
}

/** One cached file version. */
export interface FileVersionEntry extends FileStamp {
  /** Path relative to the root. */
  readonly path: string;
  /** The object-version id (path and SHA-256 of the content). */
  readonly ovid: Uint8Array;
  /**
   * The policy hash under which the done-ledger recorded this version as
   * done, or null. Lets a rescan skip the done-ledger lookup.
   */
  readonly donePolicy: Uint8Array | null;
  /** The findings count of that done row (0 when none). */
  readonly doneFindings: number;
}

/** What the cache knows about a file whose stamp matched. */
export interface FileVersionHit {
  /** The object-version id. */
  readonly ovid: Uint8Array;
  /** See {@link FileVersionEntry.donePolicy}. */
  readonly donePolicy: Uint8Array | null;
  /** See {@link FileVersionEntry.doneFindings}. */
  readonly doneFindings: number;
}

/** A file-version cache keyed by root and path. */
export interface FileVersionCache {
  /**
   * The cached version of each file whose stamp matches exactly and whose
   * mtime is safely older than when the entry was recorded; undefined
   * otherwise. Input order.
   */
  lookup(
    root: string,
    files: readonly (FileStamp & { readonly path: string })[],
  ): Promise<(FileVersionHit | undefined)[]>;
  /** Records entries (replacing older ones). */
  store(
    root: string,
    entries: readonly FileVersionEntry[],
    recordedAt: number,
  ): Promise<void>;
}

/** A cache of git blob listings keyed by repository and refs fingerprint. */
export interface GitListingCache {
  /** The listing recorded for exactly this fingerprint, or undefined. */
  lookup(root: string, refs: Uint8Array): Promise<GitBlob[] | undefined>;
  /** Records the listing (replacing the repository's previous one). */
  store(
    root: string,
    refs: Uint8Array,
    blobs: readonly GitBlob[],
  ): Promise<void>;
}

interface Candidate {
  path: string;
  ovid: Uint8Array;
  /** The file's stamp (fs only). */
  stamp?: FileStamp;
  /** Set when the item is known done under this policy (its findings count). */
  doneFindings?: number;
  /** Whether the cache already holds this version as done under this policy. */
  cachedDone?: boolean;
  bytes: Uint8Array | null;
  size: number;
  git: GitProvenance | null;
}

const SHARD = "local";

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/**
 * Every regular file under `root` (`.git` pruned, symlinks not followed)
 * with its stamp, from one GNU `find -printf`; null when `find` is missing,
 * is not GNU find, or reports any error (the caller then walks itself and
 * reports each failure).
 */
async function listWithFind(
  root: string,
): Promise<{ path: string; stamp: FileStamp }[] | null> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("find", {
      args: [
        root,
        "-name",
        ".git",
        "-prune",
        "-o",
        "-type",
        "f",
        "-printf",
        "%s %T@ %i %P\\0",
      ],
      stdout: "piped",
      stderr: "null",
      env: { LC_ALL: "C" },
    }).output();
  } catch {
    return null;
  }
  if (!out.success) return null;
  const text = new TextDecoder().decode(out.stdout);
  const entries: { path: string; stamp: FileStamp }[] = [];
  // Records are "SIZE SECONDS[.FRACTION] INODE PATH\0"; parsed with indexOf
  // (a regex per record costs more than the rest of an unchanged rescan).
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf("\0", at);
    const stop = end < 0 ? text.length : end;
    const s1 = text.indexOf(" ", at);
    const s2 = s1 < 0 ? -1 : text.indexOf(" ", s1 + 1);
    const s3 = s2 < 0 ? -1 : text.indexOf(" ", s2 + 1);
    if (s3 < 0 || s3 + 1 >= stop) return null;
    const size = text.slice(at, s1);
    const time = text.slice(s1 + 1, s2);
    const ino = text.slice(s2 + 1, s3);
    const dot = time.indexOf(".");
    const whole = dot < 0 ? time : time.slice(0, dot);
    const fraction = dot < 0 ? "" : time.slice(dot + 1);
    if (
      !DIGITS.test(size) || !DIGITS.test(whole) || !DIGITS.test(ino) ||
      (dot >= 0 && !DIGITS.test(fraction))
    ) return null;
    const ms = Number(whole) * 1000 +
      Number(fraction.padEnd(3, "0").slice(0, 3));
    entries.push({
      path: text.slice(s3 + 1, stop),
      stamp: { size: Number(size), mtimeMs: ms, ino: Number(ino) },
    });
    at = stop + 1;
  }
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return entries;
}

const DIGITS = /^\d+$/;

/**
 * Reads a file whose size is known from its stat into a buffer of that size
 * (one open, one or two reads, no growing buffer: about half the CPU of
 * `Deno.readFileSync`). Null when it fails or the file has grown since the
 * stat; the caller then reads it the general way, which also names the error.
 */
function readSized(path: string, size: number): Uint8Array | null {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return null;
  }
  try {
    const buffer = new Uint8Array(size + 1);
    let at = 0;
    while (at < buffer.length) {
      const n = readSync(fd, buffer, at, buffer.length - at, null);
      if (n === 0) return buffer.subarray(0, at);
      at += n;
    }
    return null;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

function walkSync(root: string): string[] {
  const out: string[] = [];
  const visit = (rel: string): void => {
    const dir = rel === "" ? root : `${root}/${rel}`;
    const entries = [...Deno.readDirSync(dir)].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0
    );
    for (const e of entries) {
      const path = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory) {
        if (e.name !== ".git") visit(path);
      } else if (e.isFile) out.push(path);
    }
  };
  visit("");
  return out;
}

/**
 * Runs a local scan.
 *
 * @param config The resolved direct launch.
 * @param deps Rules, ledger, key, recorder.
 * @returns The report.
 * @throws {LedgerError} `source_failed` / `store_failed` on run-time failures.
 */
export async function runLocalScan(
  config: LocalScanConfig,
  deps: LocalScanDeps,
): Promise<ScanReport> {
  const now = deps.now ?? Date.now;
  const started = now();
  const depth = config.scan.decodeDepth ?? DEFAULT_DECODE_DEPTH;
  const engine = new ScanEngine({
    rules: deps.rules,
    anchorMode: config.scan.anchorMode,
    decodeDepth: depth,
  });
  const policy = computePolicyHash(deps.rules, config.scan, depth);
  const runId = BigInt(started);
  const fingerprints = deps.rules.rules.map((r) =>
    ruleFingerprint(r.id, r.regexSource)
  );
  const ruleIndex = new Map(deps.rules.rules.map((r, i) => [r.id, i]));
  const batchItems = deps.batchItems ?? 1024;
  const gitBatchItems = deps.batchItems ?? 256;
  const batchBytes = deps.batchBytes ?? 32 * 1024 * 1024;

  const findings: ScanFinding[] = [];
  let items = 0;
  let bytes = 0;
  let unchanged = 0;
  let previous = 0;
  const recorded: RecordedFinding[] = [];
  const ruleByFingerprint = new Map(
    deps.rules.rules.map((r, i) => [hex(fingerprints[i]), r]),
  );
  let binary = 0;
  let members = 0;
  let failed = 0;
  let stoppedBy: BudgetStop | null = null;

  const diagnostic = (level: string, message: string): void =>
    deps.recorder.recordCore(SHARD, { kind: "diagnostic", level, message });

  /** Filters out items the ledger already has; returns the rest. */
  const filterDone = async (batch: Candidate[]): Promise<Candidate[]> => {
    if (deps.ledger === null || batch.length === 0) return batch;
    const todo: Candidate[] = [];
    const withFindings: Candidate[] = [];
    const ask = batch.filter((c) => c.cachedDone !== true);
    const rows = ask.length === 0 ? [] : await deps.ledger.done.batchGetDone(
      LOCAL_TENANT_ID,
      policy,
      ask.map((c) => c.ovid),
    );
    const found = new Map<Candidate, number>();
    ask.forEach((c, i) => {
      const row = rows[i];
      if (row !== undefined && row.status >= DONE_STATUS.FAILED_PERMANENT) {
        found.set(c, row.findingsCount);
      }
    });
    for (const c of batch) {
      const count = c.cachedDone === true ? c.doneFindings : found.get(c);
      if (count === undefined) {
        todo.push(c);
        continue;
      }
      c.doneFindings = count;
      unchanged++;
      previous += count;
      if (count > 0) withFindings.push(c);
    }
    if (withFindings.length > 0) {
      const stored = await deps.ledger.findings.batchGetObservations(
        LOCAL_TENANT_ID,
        policy,
        withFindings.map((c) => c.ovid),
      );
      stored.forEach((list, k) => {
        for (const s of list) {
          const rule = ruleByFingerprint.get(hex(s.finding.ruleFingerprint));
          const where = parseLocation(s.observation.locationDisplay);
          recorded.push({
            ruleId: rule?.id ?? "(rule no longer in the rule set)",
            description: rule?.description ?? "",
            location: s.observation.locationDisplay ?? withFindings[k].path,
            path: withFindings[k].path,
            line: where.line,
            column: where.column,
            findingId: hex(s.finding.findingId),
            git: withFindings[k].git,
          });
        }
      });
    }
    return todo;
  };

  /** Scans loaded candidates and records them; false when a budget stopped it. */
  const scanBatch = async (batch: Candidate[]): Promise<boolean> => {
    const done: DoneLedgerRecord[] = [];
    const fRows: FindingRecord[] = [];
    const oRows: OccurrenceRecord[] = [];
    const bRows: ObservationRecord[] = [];
    let keepGoing = true;
    for (const c of batch) {
      if (c.bytes === null) continue;
      if (items + 1 > config.budgets.maxItems) {
        stoppedBy = "max_items";
        keepGoing = false;
        break;
      }
      if (bytes + c.bytes.length > config.budgets.maxBytes) {
        stoppedBy = "max_bytes";
        keepGoing = false;
        break;
      }
      const t0 = now();
      let result: ItemScanResult;
      try {
        result = engine.pathAllowed(c.path)
          ? {
            findings: [],
            membersScanned: 0,
            bytesScanned: 0,
            skippedBinary: false,
            notes: [],
          }
          : scanItem(c.bytes, c.path, {
            engine,
            scanBinary: config.scan.scanBinary,
            skipArchives: config.scan.skipArchives,
          });
      } catch (error) {
        failed++;
        diagnostic(
          "warn",
          `${c.path}: ${(error as Error).message ?? "scan failed"}`,
        );
        continue;
      }
      items++;
      bytes += c.bytes.length;
      members += result.membersScanned;
      for (const note of result.notes) diagnostic("warn", note);
      if (result.skippedBinary) binary++;
      let item: Uint8Array | null = null;
      for (const f of result.findings) {
        const digest = secretDigest(f.secret);
        const finding: ScanFinding = {
          ruleId: f.ruleId,
          description: f.description,
          path: c.path,
          member: f.member,
          line: f.line,
          column: f.column,
          start: f.start,
          end: f.end,
          encodings: f.encodings,
          secretDigest: digest,
          secret: f.secret,
          git: c.git,
        };
        findings.push(finding);
        deps.recorder.recordCore(SHARD, {
          kind: "finding",
          ruleId: ruleIndex.get(f.ruleId) ?? -1,
          ruleName: f.ruleId,
          objectPath: new TextEncoder().encode(
            f.member === null ? c.path : `${c.path}!${f.member}`,
          ),
          changeKind: null,
          commitId: c.git?.commit || null,
          sizeHint: c.bytes.length,
          confidenceScore: 1,
        });
        if (deps.ledger === null) continue;
        item ??= stableItemId(config.source, c.path);
        const memberItem = f.member === null
          ? item
          : stableItemId(config.source, `${c.path}!${f.member}`);
        const findingId = deriveId(ID_CONTEXTS.finding, [
          LOCAL_TENANT_ID,
          memberItem,
          fingerprints[f.ruleIndex],
          secretHash(deps.secretKey, f.secret),
        ]);
        const memberVersion = f.member === null
          ? c.ovid
          : deriveId(ID_CONTEXTS.ovid, [c.ovid, f.member]);
        const length = BigInt(Math.max(1, f.end - f.start));
        const occurrenceId = deriveId(ID_CONTEXTS.occurrence, [
          LOCAL_TENANT_ID,
          findingId,
          memberVersion,
          f.start,
          length,
        ]);
        fRows.push({
          tenantId: LOCAL_TENANT_ID,
          findingId,
          stableItemId: memberItem,
          ruleFingerprint: fingerprints[f.ruleIndex],
          secretHash: secretHash(deps.secretKey, f.secret),
        });
        oRows.push({
          tenantId: LOCAL_TENANT_ID,
          occurrenceId,
          findingId,
          objectVersionId: memberVersion,
          byteOffset: BigInt(f.start),
          byteLength: length,
        });
        const display = `${
          f.member === null ? c.path : `${c.path}!${f.member}`
        }:${f.line}:${f.column}`;
        bRows.push({
          tenantId: LOCAL_TENANT_ID,
          observationId: deriveId(ID_CONTEXTS.observation, [
            LOCAL_TENANT_ID,
            policy,
            occurrenceId,
          ]),
          occurrenceId,
          policyHash: policy,
          ovidHash: c.ovid,
          runId,
          shardId: 0n,
          fenceEpoch: 0n,
          seenAt: BigInt(now()),
          locationDisplay: new TextEncoder().encode(display).length <= 4096
            ? display
            : null,
          locationUrl: null,
        });
      }
      const count = result.findings.length;
      c.doneFindings = Math.min(count, 0x7fffffff);
      done.push({
        tenantId: LOCAL_TENANT_ID,
        policyHash: policy,
        ovidHash: c.ovid,
        status: result.skippedBinary
          ? DONE_STATUS.SKIPPED
          : count > 0
          ? DONE_STATUS.SCANNED_WITH_FINDINGS
          : DONE_STATUS.SCANNED_CLEAN,
        bytesScanned: BigInt(result.bytesScanned),
        findingsCount: Math.min(count, 0x7fffffff),
        fenceEpoch: 0n,
        startedAt: BigInt(t0),
        finishedAt: BigInt(Math.max(t0, now())),
        runId,
        shardId: 0n,
        errorCode: result.skippedBinary ? "binary" : null,
      });
    }
    if (deps.ledger !== null && done.length > 0) {
      // Dedupe rows that repeat within the batch (same content twice).
      if (fRows.length > 0) {
        await deps.ledger.findings.writeFindings({
          findings: uniqueBy(fRows, (r) => hex(r.findingId)),
          occurrences: uniqueBy(oRows, (r) => hex(r.occurrenceId)),
          observations: uniqueBy(bRows, (r) => hex(r.occurrenceId)),
        });
      }
      await deps.ledger.done.upsertDone(done);
    }
    deps.recorder.recordCore(SHARD, {
      kind: "progress",
      stage: "scan",
      itemsScanned: items,
      bytesScanned: bytes,
      throughputMibS: bytes / 1048576 /
        Math.max(0.001, (now() - started) / 1000),
    });
    return keepGoing;
  };

  const root = config.path;
  if (config.source === "fs") {
    let stat: Deno.FileInfo;
    try {
      stat = await Deno.stat(root);
    } catch (error) {
      throw new LedgerError(
        "source_failed",
        `cannot read ${root}: ${(error as Error).message}`,
      );
    }
    const base = stat.isFile
      ? root.slice(0, root.lastIndexOf("/")) || "/"
      : root;
    // Stamps from one `find` when it is there (one process instead of a stat
    // call per file); otherwise a walk with a stat per file.
    const listed = stat.isFile ? null : await listWithFind(root);
    const excluded = (rel: string): boolean =>
      (deps.exclude ?? []).some((dir) =>
        `${base}/${rel}`.startsWith(dir.replace(/\/+$/, "") + "/")
      );
    const kept = listed?.filter((e) => !excluded(e.path)) ?? null;
    const paths = kept?.map((e) => e.path) ??
      (stat.isFile ? [root.split("/").pop()!] : walkSync(root)).filter((p) =>
        !excluded(p)
      );
    const stamps = kept === null ? null : kept.map((e) => e.stamp);
    const cache = deps.fileVersionCache ?? null;
    let at = 0;
    while (at < paths.length && stoppedBy === null) {
      // One batch: at most batchItems files and batchBytes bytes (by stat).
      const batch: { rel: string; info: FileStamp }[] = [];
      let size = 0;
      while (
        at < paths.length && batch.length < batchItems &&
        (batch.length === 0 || size < batchBytes)
      ) {
        const rel = paths[at];
        const listedStamp = stamps?.[at];
        at++;
        try {
          let stamp: FileStamp;
          if (listedStamp !== undefined) stamp = listedStamp;
          else {
            const info = Deno.statSync(`${base}/${rel}`);
            stamp = {
              size: info.size,
              mtimeMs: info.mtime?.getTime() ?? 0,
              ino: info.ino ?? 0,
            };
          }
          batch.push({ rel, info: stamp });
          size += stamp.size;
        } catch (error) {
          failed++;
          diagnostic("warn", `${rel}: ${(error as Error).name}`);
        }
      }
      const known = cache === null ? [] : await cache.lookup(
        base,
        batch.map((b) => ({ path: b.rel, ...b.info })),
      );
      const candidates: Candidate[] = [];
      const read = (rel: string, size: number): Uint8Array | null => {
        try {
          return readSized(`${base}/${rel}`, size) ??
            Deno.readFileSync(`${base}/${rel}`);
        } catch (error) {
          failed++;
          diagnostic("warn", `${rel}: ${(error as Error).name}`);
          return null;
        }
      };
      for (let k = 0; k < batch.length; k++) {
        const { rel, info } = batch[k];
        const hit = known[k];
        let ovid = hit?.ovid;
        let data: Uint8Array | null = null;
        let stamp = info;
        if (ovid === undefined) {
          data = read(rel, info.size);
          if (data === null) continue;
          const hash = createHash("sha256").update(data).digest();
          ovid = fsOvid(rel, new Uint8Array(hash));
          stamp = { ...info, size: data.length };
        }
        const cachedDone = hit !== undefined && hit.donePolicy !== null &&
          sameBytes(hit.donePolicy, policy);
        candidates.push({
          path: rel,
          ovid,
          stamp,
          cachedDone,
          doneFindings: cachedDone ? hit.doneFindings : undefined,
          bytes: data,
          size: info.size,
          git: null,
        });
      }
      const todo = await filterDone(candidates);
      for (const c of todo) {
        if (c.bytes === null) c.bytes = read(c.path, c.size);
      }
      const going = await scanBatch(todo);
      if (cache !== null) {
        const entries: FileVersionEntry[] = [];
        for (const c of candidates) {
          if (c.cachedDone === true || c.stamp === undefined) continue;
          entries.push({
            path: c.path,
            ...c.stamp,
            ovid: c.ovid,
            donePolicy: c.doneFindings === undefined ? null : policy,
            doneFindings: c.doneFindings ?? 0,
          });
        }
        if (entries.length > 0) await cache.store(base, entries, now());
      }
      if (!going) break;
    }
  } else {
    const listingCache = deps.gitListingCache ?? null;
    const refs = await gitRefsFingerprint(root);
    let blobs = await listingCache?.lookup(root, refs);
    if (blobs === undefined) {
      blobs = await listGitBlobs(root);
      await listingCache?.store(root, refs, blobs);
    }
    const reader = new GitBlobReader(root);
    try {
      for (
        let i = 0;
        i < blobs.length && stoppedBy === null;
        i += gitBatchItems
      ) {
        const part = blobs.slice(i, i + gitBatchItems).map((b): Candidate => ({
          path: b.path,
          ovid: gitOvid(b.oid),
          bytes: null,
          size: 0,
          git: {
            commit: b.commit,
            author: b.author,
            email: b.email,
            time: b.time,
            blob: b.oid,
          },
        }));
        const todo = await filterDone(part);
        if (todo.length === 0) continue;
        const events = await reader.read(todo.map((c) => c.git!.blob));
        events.forEach((e, k) => {
          if (e.kind === "object") todo[k].bytes = e.bytes;
          else {
            failed++;
            diagnostic("warn", `${todo[k].path}: blob ${e.kind}`);
          }
        });
        if (!(await scanBatch(todo))) break;
      }
    } finally {
      await reader.close();
    }
  }

  const elapsed = now() - started;
  deps.recorder.recordCore(SHARD, {
    kind: "summary",
    status: stoppedBy === null ? "completed" : "budget_exhausted",
    itemsScanned: items,
    bytesScanned: bytes,
    findingsEmitted: findings.length,
  });
  return {
    summary: {
      source: config.source,
      root,
      itemsScanned: items,
      bytesScanned: bytes,
      findingsEmitted: findings.length,
      itemsUnchanged: unchanged,
      findingsPreviouslyRecorded: previous,
      itemsBinary: binary,
      archiveMembers: members,
      itemsFailed: failed,
      stoppedBy,
      policyHash: hex(policy),
      elapsedMs: elapsed,
    },
    findings,
    recorded,
  };
}

function parseLocation(
  display: string | null,
): { line: number; column: number } {
  const m = display === null ? null : /:(\d+):(\d+)$/.exec(display);
  return m === null
    ? { line: 1, column: 1 }
    : { line: Number(m[1]), column: Number(m[2]) };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function uniqueBy<T>(rows: T[], key: (row: T) => string): T[] {
  const seen = new Set<string>();
  return rows.filter((r) => {
    const k = key(r);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
