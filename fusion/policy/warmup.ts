/**
 * Warms the whole decision path before the first real frame: the model runners warm themselves up on zeros,
 * but the first frames also pay for the JIT of the feature code (JPEG decode, log-mel, radar, map context)
 * and of the engine — 6–16 ms each in the daemon, where a decision should take ~1 ms. This decides a few
 * synthetic frames (a small JPEG, radar returns, a fix, ego, an utterance) on a throwaway engine, so the real
 * engine's state (voice request, radar confirmation) starts empty.
 */
import jpeg from "jpeg-js";
import { emptyPresence, MODALITIES, type FusedFrame, type Modality } from "../../schemas/index.ts";
import type { DecisionEngine } from "./engine.ts";

const stamp = (ns: bigint): { seconds: number; nanos: number } => ({ seconds: Number(ns / 1_000_000_000n), nanos: Number(ns % 1_000_000_000n) });

/** A synthetic frame at tNs with every modality present (the voice utterance only in some). */
export function syntheticFrame(seq: number, withVoice: boolean): FusedFrame {
  const t = 1_000_000_000n + BigInt(seq) * 50_000_000n;
  const ts = stamp(t);
  const w = 64;
  const rgba = new Uint8Array(w * w * 4);
  for (let i = 0; i < w * w; i++) rgba.set([(i * 7 + seq) & 255, (i * 3) & 255, (i >> 6) * 4, 255], i * 4);
  const audio = new Uint8Array(16000 * 2);
  for (let i = 0; i < 16000; i++) {
    const v = Math.round(3000 * Math.sin(i * 0.05 + seq));
    audio[2 * i] = v & 255;
    audio[2 * i + 1] = (v >> 8) & 255;
  }
  const messages: Record<Modality, Record<string, unknown>> = {
    camera: { timestamp: ts, frame_id: "camera", format: "jpeg", data: new Uint8Array(jpeg.encode({ data: rgba, width: w, height: w }, 85).data) },
    radar: { timestamp: ts, returns: [10, 30, 60].map((r, k) => ({ range_m: r - seq * 0.5, azimuth_rad: 0.01 * k, elevation_rad: 0, radial_velocity_mps: -5, rcs_dbsm: 5 })) },
    gnss: { timestamp: ts, latitude: 48.1 + seq * 1e-6, longitude: 11.5, altitude: 500, position_covariance: [1, 0, 0, 0, 1, 0, 0, 0, 4], position_covariance_type: 2 },
    ego: { timestamp: ts, speed_mps: 10, yaw_rate_rps: 0, steering_rad: 0, accel_mps2: 0, lane_index: 1, lane_change: 0 },
    voice: { timestamp: stamp(t - 500_000_000n), data: audio, format: "pcm-s16", sample_rate: 16000, number_of_channels: 1 },
  };
  const present = emptyPresence();
  const frame: FusedFrame = { stampNs: t, seq, slots: {}, present, ageNs: {}, lastInputReceiveNs: t, emittedNs: t };
  for (const m of MODALITIES) {
    if (m === "voice" && !withVoice) continue;
    present[m] = true;
    frame.ageNs[m] = 0n;
    frame.slots[m] = { message: messages[m], topic: `warmup/${m}`, stampNs: t, ageNs: 0n, receiveNs: t, interpolated: false, held: false };
  }
  return frame;
}

/** Decides `frames` synthetic frames on a throwaway engine (made by makeEngine) and drops it. */
export async function warmUpDecisions(makeEngine: () => DecisionEngine, frames = 12): Promise<void> {
  const engine = makeEngine();
  for (let i = 0; i < frames; i++) await engine.decide(syntheticFrame(i, i % 4 === 1));
}
