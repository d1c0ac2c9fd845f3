/**
 * Synthetic fused frames with labels for fusion tests (not the simulator): a road scene whose camera is
 * degraded by fog and night, a radar that sees the obstacle in every weather, tones standing in for voice
 * commands, and an expert rule for the label. Deterministic from a seed.
 */
import type { FeatureConfig } from "../../fusion/features/config.ts";
import { emptyPresence, MODALITIES, msToNs, nsToTimestamp, type FrameSlot, type FusedFrame, type Modality, type ModalityMessage } from "../../schemas/index.ts";
import type { LabelledSample } from "../../fusion/train/dataset.ts";
import { extractFeatures } from "../../fusion/features/frame.ts";
import { mulberry32 } from "../../domain/random.ts";
import { classIndexOf } from "../../fusion/actions.ts";

export const COMMANDS = ["", "stop", "change lane left", "change lane right", "pull over"] as const;
export const WEATHERS = ["CLEAR", "FOG", "NIGHT"] as const;

export interface Scene {
  weather: (typeof WEATHERS)[number];
  obstacleM: number | undefined;
  closingMps: number;
  command: (typeof COMMANDS)[number];
  speedMps: number;
  limitMps: number;
}

export function expertAction(s: Scene): string {
  if (s.obstacleM !== undefined) {
    const ttc = s.closingMps > 0.1 ? s.obstacleM / s.closingMps : Infinity;
    if (ttc < 2.5) return "BRAKE_HARD";
    if (ttc < 6 || s.obstacleM < 25) return "DECELERATE";
  }
  if (s.command === "stop") return "STOP";
  if (s.command === "pull over") return "PULL_OVER";
  if (s.command === "change lane left") return "LANE_LEFT";
  if (s.command === "change lane right") return "LANE_RIGHT";
  if (s.speedMps < s.limitMps - 3) return "ACCELERATE";
  return "KEEP";
}

export function randomScene(rand: () => number): Scene {
  const r = rand();
  const obstacle = rand() < 0.45;
  return {
    weather: WEATHERS[Math.floor(rand() * WEATHERS.length)]!,
    obstacleM: obstacle ? 8 + rand() * 60 : undefined,
    closingMps: obstacle ? rand() * 15 : 0,
    command: r < 0.5 ? "" : COMMANDS[1 + Math.floor(rand() * 4)]!,
    speedMps: 5 + rand() * 25,
    limitMps: 25,
  };
}

/** Raw rgb8 camera image, W×H: sky, road, and a dark box ahead whose size grows as it nears. */
export function cameraImage(s: Scene, rand: () => number, width = 48, height = 32): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  const box = s.obstacleM !== undefined ? Math.max(2, Math.round(200 / s.obstacleM)) : 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let v = y < height / 2 ? [150, 180, 230] : [90, 90, 90];
      if (box && Math.abs(x - width / 2) < box && y > height / 2 - box / 2 && y < height / 2 + box) v = [200, 30, 30];
      const noise = (rand() - 0.5) * 20;
      v = v.map((c) => {
        if (s.weather === "FOG") return 0.1 * c + 0.9 * 200 + noise * 2;
        if (s.weather === "NIGHT") return 0.08 * c + noise * 1.5 + 10;
        return c + noise;
      });
      data.set(v.map((c) => Math.max(0, Math.min(255, Math.round(c)))), (y * width + x) * 3);
    }
  }
  return data;
}

/** 0.6 s of s16le 16 kHz audio: a command tone (one frequency per command) in noise, or noise only. */
export function voiceAudio(command: string, rand: () => number): Uint8Array {
  const n = 9600;
  const buf = new Uint8Array(n * 2);
  const view = new DataView(buf.buffer);
  const k = COMMANDS.indexOf(command as (typeof COMMANDS)[number]);
  const f = 300 + 400 * k;
  for (let i = 0; i < n; i++) {
    const tone = k > 0 ? 0.4 * Math.sin((2 * Math.PI * f * i) / 16000) : 0;
    view.setInt16(i * 2, Math.round((tone + (rand() - 0.5) * 0.1) * 32767), true);
  }
  return buf;
}

const stamp = (ns: bigint) => nsToTimestamp(ns);

/** A fused frame for a scene; `drop` removes modalities (as the aligner would when a sensor is silent). */
export function sceneFrame(s: Scene, seq: number, rand: () => number, drop: Modality[] = []): FusedFrame {
  const t = msToNs(1_000 + seq * 50);
  const ts = stamp(t);
  const returns = [{ range_m: 70 + rand() * 20, azimuth_rad: 0.4, elevation_rad: 0, radial_velocity_mps: -s.speedMps, rcs_dbsm: 5 }];
  if (s.obstacleM !== undefined) returns.push({ range_m: s.obstacleM, azimuth_rad: 0.01, elevation_rad: 0, radial_velocity_mps: -s.closingMps, rcs_dbsm: 10 });
  const messages: Record<Modality, Record<string, unknown>> = {
    camera: { timestamp: ts, frame_id: "front", width: 48, height: 32, encoding: "rgb8", step: 48 * 3, data: cameraImage(s, rand) },
    radar: { timestamp: ts, frame_id: "radar", returns, seq },
    gnss: { timestamp: ts, latitude: 48.1 + seq * 1e-6, longitude: 11.5, altitude: 500, position_covariance: [1, 0, 0, 0, 1, 0, 0, 0, 4], position_covariance_type: 2 },
    ego: { timestamp: ts, speed_mps: s.speedMps, yaw_rate_rps: 0, steering_rad: 0, accel_mps2: 0, lane_index: 1 },
    voice: { timestamp: ts, data: voiceAudio(s.command, rand), format: "pcm-s16", sample_rate: 16000, number_of_channels: 1 },
  };
  const present = emptyPresence();
  const frame: FusedFrame = { stampNs: t, seq, slots: {}, present, ageNs: {}, lastInputReceiveNs: t, emittedNs: t };
  for (const m of MODALITIES) {
    if (drop.includes(m) || (m === "voice" && s.command === "")) continue;
    present[m] = true;
    frame.ageNs[m] = m === "voice" ? msToNs(100) : 0n;
    (frame.slots as Record<Modality, FrameSlot>)[m] = { message: messages[m] as ModalityMessage, topic: `vehicles/t/sensors/${m}/0`, stampNs: t, ageNs: frame.ageNs[m]!, receiveNs: t, interpolated: false, held: false };
  }
  return frame;
}

/**
 * The frame as a camera set sees it: the reference camera on camera/{ids[0]}, and every other camera's frame
 * (the same scene, its own noise) in FusedFrame.cameras on camera/{id}; `missing` ids are null (stale).
 */
export function withCameras(frame: FusedFrame, s: Scene, ids: readonly string[], rand: () => number, missing: readonly string[] = []): FusedFrame {
  const ref = frame.slots.camera;
  if (!ref) return frame;
  const topic = (id: string): string => `vehicles/t/sensors/camera/${id}`;
  const cameras: Record<string, FusedFrame["slots"]["camera"] | null> = {};
  for (const id of ids.slice(1)) {
    const message = { ...ref.message, frame_id: id, data: cameraImage(s, rand) };
    cameras[topic(id)] = missing.includes(id) ? null : { ...ref, message, topic: topic(id) };
  }
  return { ...frame, slots: { ...frame.slots, camera: { ...ref, topic: topic(ids[0]!) } }, cameras: cameras as NonNullable<FusedFrame["cameras"]> };
}

/** n labelled samples in `episodes` groups, with the features of `config` (default: the current one). */
export function syntheticSamples(n: number, seed: number, episodes = 4, config?: FeatureConfig): LabelledSample[] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => {
    const s = randomScene(rand);
    const frame = sceneFrame(s, i, rand);
    const f = extractFeatures(config?.cameras ? withCameras(frame, s, config.cameras, rand) : frame, config ? { config } : {});
    const obstacleAhead = s.obstacleM !== undefined && s.obstacleM < 50 ? 1 : 0;
    return {
      inputs: f.inputs,
      label: classIndexOf(expertAction(s)),
      group: `ep${i % episodes}`,
      tags: { weather: s.weather, inTunnel: false },
      aux: { obstacleAhead, command: COMMANDS.indexOf(s.command) },
    };
  });
}
