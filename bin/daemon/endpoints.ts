/** The daemon's /metrics /healthz /readyz (http.ts), answered from its state by the rules in probes.ts. */
import type { Logger } from "pino";
import type { DrivingDecision } from "../../fusion/index.ts";
import type { Decider } from "../../fusion/inference/decider.ts";
import type { DaemonConfig } from "../../pipeline/daemon-config.ts";
import type { Pipeline } from "../../pipeline/index.ts";
import { monoMs } from "../../sensors/wall-clock.ts";
import { hostPort, startHttpEndpoints, type HttpEndpoints } from "./http.ts";
import type { DaemonInputs } from "./inputs.ts";
import type { Intake } from "./pipeline.ts";
import { healthAnswer, readinessAnswer } from "./probes.ts";
import type { DaemonMetrics } from "./prometheus.ts";
import type { DaemonRecording } from "./recording.ts";

export interface EndpointParts {
  config: DaemonConfig;
  logger: Logger;
  metrics: DaemonMetrics;
  pipeline: Pipeline<DrivingDecision>;
  inputs: DaemonInputs;
  acceptTopic: (topic: string) => boolean;
  recording: DaemonRecording | undefined;
  intake: Intake;
  patterns: string[];
  decider: Decider;
  /** What /readyz reports of real-time priority ("off", "fifo N", "failed"). */
  realtime: string;
}

/** The endpoints at config.http.listen; none when it is "off". */
export async function startDaemonHttp(c: EndpointParts): Promise<HttpEndpoints | undefined> {
  const { config, pipeline, inputs, intake, decider } = c;
  if (config.http.listen === "off") return undefined;
  const http = await startHttpEndpoints({
    ...hostPort(config.http.listen),
    registry: c.metrics.registry,
    ...(config.http.token ? { token: config.http.token } : {}),
    // Judged on accepted topics only (health tracks no other; filtered again so that stays true).
    health: () => healthAnswer(pipeline.health.snapshot().filter((t) => c.acceptTopic(t.topic)), pipeline.liveness(), inputs.transportUp()),
    // Not ready while recording is configured but failing: the daemon does not do all it was asked to.
    ready: () =>
      readinessAnswer({
        transportUp: inputs.transportUp(),
        recording: c.recording?.state() ?? "off",
        quietMs: monoMs() - (intake.lastInputMs ?? intake.sinceMs),
        patterns: c.patterns,
        model: decider.primary.modelId,
        backend: decider.backend.chosen,
        realtime: c.realtime,
      }),
  });
  c.logger.info({ url: http.url, auth: config.http.token ? "bearer token" : "none" }, "http endpoints: /metrics /healthz /readyz");
  return http;
}
