/**
 * The daemon config's `aligner` section as the frame aligner's settings: ms → ns, camera ids → this vehicle's
 * camera topics, the radar's minimum scan interval from the topic registry's rate unless the config names one.
 * The daemon, replay (with the config stored in a recording) and training data all align so.
 */
import { msToNs, TopicRegistry } from "../schemas/index.ts";
import type { DaemonConfig } from "./daemon-config.ts";
import type { AlignerConfig } from "./frame-aligner.ts";

const msOpt = (ms: number | undefined): bigint | undefined => (ms === undefined ? undefined : msToNs(ms));

/** The aligner's settings from the config's (ms → ns; camera ids → this vehicle's camera topics). */
export function alignerConfigFrom(c: DaemonConfig["aligner"], vehicle: string): AlignerConfig {
  const out: AlignerConfig = {};
  if (c.referenceTopic !== undefined) out.referenceTopic = c.referenceTopic;
  if (c.cameras?.length) {
    const registry = new TopicRegistry(vehicle);
    out.cameras = c.cameras.map((id) => registry.topicFor("camera", id));
    if (c.referenceTopic === undefined) out.referenceTopic = out.cameras[0];
  }
  const set = <K extends keyof AlignerConfig>(k: K, v: AlignerConfig[K] | undefined): void => {
    if (v !== undefined) out[k] = v;
  };
  set("radarToleranceNs", msOpt(c.radarToleranceMs));
  // Scans of one radar come no sooner than 80% of the registry's nominal period (20 Hz: 40 ms) unless the config says.
  set("radarMinIntervalNs", msOpt(c.radarMinIntervalMs) ?? registryRadarIntervalNs(vehicle));
  set("cameraToleranceNs", msOpt(c.cameraToleranceMs));
  set("gnssMaxAgeNs", msOpt(c.gnssMaxAgeMs));
  set("egoMaxAgeNs", msOpt(c.egoMaxAgeMs));
  set("voiceTtlNs", msOpt(c.voiceTtlMs));
  set("allowedLatenessNs", msOpt(c.allowedLatenessMs));
  set("cameraLatenessNs", msOpt(c.cameraLatenessMs));
  set("maxDelayNs", msOpt(c.maxDelayMs));
  set("maxBuffer", c.maxBuffer);
  set("maxPendingFrames", c.maxPendingFrames);
  set("noWaitFor", c.noWaitFor);
  set("extrapolate", c.extrapolate);
  set("radarScan", c.radarScan);
  return out;
}

/** 80% of the topic registry's nominal radar period, ns (20 Hz: 40 ms); 0 when the registry names no rate. */
export function registryRadarIntervalNs(vehicle: string): bigint {
  const registry = new TopicRegistry(vehicle);
  const hz = registry.lookup(registry.topicFor("radar", "front"))?.rateHz;
  return hz ? msToNs(Math.round(800 / hz)) : 0n;
}
