/**
 * Retention of a recording directory, so that a vehicle never fills its own disk: recordings (*.mcap)
 * older than `maxAgeMs`, and then the oldest until the total fits `maxTotalBytes`, are deleted — never a
 * file still being written (`keep`). Oldest means by modification time, then by name. Only regular files
 * named *.mcap directly in the directory are considered; nothing else there is touched.
 */
import { readdirSync, statSync, statfsSync, unlinkSync } from "node:fs";
import { join } from "node:path";

export interface RetentionPolicy {
  /** Most bytes the directory's recordings may take together. */
  maxTotalBytes?: number;
  /** Recordings last written longer ago than this are deleted, ms. */
  maxAgeMs?: number;
}

export interface RetentionResult {
  deleted: Array<{ path: string; bytes: number; why: "age" | "size" }>;
  /** Recordings left, and their total size. */
  kept: number;
  totalBytes: number;
  /** Files that could not be deleted, with the reason. */
  failed: Array<{ path: string; error: string }>;
}

/** Applies `policy` to `dir` at wall time `nowMs`; `keep` are paths that must stay (open files). */
export function applyRetention(dir: string, policy: RetentionPolicy, nowMs: number, keep: ReadonlySet<string> = new Set()): RetentionResult {
  const files: Array<{ path: string; bytes: number; mtimeMs: number }> = [];
  for (const name of readdirSync(dir)) {
    if (!name.toLowerCase().endsWith(".mcap")) continue;
    const path = join(dir, name);
    try {
      const st = statSync(path);
      if (st.isFile()) files.push({ path, bytes: st.size, mtimeMs: st.mtimeMs });
    } catch {
      // vanished meanwhile
    }
  }
  files.sort((a, b) => a.mtimeMs - b.mtimeMs || (a.path < b.path ? -1 : 1));
  const result: RetentionResult = { deleted: [], kept: 0, totalBytes: 0, failed: [] };
  const remove = (f: (typeof files)[number], why: "age" | "size"): boolean => {
    try {
      unlinkSync(f.path);
      result.deleted.push({ path: f.path, bytes: f.bytes, why });
      return true;
    } catch (err) {
      result.failed.push({ path: f.path, error: (err as Error).message });
      return false;
    }
  };
  let left = files.filter((f) => keep.has(f.path) || policy.maxAgeMs === undefined || nowMs - f.mtimeMs <= policy.maxAgeMs || !remove(f, "age"));
  if (policy.maxTotalBytes !== undefined) {
    let total = left.reduce((n, f) => n + f.bytes, 0);
    const survivors: typeof files = [];
    for (const f of left) {
      if (total > policy.maxTotalBytes && !keep.has(f.path) && remove(f, "size")) total -= f.bytes;
      else survivors.push(f);
    }
    left = survivors;
  }
  result.kept = left.length;
  result.totalBytes = left.reduce((n, f) => n + f.bytes, 0);
  return result;
}

/** Bytes free for an unprivileged writer on the file system holding `dir`. */
export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
}
