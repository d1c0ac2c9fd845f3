/**
 * Comparing two decision streams (recorded live vs replayed), as openpilot's process replay does:
 * matched by frame stamp, field by field, with an ignore list (e.g. measured latency) and a numeric
 * tolerance. Works on JSON views (codec.toJSON) so enums compare by name and 64-bit ints exactly.
 */
export interface FieldDiff {
  /** The frame stamp (ns, decimal) both decisions are for. */
  key: string;
  /** Dotted path, e.g. "probabilities.2.probability". */
  field: string;
  live: unknown;
  replayed: unknown;
}

export interface Comparison {
  live: number;
  replayed: number;
  /** Frames decided in both. */
  matched: number;
  /** Matched and equal on every compared field. */
  identical: number;
  differing: number;
  /** Decided live, not on replay; and the other way round. */
  missingInReplay: number;
  extraInReplay: number;
  ignored: string[];
  tolerance: number;
  /** The first differences (at most `maxDiffs`). */
  diffs: FieldDiff[];
  missingKeys: string[];
  extraKeys: string[];
}

export interface CompareOptions {
  /** Field names (any depth) or dotted paths to skip. */
  ignore?: readonly string[];
  /** Absolute tolerance for numbers (default 0: exact). */
  tolerance?: number;
  maxDiffs?: number;
}

/** Decision JSON views keyed by frame stamp; a later one with the same key replaces an earlier one. */
export function compareDecisions(live: ReadonlyMap<string, unknown>, replayed: ReadonlyMap<string, unknown>, options: CompareOptions = {}): Comparison {
  const ignore = new Set(options.ignore ?? []);
  const tolerance = options.tolerance ?? 0;
  const maxDiffs = options.maxDiffs ?? 100;
  const c: Comparison = {
    live: live.size,
    replayed: replayed.size,
    matched: 0,
    identical: 0,
    differing: 0,
    missingInReplay: 0,
    extraInReplay: 0,
    ignored: [...ignore].sort(),
    tolerance,
    diffs: [],
    missingKeys: [],
    extraKeys: [],
  };
  for (const [key, a] of live) {
    if (!replayed.has(key)) {
      c.missingInReplay++;
      if (c.missingKeys.length < maxDiffs) c.missingKeys.push(key);
      continue;
    }
    c.matched++;
    let differs = false;
    walk(a, replayed.get(key), "", (field, x, y) => {
      differs = true;
      if (c.diffs.length < maxDiffs) c.diffs.push({ key, field, live: x, replayed: y });
    });
    if (differs) c.differing++;
    else c.identical++;
  }
  for (const key of replayed.keys()) {
    if (!live.has(key)) {
      c.extraInReplay++;
      if (c.extraKeys.length < maxDiffs) c.extraKeys.push(key);
    }
  }
  return c;

  function walk(x: unknown, y: unknown, path: string, diff: (field: string, x: unknown, y: unknown) => void): void {
    const name = path.split(".").at(-1) ?? "";
    if (path && (ignore.has(path) || ignore.has(name))) return;
    if (typeof x === "number" && typeof y === "number") {
      if (!(x === y || Math.abs(x - y) <= tolerance || (Number.isNaN(x) && Number.isNaN(y)))) diff(path, x, y);
      return;
    }
    if (Array.isArray(x) && Array.isArray(y)) {
      if (x.length !== y.length) diff(`${path}.length`, x.length, y.length);
      for (let i = 0; i < Math.min(x.length, y.length); i++) walk(x[i], y[i], path ? `${path}.${i}` : String(i), diff);
      return;
    }
    if (x && y && typeof x === "object" && typeof y === "object" && !Array.isArray(x) && !Array.isArray(y)) {
      const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
      for (const k of [...keys].sort()) walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], path ? `${path}.${k}` : k, diff);
      return;
    }
    if (x !== y) diff(path, x, y);
  }
}
