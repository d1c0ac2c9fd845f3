/**
 * The fused-frame aligner replayed as fast as possible, beside a bare pass-through of the same
 * stream, and its heap over a 1-hour virtual drive. The drive: camera 20 Hz, radar 20 Hz, GNSS
 * 10 Hz, ego 50 Hz, voice sporadic (every 5-20 s), 2-7 ms transport latency; generated lazily so
 * the input itself takes no memory. Run: `npm run bench -- aligner` (node --expose-gc).
 */
import { from, map, Observable, type VirtualTimeScheduler } from "rxjs";
import { alignFrames, createPipeline } from "../pipeline/index.ts";
import { pacedByReceiveTime, virtualTimeAt } from "../test/pipeline/paced-source.ts";
import { nsToTimestamp } from "../schemas/time.ts";
import type { Modality, SensorMessage, TopicKind } from "../schemas/types.ts";
import { median, type BenchRow, type BenchSuite } from "./harness.ts";

const MS = 1_000_000n;
const ORIGIN_MS = 1_700_000_000_000; // a plausible epoch, so stamps look like a live drive's
const TOPICS: Record<Modality, [string, string]> = {
  camera: ["vehicles/b/sensors/camera/front", "foxglove.CompressedImage"],
  radar: ["vehicles/b/sensors/radar/front", "fusiond.RadarScan"],
  gnss: ["vehicles/b/sensors/gnss/main", "foxglove.LocationFix"],
  ego: ["vehicles/b/ego", "fusiond.EgoState"],
  voice: ["vehicles/b/sensors/voice/cabin", "foxglove.RawAudio"],
};
const EMPTY = new Uint8Array(0);

function message(kind: Modality, ms: number, rxMs: number): SensorMessage {
  const stampNs = BigInt(ORIGIN_MS + ms) * MS;
  const s = ms / 1000;
  const fields: Record<string, unknown> =
    kind === "gnss"
      ? { latitude: 48 + s * 1e-5, longitude: 11 + s * 2e-5, altitude: 500 }
      : kind === "ego"
        ? { speed_mps: 20 + Math.sin(s), yaw_rate_rps: 0.01, steering_rad: 0.002, accel_mps2: 0.1, lane_index: 1 }
        : kind === "radar"
          ? { returns: [{ range_m: 30, azimuth_rad: 0.1, elevation_rad: 0, radial_velocity_mps: -1, rcs_dbsm: 10 }] }
          : { format: "jpeg" };
  const [topic, type] = TOPICS[kind];
  // Only the fields the aligner reads: not every field of the type (hence the cast).
  return { topic, type, kind: kind as TopicKind, message: { timestamp: nsToTimestamp(stampNs), ...fields }, stampNs, receiveNs: BigInt(ORIGIN_MS + rxMs) * MS, bytes: EMPTY } as unknown as SensorMessage;
}

/** The drive in receive order, generated on the fly (a merge of per-sensor schedules). */
function* drive(durationMs: number): Generator<SensorMessage> {
  let seed = 12345;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const sensors: Array<{ kind: Modality; next: number; period: () => number }> = [
    { kind: "camera", next: 0, period: () => 50 },
    { kind: "radar", next: 25, period: () => 50 },
    { kind: "gnss", next: 10, period: () => 100 },
    { kind: "ego", next: 5, period: () => 20 },
    { kind: "voice", next: 3000, period: () => 5000 + Math.floor(rand() * 15000) },
  ];
  // Messages due within the next few ms wait here so they come out in receive order.
  const pending: SensorMessage[] = [];
  for (let now = 0; now < durationMs; now++) {
    for (const s of sensors) {
      while (s.next <= now) {
        pending.push(message(s.kind, s.next, s.next + 2 + Math.floor(rand() * 6)));
        s.next += s.period();
      }
    }
    pending.sort((a, b) => (a.receiveNs < b.receiveNs ? -1 : a.receiveNs > b.receiveNs ? 1 : 0));
    while (pending.length && pending[0]!.receiveNs <= BigInt(ORIGIN_MS + now) * MS) yield pending.shift()!;
  }
  yield* pending;
}

// Waits for every input, as when the figures in bench/README.md were made (the aligner's defaults now let GNSS and ego through).
const alignerConfig = { maxDelayNs: 250n * MS, allowedLatenessNs: 50n * MS, noWaitFor: [], extrapolate: [] };

interface Timed {
  messages: number;
  frames: number;
  seconds: number;
}

/** Replays `durationMs` of drive through `stage`, paced in virtual time (or unpaced), as fast as the CPU allows. */
function replay(durationMs: number, paced: boolean, stage: (src: Observable<SensorMessage>, s: VirtualTimeScheduler) => Observable<unknown>): Timed {
  const first = drive(1).next().value as SensorMessage;
  const scheduler = virtualTimeAt(first.receiveNs);
  let messages = 0;
  let frames = 0;
  const source = (paced ? pacedByReceiveTime(drive(durationMs), scheduler) : from(drive(durationMs))).pipe(
    map((m) => {
      messages++;
      return m;
    }),
  );
  const t0 = process.hrtime.bigint();
  stage(source, scheduler).subscribe(() => frames++);
  scheduler.flush();
  return { messages, frames, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

const aligner = (src: Observable<SensorMessage>, scheduler: VirtualTimeScheduler): Observable<unknown> => src.pipe(alignFrames({ ...alignerConfig, scheduler }));
const passThrough = (src: Observable<SensorMessage>): Observable<unknown> => src.pipe(map((m) => m));

function heapMiB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/** Heap after gc at the given virtual minutes of a drive run through `stage`. */
function heapOverDrive(minutes: number[], stage: (src: Observable<SensorMessage>, s: VirtualTimeScheduler) => Observable<unknown>): number[] {
  const durationMs = Math.max(...minutes) * 60_000;
  const first = drive(1).next().value as SensorMessage;
  const scheduler = virtualTimeAt(first.receiveNs);
  const heap: number[] = [];
  for (const m of minutes) scheduler.schedule(() => heap.push(heapMiB()), m * 60_000 - 1);
  stage(pacedByReceiveTime(drive(durationMs), scheduler), scheduler).subscribe();
  scheduler.flush();
  return heap;
}

const suite: BenchSuite = {
  name: "aligner",
  description: "fused-frame aligner: replay throughput beside a bare pass-through, heap over a 1-hour virtual drive",
  async run(log) {
    if (!(globalThis as { gc?: () => void }).gc) log("warning: no global.gc (run with node --expose-gc); heap figures include garbage");
    const rows: BenchRow[] = [];
    const minutes = 10;
    for (const paced of [true, false]) {
      const how = paced ? "paced in virtual time" : "unpaced";
      const a: Timed[] = [];
      const b: Timed[] = [];
      replay(60_000, paced, aligner); // warm-up
      replay(60_000, paced, passThrough);
      for (let i = 0; i < 3; i++) {
        b.push(replay(minutes * 60_000, paced, passThrough));
        a.push(replay(minutes * 60_000, paced, aligner));
      }
      const aMsgs = median(a.map((r) => r.messages / r.seconds));
      const bMsgs = median(b.map((r) => r.messages / r.seconds));
      const aFrames = median(a.map((r) => r.frames / r.seconds));
      log(`${how}: ${a[0]!.messages} messages, ${a[0]!.frames} frames per ${minutes}-min drive; runs ${a.map((r) => r.seconds.toFixed(2)).join("/")} s vs pass-through ${b.map((r) => r.seconds.toFixed(2)).join("/")} s`);
      rows.push({ name: `aligner messages/s, ${how}`, value: aMsgs, unit: "msg/s", baseline: { name: `bare pass-through, ${how}`, value: bMsgs } });
      // The pass-through's rate in camera messages (one frame each), so the ratio compares like with like.
      const cameraShare = a[0]!.frames / a[0]!.messages;
      rows.push({
        name: `aligner frames/s, ${how}`,
        value: aFrames,
        unit: "frames/s",
        baseline: { name: `camera msg/s through the bare pass-through`, value: bMsgs * cameraShare },
        goal: "≥ 20 (real time)",
      });
    }
    const marks = [1, 30, 60];
    const alignHeap = heapOverDrive(marks, aligner);
    log(`aligner heap after gc at ${marks.join("/")} min: ${alignHeap.map((h) => h.toFixed(2)).join(" / ")} MiB`);
    const graphHeap = heapOverDrive(marks, (src, scheduler) => {
      const p = createPipeline({ sources: [src], scheduler, aligner: alignerConfig, decide: (f) => f.seq % 3, metricsIntervalNs: 60_000n * MS });
      return new Observable<unknown>((sub) => {
        const s = p.decisions$.subscribe(sub);
        p.start();
        return s;
      });
    });
    log(`whole graph heap after gc at ${marks.join("/")} min: ${graphHeap.map((h) => h.toFixed(2)).join(" / ")} MiB`);
    for (const [name, heap] of [["aligner", alignHeap], ["whole graph", graphHeap]] as const) {
      for (let i = 1; i < marks.length; i++) {
        rows.push({
          name: `${name} heap at ${marks[i]} min of drive`,
          value: heap[i]!,
          unit: "MiB",
          baseline: { name: `heap at ${marks[0]} min`, value: heap[0]! },
          goal: "≈ 1.00× (flat)",
        });
      }
    }
    return rows;
  },
};

export default suite;
