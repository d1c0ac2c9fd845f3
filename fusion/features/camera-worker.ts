/**
 * A camera feature worker thread (camera-pool.ts): one job at a time, `cameraFeatures` on the frame it is
 * handed, the patches handed back without a copy (their ArrayBuffer transferred).
 */
import { parentPort, workerData } from "node:worker_threads";
import type { CameraDecodeLimits } from "./camera-decode.ts";
import { cameraFeatures } from "./camera.ts";
import type { FeatureConfig } from "./config.ts";
import type { CameraJob, CameraJobResult } from "./camera-pool-protocol.ts";

const { config, limits } = workerData as { config: FeatureConfig; limits: CameraDecodeLimits };

parentPort!.on("message", (job: CameraJob) => {
  const f = cameraFeatures({ ...job.msg }, config, limits);
  const result: CameraJobResult = { id: job.id, present: f.present, patches: f.patches, ...(f.rejection ? { rejection: f.rejection } : {}) };
  parentPort!.postMessage(result, [f.patches.buffer as ArrayBuffer]);
});
