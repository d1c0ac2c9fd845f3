/**
 * A synthetic drive: messages of every recorded type at the registry's nominal rates, with small,
 * deterministic payloads. For tests, benchmarks and the crash-safety child process — not a simulator.
 */
import { defaultCodec, nsToTimestamp, type ProtoCodec } from "../../schemas/index.ts";
import type { RecordInput } from "../../replay/recorder.ts";

export interface SyntheticOptions {
  vehicle?: string;
  /** First receive stamp, ns. */
  startNs?: bigint;
  durationS: number;
  /** Bytes of fake JPEG per camera frame (default 2000). */
  imageBytes?: number;
  /** Receive delay after the sensor stamp, ns (default 3 ms). */
  latencyNs?: bigint;
  codec?: ProtoCodec;
}

interface Stream {
  topic: string;
  type: string;
  periodNs: bigint;
  make: (stampNs: bigint, seq: number) => object;
}

/** Every message of the drive, in receive order (ties broken by a fixed topic order). */
export function syntheticDrive(options: SyntheticOptions): RecordInput[] {
  const codec = options.codec ?? defaultCodec();
  const v = options.vehicle ?? "ego1";
  const start = options.startNs ?? 1_700_000_000_000_000_000n;
  const latency = options.latencyNs ?? 3_000_000n;
  const end = start + BigInt(Math.round(options.durationS * 1e9));
  const imageBytes = options.imageBytes ?? 2000;
  const ts = nsToTimestamp;
  const streams: Stream[] = [
    { topic: `vehicles/${v}/sensors/camera/front`, type: "foxglove.CompressedImage", periodNs: 50_000_000n,
      make: (s, i) => ({ timestamp: ts(s), frame_id: "front", format: "jpeg", data: fill(imageBytes, i) }) },
    { topic: `vehicles/${v}/sensors/radar/front`, type: "fusiond.RadarScan", periodNs: 50_000_000n,
      make: (s, i) => ({ timestamp: ts(s), frame_id: "radar", seq: i, returns: [{ range_m: 20 + (i % 7), azimuth_rad: 0.1, elevation_rad: 0, radial_velocity_mps: -1.5, rcs_dbsm: 5 }] }) },
    { topic: `vehicles/${v}/sensors/gnss/0`, type: "foxglove.LocationFix", periodNs: 100_000_000n,
      make: (s, i) => ({ timestamp: ts(s), frame_id: "gnss", latitude: 48.1 + i * 1e-6, longitude: 11.5, altitude: 520 }) },
    { topic: `vehicles/${v}/ego`, type: "fusiond.EgoState", periodNs: 20_000_000n,
      make: (s, i) => ({ timestamp: ts(s), speed_mps: 13 + (i % 10) / 10, yaw_rate_rps: 0.01, lane_index: 1 }) },
    { topic: `vehicles/${v}/sensors/voice/0`, type: "foxglove.RawAudio", periodNs: 2_000_000_000n,
      make: (s, i) => ({ timestamp: ts(s), format: "pcm-s16", sample_rate: 16000, number_of_channels: 1, data: fill(640, i) }) },
    { topic: `vehicles/${v}/decision`, type: "fusiond.DrivingDecision", periodNs: 50_000_000n,
      make: (s, i) => ({ frame_stamp: ts(s), action: 1 + (i % 3), seq: i, model_id: "synthetic", target_speed_mps: 13.9 }) },
    { topic: `vehicles/${v}/sim/step`, type: "fusiond.SimStep", periodNs: 50_000_000n,
      make: (s, i) => ({ stamp: ts(s), step: i, episode_id: "synthetic", dt_ns: 50_000_000 }) },
    { topic: `vehicles/${v}/sim/truth`, type: "fusiond.GroundTruth", periodNs: 100_000_000n,
      make: (s, i) => ({ stamp: ts(s), step: i, episode_id: "synthetic", speed_mps: 13, lane_index: 1, lane_count: 3 }) },
  ];
  const out: Array<RecordInput & { order: number }> = [];
  streams.forEach((st, order) => {
    let seq = 0;
    for (let stamp = start; stamp < end; stamp += st.periodNs) {
      const bytes = codec.encode(st.type, st.make(stamp, seq++));
      out.push({ topic: st.topic, type: st.type, bytes, stampNs: stamp, receiveNs: stamp + latency + BigInt(order), order });
    }
  });
  out.sort((a, b) => (a.receiveNs < b.receiveNs ? -1 : a.receiveNs > b.receiveNs ? 1 : a.order - b.order));
  return out.map(({ order: _order, ...m }) => m);
}

function fill(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    // Mostly-repeating bytes, like real image data compresses: not all noise, not all zeros.
    if (i % 16 === 0) x = (x * 1103515245 + 12345) >>> 0;
    b[i] = (x >>> (i % 4) * 8) & 0xff;
  }
  return b;
}
