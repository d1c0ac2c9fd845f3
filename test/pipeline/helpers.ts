/** Shared builders for the pipeline specs: SensorMessages by kind, and readable frame summaries. */
import { strict as assert } from "node:assert";
import { TestScheduler } from "rxjs/testing";
import type { Observable } from "rxjs";
import { nsToTimestamp } from "../../schemas/time.ts";
import type { FusedFrame, Modality, SensorMessage } from "../../schemas/types.ts";

export const MS = 1_000_000n;

export const TOPIC: Record<Modality, string> = {
  camera: "vehicles/t/sensors/camera/front",
  radar: "vehicles/t/sensors/radar/front",
  gnss: "vehicles/t/sensors/gnss/main",
  ego: "vehicles/t/ego",
  voice: "vehicles/t/sensors/voice/cabin",
};
const TYPE: Record<Modality, string> = {
  camera: "foxglove.CompressedImage",
  radar: "fusiond.RadarScan",
  gnss: "foxglove.LocationFix",
  ego: "fusiond.EgoState",
  voice: "foxglove.RawAudio",
};

/**
 * A message of a modality with event stamp `stampNs`, received at `receiveNs` (default: the stamp). It carries only
 * the stamp and the fields given (what the pipeline specs look at), not every field of its type: hence the cast.
 */
export function msg<K extends Modality>(kind: K, stampNs: bigint, fields: Record<string, unknown> = {}, receiveNs = stampNs, topic = TOPIC[kind]): SensorMessage<K> {
  return {
    topic,
    type: TYPE[kind],
    kind,
    message: { timestamp: nsToTimestamp(stampNs), ...fields },
    stampNs,
    receiveNs,
    bytes: new Uint8Array(0),
  } as unknown as SensorMessage<K>;
}

/** Plausible readings, derived from the stamp so interpolation has something to do. */
export function reading(kind: Modality, stampNs: bigint): Record<string, unknown> {
  const s = Number(stampNs) / 1e9;
  switch (kind) {
    case "gnss":
      return { latitude: 48 + s * 1e-4, longitude: 11 + s * 2e-4, altitude: 500 + s };
    case "ego":
      return { speed_mps: 10 + s, yaw_rate_rps: 0.01 * s, steering_rad: 0.001 * s, accel_mps2: 0.5, lane_index: 1 };
    case "radar":
      return { returns: [{ range_m: 20 + s }] };
    default:
      return {};
  }
}

/** "10: r11 g~ e!6 v2": frame stamp, then per present modality its stamp (~ interpolated, ! held), in ms. */
export function summary(f: FusedFrame): string {
  const parts = [`${f.stampNs / MS}:`];
  for (const [m, tag] of [["radar", "r"], ["gnss", "g"], ["ego", "e"], ["voice", "v"]] as const) {
    const s = f.slots[m];
    if (!s) continue;
    parts.push(s.interpolated ? `${tag}~` : `${tag}${s.held ? "!" : ""}${s.stampNs / MS}`);
  }
  return parts.join(" ");
}

/** One input line of a timeline test: letters at the column (ms) of their stamp, and when they arrive. */
export interface KindLine {
  kind: Modality;
  stamps: string;
  arrive?: string;
}

export function makeScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => assert.deepStrictEqual(actual, expected));
}

/**
 * Hot observables of SensorMessages from timeline lines: one column = 1 ms of stamp (in `stamps`)
 * and 1 ms of virtual arrival time (in `arrive`, which defaults to `stamps`). Letters are unique.
 */
export function kindLines(hot: TestScheduler["createHotObservable"], lines: KindLine[]): { inputs: Observable<SensorMessage>[]; byLetter: Record<string, SensorMessage> } {
  const byLetter: Record<string, SensorMessage> = {};
  const inputs = lines.map((line) => {
    const values: Record<string, SensorMessage> = {};
    const arrive = line.arrive ?? line.stamps;
    [...line.stamps].forEach((ch, col) => {
      if (ch === "." || ch === "-" || ch === " ") return;
      const stampNs = BigInt(col) * MS;
      const receiveNs = BigInt(arrive.indexOf(ch)) * MS;
      values[ch] = byLetter[ch] = msg(line.kind, stampNs, reading(line.kind, stampNs), receiveNs);
    });
    return hot<SensorMessage>(arrive.replaceAll(".", "-"), values);
  });
  return { inputs, byLetter };
}

export interface DriveOptions {
  durationMs: number;
  /** Transport latency per message, ms, from the message's index (default: 2 ms for all). */
  latencyMs?: (kind: Modality, index: number) => number;
  /** Round receive times up to a grid, ms (a batching transport); default 0 = none. */
  gridMs?: number;
  /** Messages stamped in [fromMs, toMs) are all received at atMs (a network stall). */
  stall?: { fromMs: number; toMs: number; atMs: number };
  /** Every stamp and receive time is offset by this, ms (default 1000: a zero stamp means "missing"). */
  originMs?: number;
}

/**
 * A recorded-like drive: camera 20 Hz, radar 20 Hz (offset 25 ms), GNSS 10 Hz, ego 50 Hz, a voice
 * utterance every 700 ms (times relative to `originMs`); sorted by receive time (ties by stamp, then topic), as a recorder stores it.
 */
export function syntheticDrive(o: DriveOptions): SensorMessage[] {
  const out: SensorMessage[] = [];
  const plan: Array<[Modality, number, number]> = [
    ["camera", 50, 0],
    ["radar", 50, 25],
    ["gnss", 100, 10],
    ["ego", 20, 5],
    ["voice", 700, 300],
  ];
  for (const [kind, period, offset] of plan) {
    for (let k = 0, ms = offset; ms < o.durationMs; k++, ms += period) {
      const origin = o.originMs ?? 1000;
      const stampNs = BigInt(origin + ms) * MS;
      let rx = ms + (o.latencyMs ? o.latencyMs(kind, k) : 2);
      if (o.gridMs) rx = Math.ceil(rx / o.gridMs) * o.gridMs;
      if (o.stall && ms >= o.stall.fromMs && ms < o.stall.toMs) rx = Math.max(rx, o.stall.atMs);
      out.push(msg(kind, stampNs, reading(kind, stampNs), BigInt(origin + rx) * MS));
    }
  }
  return out.sort((a, b) => (a.receiveNs !== b.receiveNs ? (a.receiveNs < b.receiveNs ? -1 : 1) : a.stampNs !== b.stampNs ? (a.stampNs < b.stampNs ? -1 : 1) : a.topic < b.topic ? -1 : 1));
}

/** A frame without its emission time (scheduler time, which differs between live and replay clocks). */
export function frameContent(f: FusedFrame): Omit<FusedFrame, "emittedNs"> {
  const { emittedNs: _, ...rest } = f;
  return rest;
}

/** A frame's event-time content only: no emission time, no receive stamps (they differ between arrival orders). */
export function eventContent(f: FusedFrame): unknown {
  const { emittedNs: _e, lastInputReceiveNs: _l, slots, ...rest } = f;
  return { ...rest, slots: Object.fromEntries(Object.entries(slots).map(([m, s]) => [m, { ...s, receiveNs: undefined }])) };
}
