/**
 * `fusiond sim --out`: a labelled dataset — every message of datasetMessages encoded and written to a
 * recorder (replay/'s McapRecorder, opened and injected by bin/), as fast as the CPU allows but no faster
 * than the disk. The bytes depend on the seed and options only (no wall clock inside).
 */
import { defaultCodec } from "../schemas/codec.ts";
import type { RoadMap } from "../domain/road-map.ts";
import { datasetMessages } from "./dataset.ts";
import { SCENARIO_MAPS_RECORD, scenarioMapsRecord } from "./scenario-maps.ts";
import type { SensorName } from "./episode.ts";
import type { ScenarioSpec } from "./scenario.ts";
import type { EpisodeScore } from "./score.ts";
import type { CameraSetSpec } from "./sensors/camera-set.ts";

/** What the dataset is written to: the part of the recorder it uses. */
export interface DatasetRecorder {
  addMessage(m: { topic: string; type: string; bytes: Uint8Array; receiveNs: bigint; stampNs: bigint }): unknown;
  /** A metadata record (the episodes' road maps, scenario-maps.ts). */
  addMetadata(name: string, values: Record<string, string>): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  stats(): { queuedBytes: number; dropped: Record<string, number> };
}

export interface DatasetWriteOptions {
  vehicle: string;
  sensors: SensorName[];
  cameraFormat: "jpeg" | "raw";
  cameraSet?: CameraSetSpec;
  /** EpisodeOptions.latencyScale (default 1). */
  latencyScale?: number;
  episodeS: number;
  /** DatasetOptions.perturb. */
  perturb?: number;
  scenarios?: readonly ScenarioSpec[];
}

/** The recording's metadata ("fusiond" record): what made it. */
export function datasetMetadata(seed: number, durationS: number, o: DatasetWriteOptions): Record<string, string> {
  return {
    vehicle: o.vehicle,
    source: "fusiond sim",
    seed: String(seed),
    durationS: String(durationS),
    sensors: o.sensors.join(","),
    camera: o.cameraFormat,
    ...(o.cameraSet ? { cameras: o.cameraSet.ids.join(","), cameraSize: `${o.cameraSet.width}x${o.cameraSet.height}` } : {}),
    ...(o.cameraSet?.hz !== undefined ? { cameraHz: String(o.cameraSet.hz) } : {}),
    ...(o.perturb ? { perturb: String(o.perturb) } : {}),
    ...(o.latencyScale !== undefined && o.latencyScale !== 1 ? { sensorLatency: String(o.latencyScale) } : {}),
  };
}

/**
 * Encodes and records every message, then the road map of every episode (metadata record SCENARIO_MAPS_RECORD:
 * the GNSS map context of a random episode cannot be rebuilt from its name), closes the recorder; returns the
 * episode scores.
 */
export async function writeDatasetTo(rec: DatasetRecorder, seed: number, durationS: number, o: DatasetWriteOptions): Promise<EpisodeScore[]> {
  const codec = defaultCodec();
  const maps = new Map<string, RoadMap>();
  const gen = datasetMessages(seed, durationS, { onEpisode: (spec, map) => void maps.set(spec.name, map), vehicle: o.vehicle, sensors: o.sensors, cameraFormat: o.cameraFormat, ...(o.cameraSet ? { cameraSet: o.cameraSet } : {}), episodeS: o.episodeS, ...(o.perturb ? { perturb: o.perturb } : {}), ...(o.latencyScale !== undefined ? { latencyScale: o.latencyScale } : {}), ...(o.scenarios ? { scenarios: o.scenarios } : {}) });
  let n = 0;
  let r = gen.next();
  while (!r.done) {
    const m = r.value;
    rec.addMessage({ topic: m.topic, type: m.type, bytes: codec.encode(m.type, m.message), receiveNs: m.receiveNs, stampNs: m.stampNs });
    // Backpressure: as fast as the CPU allows, but no faster than the disk.
    if (++n % 2000 === 0 && rec.stats().queuedBytes > 8 * 1024 * 1024) await rec.flush();
    r = gen.next();
  }
  rec.addMetadata(SCENARIO_MAPS_RECORD, scenarioMapsRecord(maps));
  await rec.close();
  const dropped = rec.stats().dropped;
  if (Object.keys(dropped).length) throw new Error(`recorder dropped messages: ${JSON.stringify(dropped)}`);
  return r.value;
}

/** One line of an episode's score. */
export function episodeSummary(s: EpisodeScore): string {
  return (
    `${s.episodeId}: ${s.durationS.toFixed(1)} s, ${s.distanceM.toFixed(0)} m (route ${(100 * s.routeCompletion).toFixed(0)}%), ` +
    `collisions ${s.collisions}, near misses ${s.nearMisses}, stop-line violations ${s.stopLineViolations}/${s.stopLinesPassed}, ` +
    `speeding ${s.speedLimitViolations}, voice ${s.voiceComplied}/${s.voiceCommands}, jerk rms ${s.jerkRms.toFixed(2)} m/s³`
  );
}
