/**
 * The daemon's model: its decider loaded from config.model (directory, fallbacks for a missing critical sensor,
 * backend, camera workers) on the daemon's clock, and loaded again on SIGHUP. A bad model directory fails at
 * start, never at the first frame.
 */
import type { Logger } from "pino";
import type { SchedulerLike } from "rxjs";
import { servedRadarScan, type MapView } from "../../fusion/index.ts";
import { loadDecider, type Decider } from "../../fusion/inference/decider.ts";
import type { DaemonConfig } from "../../pipeline/daemon-config.ts";
import { camerasNotAligned } from "../../pipeline/model-cameras.ts";
import { schedulerNowNs } from "../../schemas/scheduler-time.ts";

export async function loadDaemonDecider(config: DaemonConfig, map: MapView | undefined, scheduler: SchedulerLike, logger: Logger, cleanups: Array<() => Promise<void> | void>): Promise<Decider> {
  const decider = await loadDecider({
    modelDir: config.model.dir,
    fallbackDirs: Object.values(config.model.fallbacks),
    backend: config.model.backend,
    vehicleId: config.vehicle,
    ...(map ? { map } : {}),
    nowNs: () => schedulerNowNs(scheduler),
    cameraWorkers: config.model.cameraWorkers,
  });
  cleanups.push(() => decider.close());
  logger.info({ model: decider.primary.modelId, hash: decider.primary.modelHash, backend: decider.backend.chosen, tried: decider.backend.log }, "model loaded");
  return decider;
}

/** SIGHUP: loads the model again; the old one serves until the new one is warm, and on when loading fails. */
export async function reloadModel(decider: Decider, config: DaemonConfig, logger: Logger): Promise<void> {
  logger.info({ dir: config.model.dir }, "reloading model");
  try {
    // The aligner's cameras are fixed at start: a model with other camera slots needs a restart.
    const next = await decider.reload(undefined, (m) => {
      const problem = camerasNotAligned(config.aligner.cameras, m.spec.config.cameras);
      if (problem) throw new Error(problem);
    });
    // The radar scan is fixed at start too: a model served on another one serves, with a warning to restart.
    const served = servedRadarScan(next.spec) ?? "nearest";
    const aligned = config.aligner.radarScan ?? "nearest";
    if (served !== aligned) logger.warn({ model: next.modelId, served, aligned }, `the reloaded model is served on the ${served} radar scan (its input spec) but frames hold the ${aligned} since the start: restart the daemon to align as the model asks`);
    logger.info({ model: next.modelId, hash: next.modelHash }, "model reloaded; the new model serves from now on");
  } catch (err) {
    logger.error({ err: (err as Error).message }, "model reload failed; the old model keeps serving");
  }
}
