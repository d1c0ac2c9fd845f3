/** The daemon's stop: drain and close everything it opened, within shutdownTimeoutS, once however often it is asked. */
import type { Logger } from "pino";
import type { DrivingDecision } from "../../fusion/index.ts";
import type { Pipeline } from "../../pipeline/index.ts";
import type { McapRecorder } from "../../replay/index.ts";
import type { HealthLogDebouncer } from "./health-log.ts";
import type { HttpEndpoints } from "./http.ts";
import type { DaemonInputs } from "./inputs.ts";

/** f, called once: every later call gets the first call's promise. */
export function once<A extends unknown[]>(f: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  let done: Promise<void> | undefined;
  return (...args) => (done ??= f(...args));
}

export interface ShutdownParts {
  pipeline: Pipeline<DrivingDecision>;
  healthLog: HealthLogDebouncer;
  inputs: DaemonInputs;
  recorder: McapRecorder | undefined;
  cleanups: Array<() => Promise<void> | void>;
  http: HttpEndpoints | undefined;
  logger: Logger;
  timeoutMs: number;
}

/** Intake off, drain, close the recording, sinks, transports and endpoints; gives up after timeoutMs. */
export async function shutDown(p: ShutdownParts): Promise<void> {
  const { pipeline, logger } = p;
  logger.info({ timeoutMs: p.timeoutMs }, "shutting down");
  const work = (async () => {
    pipeline.stop();
    p.healthLog.close();
    for (const s of p.inputs.sources) s.close();
    if (p.recorder) {
      // Never fails the shutdown: a disk that failed was reported when it did; close what can be closed.
      await p.recorder.close().catch((err: unknown) => logger.error({ err: (err as Error).message }, "recording: closing failed"));
      const s = p.recorder.stats();
      logger.info({ files: s.files, messages: s.messages - s.lost, dropped: s.droppedTotal, lost: s.lost, chunks: s.chunks, state: s.state }, "recording closed");
    }
    await Promise.all(p.inputs.outSinks.map((s) => s.close()));
    if (p.inputs.mqtt) await p.inputs.mqtt.close();
    for (const c of p.cleanups.reverse()) await c();
    await p.http?.close();
  })();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      logger.error({ timeoutMs: p.timeoutMs }, "shutdown took too long; giving up on the rest");
      resolve();
    }, p.timeoutMs);
  });
  await Promise.race([work, timeout]);
  clearTimeout(timer);
  logger.info(pipeline.metrics().messagesIn !== undefined ? { messages: pipeline.metrics().messagesIn, decisions: pipeline.metrics().decisions } : {}, "stopped");
}
