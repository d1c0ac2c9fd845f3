/**
 * An open-loop part (one recording's labelled decisions and timeline points) packed for Redis: columns
 * instead of one JSON object per decision. A column of numbers is stored as binary in the narrowest type
 * that holds all its values exactly — int8…int32, or float32 when every value is one (the class
 * probabilities a model gives are) — its bytes shuffled by significance so that gzip finds the repeats; a
 * column of other doubles (times, latencies, speeds) stays JSON numbers, whose repeated decimal digits gzip
 * packs better than their bits (float64 bits only where JSON cannot say the value: NaN, ±Infinity, -0).
 * Strings and small objects (episode ids, conditions, sensor states, override reasons) go once into a table
 * that the columns index. The whole is gzip'd by the job's encoding (jobs.ts).
 * Unpacking gives back the part field for field, key order included, so the merge — and the report — are
 * the single-process ones; a number keeps its exact bits.
 */
import type { DecisionRecord } from "../score/open-loop.ts";
import type { TimelinePoint } from "../score/timeline.ts";
import type { OpenLoopFilePart } from "../run/open-loop.ts";

export const PACKED_PART_FORMAT = "fusiond.open-loop-part/1";

type NumType = "i8" | "i16" | "i32" | "f32" | "f64";
const BYTES: Record<NumType, number> = { i8: 1, i16: 2, i32: 4, f32: 4, f64: 8 };
/** A column: binary of a type, or JSON numbers (the index of its array in the header's `json`). */
type Column = NumType | number;

interface Header {
  format: typeof PACKED_PART_FORMAT;
  decisions: number;
  durationNs: string;
  /** JSON text of each distinct string/object value the index columns point at. */
  table: string[];
  records: number;
  /** Per episode of the timeline, in order: its id's table index and how many points it has. */
  episodes: Array<[number, number]>;
  /** Columns in order: a binary type (bytes follow the header, in this order) or an index into `json`. */
  columns: Column[];
  json: number[][];
}

/** The narrowest type that stores every value exactly. */
function typeOf(values: readonly number[]): NumType {
  if (values.every((v) => Number.isInteger(v) && !Object.is(v, -0))) {
    let lo = 0;
    let hi = 0;
    for (const v of values) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (lo >= -128 && hi <= 127) return "i8";
    if (lo >= -32768 && hi <= 32767) return "i16";
    if (lo >= -2147483648 && hi <= 2147483647) return "i32";
  }
  return values.every((v) => Object.is(Math.fround(v), v)) ? "f32" : "f64";
}

/** Little-endian bytes of every value, by plane: all first bytes, then all second bytes, … */
function write(dv: DataView, at: number, t: NumType, values: readonly number[]): void {
  const k = BYTES[t];
  const one = new DataView(new ArrayBuffer(8));
  values.forEach((v, i) => {
    if (t === "i8") one.setInt8(0, v);
    else if (t === "i16") one.setInt16(0, v, true);
    else if (t === "i32") one.setInt32(0, v, true);
    else if (t === "f32") one.setFloat32(0, v, true);
    else one.setFloat64(0, v, true);
    for (let b = 0; b < k; b++) dv.setUint8(at + b * values.length + i, one.getUint8(b));
  });
}

function read(dv: DataView, at: number, t: NumType, n: number): number[] {
  const k = BYTES[t];
  const one = new DataView(new ArrayBuffer(8));
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    for (let b = 0; b < k; b++) one.setUint8(b, dv.getUint8(at + b * n + i));
    out[i] = t === "i8" ? one.getInt8(0) : t === "i16" ? one.getInt16(0, true) : t === "i32" ? one.getInt32(0, true) : t === "f32" ? one.getFloat32(0, true) : one.getFloat64(0, true);
  }
  return out;
}

class ColumnWriter {
  readonly columns: Column[] = [];
  readonly json: number[][] = [];
  private readonly binary: Array<[NumType, number[]]> = [];
  add(values: number[]): void {
    const t = typeOf(values);
    if (t === "f64" && values.every((v) => Number.isFinite(v) && !Object.is(v, -0))) {
      this.columns.push(this.json.push(values) - 1);
      return;
    }
    this.columns.push(t);
    this.binary.push([t, values]);
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.binary.reduce((a, [t, c]) => a + c.length * BYTES[t], 0));
    const dv = new DataView(out.buffer);
    let at = 0;
    for (const [t, c] of this.binary) {
      write(dv, at, t, c);
      at += c.length * BYTES[t];
    }
    return out;
  }
}

class ColumnReader {
  private at = 0;
  private col = 0;
  constructor(
    private readonly dv: DataView,
    private readonly h: Header,
  ) {}
  next(n: number): number[] {
    const c = this.h.columns[this.col++];
    if (c === undefined) throw new Error("packed open-loop part: fewer columns than expected (corrupt result)");
    if (typeof c === "number") {
      const values = this.h.json[c];
      if (values?.length !== n) throw new Error("packed open-loop part: a column of the wrong length (corrupt result)");
      return values;
    }
    const out = read(this.dv, this.at, c, n);
    this.at += n * BYTES[c];
    return out;
  }
}

class Table {
  readonly texts: string[] = [];
  private readonly index = new Map<string, number>();
  of(v: unknown): number {
    const text = JSON.stringify(v) ?? "null"; // undefined: as JSON would give it back (a result always went through JSON)
    let i = this.index.get(text);
    if (i === undefined) this.index.set(text, (i = this.texts.push(text) - 1));
    return i;
  }
}

/** The part as bytes: a u32 header length, the header (JSON), the columns. */
export function packOpenLoopPart(part: OpenLoopFilePart): Uint8Array {
  const table = new Table();
  const cols = new ColumnWriter();
  const rs = part.records;
  cols.add(rs.map((r) => table.of(r.episode)));
  cols.add(rs.map((r) => r.tS));
  cols.add(rs.map((r) => r.truth));
  cols.add(rs.map((r) => r.pred));
  cols.add(rs.map((r) => (r.probs ? r.probs.length + 1 : 0))); // 0: no probs (a rule decided)
  cols.add(rs.flatMap((r) => r.probs ?? []));
  cols.add(rs.map((r) => table.of(r.conditions)));
  cols.add(rs.map((r) => r.alignMs));
  cols.add(rs.map((r) => r.inferenceMs));
  cols.add(rs.map((r) => table.of(r.override)));
  cols.add(rs.map((r) => table.of(r.sensors)));
  const ps = part.points.flatMap(([, p]) => p);
  cols.add(ps.map((p) => p.tS));
  cols.add(ps.map((p) => table.of(p.decision)));
  cols.add(ps.map((p) => table.of(p.expert)));
  cols.add(ps.map((p) => table.of(p.sensors)));
  cols.add(ps.map((p) => ("speedMps" in p ? 1 : 0) + ("collision" in p ? (p.collision ? 4 : 2) : 0)));
  cols.add(ps.filter((p) => "speedMps" in p).map((p) => p.speedMps!));
  const header: Header = {
    format: PACKED_PART_FORMAT,
    decisions: part.decisions,
    durationNs: part.durationNs,
    table: table.texts,
    records: rs.length,
    episodes: part.points.map(([e, p]) => [table.of(e), p.length]),
    columns: cols.columns,
    json: cols.json,
  };
  const head = Buffer.from(JSON.stringify(header), "utf8");
  const body = cols.bytes();
  const out = new Uint8Array(4 + head.length + body.length);
  new DataView(out.buffer).setUint32(0, head.length, true);
  out.set(head, 4);
  out.set(body, 4 + head.length);
  return out;
}

export function unpackOpenLoopPart(bytes: Uint8Array): OpenLoopFilePart {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headLen = dv.getUint32(0, true);
  const h = JSON.parse(Buffer.from(bytes.subarray(4, 4 + headLen)).toString("utf8")) as Header;
  if (h.format !== PACKED_PART_FORMAT) throw new Error(`packed open-loop part of format ${String(h.format)}, this fusiond reads ${PACKED_PART_FORMAT}: run workers of the coordinator's version`);
  // Objects are parsed once per use (no record shares an object another could change); primitives once.
  const primitives = h.table.map((t) => (t.startsWith("{") || t.startsWith("[") ? undefined : (JSON.parse(t) as unknown)));
  const val = <T>(i: number): T => (primitives[i] !== undefined ? primitives[i] : JSON.parse(h.table[i]!)) as T;
  const c = new ColumnReader(new DataView(bytes.buffer, bytes.byteOffset + 4 + headLen), h);
  const n = h.records;
  const [episode, tS, truth, pred, probsLen] = [c.next(n), c.next(n), c.next(n), c.next(n), c.next(n)];
  const probs = c.next(probsLen.reduce((a, l) => a + Math.max(0, l - 1), 0));
  const [conditions, alignMs, inferenceMs, override, sensors] = [c.next(n), c.next(n), c.next(n), c.next(n), c.next(n)];
  const records: DecisionRecord[] = new Array(n);
  let pAt = 0;
  for (let i = 0; i < n; i++) {
    const len = probsLen[i]! - 1;
    const p = len >= 0 ? probs.slice(pAt, (pAt += len)) : undefined;
    records[i] = {
      episode: val(episode[i]!),
      tS: tS[i]!,
      truth: truth[i]!,
      pred: pred[i]!,
      ...(p ? { probs: p } : {}),
      conditions: val(conditions[i]!),
      alignMs: alignMs[i]!,
      inferenceMs: inferenceMs[i]!,
      override: val(override[i]!),
      sensors: val(sensors[i]!),
    };
  }
  const m = h.episodes.reduce((a, [, k]) => a + k, 0);
  const [ptS, decision, expert, psensors, flags] = [c.next(m), c.next(m), c.next(m), c.next(m), c.next(m)];
  const speeds = c.next(flags.filter((f) => f & 1).length);
  let sAt = 0;
  let at = 0;
  const points: Array<[string, TimelinePoint[]]> = h.episodes.map(([e, k]) => {
    const list: TimelinePoint[] = [];
    for (let j = 0; j < k; j++, at++) {
      const f = flags[at]!;
      list.push({
        tS: ptS[at]!,
        decision: val(decision[at]!),
        expert: val(expert[at]!),
        sensors: val(psensors[at]!),
        ...(f & 1 ? { speedMps: speeds[sAt++]! } : {}),
        ...(f & 6 ? { collision: (f & 4) !== 0 } : {}),
      });
    }
    return [val<string>(e), list];
  });
  return { decisions: h.decisions, durationNs: h.durationNs, records, points };
}
