/**
 * How the aligner fills one modality's slot of a frame at reference time t, from a buffer of
 * samples sorted by (stamp, topic): nearest within a tolerance (radar; optionally moved to t along
 * each return's radial velocity), linear interpolation between neighbours or hold (GNSS, ego), latest
 * within a time-to-live (voice). Pure functions.
 */
import type { RadarMessage } from "../schemas/messages.ts";
import { nsToTimestamp } from "../schemas/time.ts";
import type { FrameSlot, Modality, SensorMessage } from "../schemas/types.ts";

/** A buffer of samples sorted by (stampNs, topic); the aligner keeps one per modality. */
export type SampleBuffer = SensorMessage<Modality>[];

export const bySample = (a: SensorMessage<Modality>, b: SensorMessage<Modality>): number =>
  a.stampNs < b.stampNs ? -1 : a.stampNs > b.stampNs ? 1 : a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0;

/** Index of the first sample with stamp ≥ t (binary search). */
export function lowerBound(buf: SampleBuffer, t: bigint): number {
  let lo = 0;
  let hi = buf.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (buf[mid]!.stampNs < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Inserts keeping (stamp, topic) order; false if the same topic and stamp is already there. */
export function insertSample(buf: SampleBuffer, msg: SensorMessage<Modality>): boolean {
  let i = lowerBound(buf, msg.stampNs);
  while (i < buf.length && buf[i]!.stampNs === msg.stampNs) {
    if (buf[i]!.topic === msg.topic) return false;
    if (buf[i]!.topic > msg.topic) break;
    i++;
  }
  buf.splice(i, 0, msg);
  return true;
}

const abs = (x: bigint): bigint => (x < 0n ? -x : x);

function slotOf(msg: SensorMessage<Modality>, t: bigint, held: boolean): FrameSlot {
  return {
    message: msg.message,
    topic: msg.topic,
    stampNs: msg.stampNs,
    ageNs: t - msg.stampNs,
    receiveNs: msg.receiveNs,
    interpolated: false,
    held,
    inputs: [{ topic: msg.topic, stampNs: msg.stampNs }],
  };
}

/** The sample nearest t within ±tolerance; ties go to the earlier stamp, then the lower topic. */
export function nearest(buf: SampleBuffer, t: bigint, toleranceNs: bigint): SensorMessage<Modality> | undefined {
  let best: SensorMessage<Modality> | undefined;
  let bestD = 0n;
  for (let i = lowerBound(buf, t - toleranceNs); i < buf.length && buf[i]!.stampNs <= t + toleranceNs; i++) {
    const d = abs(buf[i]!.stampNs - t);
    if (!best || d < bestD) {
      best = buf[i];
      bestD = d;
    }
  }
  return best;
}

export function nearestSlot(buf: SampleBuffer, t: bigint, toleranceNs: bigint): FrameSlot | undefined {
  const m = nearest(buf, t, toleranceNs);
  return m && slotOf(m, t, false);
}

/** The latest sample with stamp in [t − ttl, t]. */
export function latestWithin(buf: SampleBuffer, t: bigint, ttlNs: bigint): SensorMessage<Modality> | undefined {
  const i = lowerBound(buf, t + 1n) - 1;
  const m = buf[i];
  return m && m.stampNs >= t - ttlNs ? m : undefined;
}

export function latestSlot(buf: SampleBuffer, t: bigint, ttlNs: bigint): FrameSlot | undefined {
  const m = latestWithin(buf, t, ttlNs);
  return m && slotOf(m, t, false);
}

/** The neighbours of t within ±maxAge: the last sample ≤ t and the first ≥ t (one sample at t is both). */
export function neighbours(buf: SampleBuffer, t: bigint, maxAgeNs: bigint): { prev?: SensorMessage<Modality>; next?: SensorMessage<Modality> } {
  const i = lowerBound(buf, t);
  const at = buf[i];
  const next = at && at.stampNs <= t + maxAgeNs ? at : undefined;
  if (next && next.stampNs === t) return { prev: next, next };
  const before = buf[i - 1];
  const prev = before && before.stampNs >= t - maxAgeNs ? before : undefined;
  return { ...(prev ? { prev } : {}), ...(next ? { next } : {}) };
}

/**
 * The value at t: a sample exactly at t as it is; between two neighbours, the named numeric
 * fields interpolated linearly (every other field from the nearer sample, the stamp field set to
 * t); with one neighbour only, that sample held (held = true).
 */
export function interpolatedSlot(buf: SampleBuffer, t: bigint, maxAgeNs: bigint, fields: readonly string[], stampField: string): FrameSlot | undefined {
  const { prev, next } = neighbours(buf, t, maxAgeNs);
  if (prev && next) {
    if (prev === next) return slotOf(prev, t, false);
    const w = Number(t - prev.stampNs) / Number(next.stampNs - prev.stampNs);
    const nearer = t - prev.stampNs <= next.stampNs - t ? prev : next;
    const message = withStamp(nearer.message, stampField, t);
    for (const f of fields) {
      const a = numberField(prev.message, f);
      const b = numberField(next.message, f);
      if (a !== undefined && b !== undefined) message[f] = a + (b - a) * w;
    }
    const receiveNs = prev.receiveNs > next.receiveNs ? prev.receiveNs : next.receiveNs;
    const inputs = [
      { topic: prev.topic, stampNs: prev.stampNs },
      { topic: next.topic, stampNs: next.stampNs },
    ];
    return { message, topic: nearer.topic, stampNs: t, ageNs: 0n, receiveNs, interpolated: true, held: false, inputs };
  }
  const one = prev ?? next;
  return one && slotOf(one, t, true);
}

/**
 * Like interpolatedSlot, but where only samples before t exist (the one after t has not arrived), the named
 * numeric fields are extrapolated linearly from the last two samples of the same topic — the newer within
 * maxAge of t, the older before it — instead of holding the last one. Both samples are the slot's inputs (two
 * before t: that is how a recorded decision says "extrapolated"), so replay rebuilds the same values. The age
 * stays that of the newest sample: the value is estimated, the evidence is that old.
 */
export function extrapolatedSlot(buf: SampleBuffer, t: bigint, maxAgeNs: bigint, fields: readonly string[], stampField: string): FrameSlot | undefined {
  const { prev, next } = neighbours(buf, t, maxAgeNs);
  if (!prev || next) return interpolatedSlot(buf, t, maxAgeNs, fields, stampField);
  let older: SensorMessage<Modality> | undefined;
  for (let i = lowerBound(buf, prev.stampNs) - 1; i >= 0; i--) {
    const c = buf[i]!;
    if (c.topic === prev.topic && c.stampNs < prev.stampNs) {
      older = c;
      break;
    }
  }
  if (!older || prev.stampNs - older.stampNs > maxAgeNs) return slotOf(prev, t, true);
  const w = Number(t - prev.stampNs) / Number(prev.stampNs - older.stampNs);
  const message = withStamp(prev.message, stampField, t);
  for (const f of fields) {
    const a = numberField(older.message, f);
    const b = numberField(prev.message, f);
    if (a !== undefined && b !== undefined) message[f] = b + (b - a) * w;
  }
  const inputs = [
    { topic: older.topic, stampNs: older.stampNs },
    { topic: prev.topic, stampNs: prev.stampNs },
  ];
  return { message, topic: prev.topic, stampNs: t, ageNs: t - prev.stampNs, receiveNs: prev.receiveNs, interpolated: false, held: false, extrapolated: true, inputs };
}

/**
 * Radar at t from the scan nearest t within ±tolerance: each return's range moved by its radial (Doppler)
 * velocity over the gap, range_m + radial_velocity_mps × (t − scan stamp), never below 0; azimuth, elevation
 * and the rest as measured (a scan has no tangential velocity), the stamp field set to t. A return without a
 * radial velocity stays where it was. A scan at t is used as it is. One input, the scan: with the config
 * (aligner `extrapolate` holds "radar"), that is all replay needs to rebuild the same returns. The age is the
 * scan's (t − its stamp; negative for a scan after t): the evidence is that old.
 */
export function extrapolatedScanSlot(buf: SampleBuffer, t: bigint, toleranceNs: bigint, stampField: string): FrameSlot | undefined {
  const m = nearest(buf, t, toleranceNs);
  return m && extrapolatedScan(m, t, stampField);
}

/** A scan as the frame at t holds it, as measured. */
export const scanSlot = (m: SensorMessage<Modality>, t: bigint): FrameSlot => slotOf(m, t, false);

/** One scan moved to t (see extrapolatedScanSlot); as measured when stamped at t. */
export function extrapolatedScan(m: SensorMessage<Modality>, t: bigint, stampField: string): FrameSlot {
  if (m.stampNs === t) return slotOf(m, t, false);
  const dtS = Number(t - m.stampNs) / 1e9;
  const scan = m.message as Partial<RadarMessage>;
  const message = withStamp(m.message, stampField, t);
  if (Array.isArray(scan.returns)) {
    message["returns"] = scan.returns.map((r) => {
      const v = r.radial_velocity_mps;
      if (typeof v !== "number" || typeof r.range_m !== "number") return r;
      const range = r.range_m + v * dtS;
      return { ...r, range_m: range > 0 ? range : 0 };
    });
  }
  return { message, topic: m.topic, stampNs: t, ageNs: t - m.stampNs, receiveNs: m.receiveNs, interpolated: false, held: false, extrapolated: true, inputs: [{ topic: m.topic, stampNs: m.stampNs }] };
}

/*
 * The fields to interpolate and the stamp field are configuration (aligner `interpolate`, `stampField`), named as
 * in the .proto: these two, and the radar returns' range and radial velocity above (typed by RadarMessage), are
 * the aligner's only reads and writes of a message field by name. The copy keeps the
 * message's type; only numeric fields are written, and only with numbers.
 */
function withStamp<M extends object>(message: M, stampField: string, t: bigint): M & Record<string, unknown> {
  return { ...message, [stampField]: nsToTimestamp(t) } as M & Record<string, unknown>;
}

function numberField(message: object, field: string): number | undefined {
  const v = (message as Readonly<Record<string, unknown>>)[field];
  return typeof v === "number" ? v : undefined;
}
