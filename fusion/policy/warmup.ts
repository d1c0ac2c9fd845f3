/**
 * Warms the whole decision path before the first real frame: the model runners warm themselves up on zeros,
 * but the first frames also pay for the JIT of the feature code (JPEG decode, log-mel, radar, map context)
 * and of the engine — 6–16 ms each in the daemon, where a decision should take ~1 ms. This decides
 * synthetic frames (a small JPEG, radar returns, a fix, ego, an utterance) on a throwaway engine, so the real
 * engine's state (voice request, radar confirmation) starts empty. The messages go through the protobuf codec
 * first, so the feature code sees the decoded objects real frames hold (the same classes, hence the same
 * JIT-compiled paths), and there are enough frames for V8 to optimise the hot functions (12 left the first
 * real frames at 8–20 ms in the daemon bench; each frame here costs ~1–2 ms).
 */
import jpeg from "jpeg-js";
import { DEFAULT_TOPICS, defaultCodec, emptyPresence, type FrameSlot, type ModalityMessage, MODALITIES, type FusedFrame, type Modality } from "../../schemas/index.ts";
import type { DecisionEngine } from "./engine.ts";

const stamp = (ns: bigint): { seconds: number; nanos: number } => ({ seconds: Number(ns / 1_000_000_000n), nanos: Number(ns % 1_000_000_000n) });

/** The message type of a modality's (first, i.e. compressed) topic in the registry. */
const wireType = (m: Modality): string => DEFAULT_TOPICS.find((t) => t.kind === m)!.type;

const VARIANTS = 8;
const variants = new Map<number, { jpegBytes: Uint8Array; audio: Uint8Array }>();

/** The image and the utterance of a synthetic frame: VARIANTS of each, made once (encoding a JPEG is slow). */
function variant(seq: number): { jpegBytes: Uint8Array; audio: Uint8Array } {
  const k = seq % VARIANTS;
  let v = variants.get(k);
  if (!v) {
    const w = 64;
    const rgba = new Uint8Array(w * w * 4);
    for (let i = 0; i < w * w; i++) rgba.set([(i * 7 + k) & 255, (i * 3) & 255, (i >> 6) * 4, 255], i * 4);
    const audio = new Uint8Array(16000 * 2);
    for (let i = 0; i < 16000; i++) {
      const s = Math.round(3000 * Math.sin(i * 0.05 + k));
      audio[2 * i] = s & 255;
      audio[2 * i + 1] = (s >> 8) & 255;
    }
    v = { jpegBytes: new Uint8Array(jpeg.encode({ data: rgba, width: w, height: w }, 85).data), audio };
    variants.set(k, v);
  }
  return v;
}

/** A synthetic frame at tNs with every modality present (the voice utterance only in some). */
export function syntheticFrame(seq: number, withVoice: boolean): FusedFrame {
  const t = 1_000_000_000n + BigInt(seq) * 50_000_000n;
  const ts = stamp(t);
  const { jpegBytes, audio } = variant(seq);
  const plain: Record<Modality, Record<string, unknown>> = {
    camera: { timestamp: ts, frame_id: "camera", format: "jpeg", data: jpegBytes },
    radar: { timestamp: ts, returns: [10, 30, 60].map((r, k) => ({ range_m: r - seq * 0.5, azimuth_rad: 0.01 * k, elevation_rad: 0, radial_velocity_mps: -5, rcs_dbsm: 5 })) },
    gnss: { timestamp: ts, latitude: 48.1 + seq * 1e-6, longitude: 11.5, altitude: 500, position_covariance: [1, 0, 0, 0, 1, 0, 0, 0, 4], position_covariance_type: 2 },
    ego: { timestamp: ts, speed_mps: 10, yaw_rate_rps: 0, steering_rad: 0, accel_mps2: 0, lane_index: 1, lane_change: 0 },
    voice: { timestamp: stamp(t - 500_000_000n), data: audio, format: "pcm-s16", sample_rate: 16000, number_of_channels: 1 },
  };
  // As decoded from the wire: protobuf message objects, as in real frames.
  const codec = defaultCodec();
  const messages = Object.fromEntries(MODALITIES.map((m) => [m, codec.decode(wireType(m), codec.encode(wireType(m), plain[m]))])) as { [M in Modality]: ModalityMessage<M> };
  const present = emptyPresence();
  const frame: FusedFrame = { stampNs: t, seq, slots: {}, present, ageNs: {}, lastInputReceiveNs: t, emittedNs: t };
  for (const m of MODALITIES) {
    if (m === "voice" && !withVoice) continue;
    present[m] = true;
    frame.ageNs[m] = 0n;
    const slot: FrameSlot = { message: messages[m], topic: `warmup/${m}`, stampNs: t, ageNs: 0n, receiveNs: t, interpolated: false, held: false };
    (frame.slots as Record<Modality, FrameSlot>)[m] = slot; // messages[m] is m's message type
  }
  return frame;
}

export const WARMUP_FRAMES = 200;

/** Decides `frames` synthetic frames on a throwaway engine (made by makeEngine) and drops it. */
export async function warmUpDecisions(makeEngine: () => DecisionEngine, frames = WARMUP_FRAMES): Promise<void> {
  const engine = makeEngine();
  for (let i = 0; i < frames; i++) await engine.decide(syntheticFrame(i, i % 4 === 1));
}
