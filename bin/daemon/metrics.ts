/** The daemon's Prometheus metrics (prometheus.ts), read at scrape time from the pipeline, the sources and the recorder. */
import type { Pipeline } from "../../pipeline/index.ts";
import type { DrivingDecision } from "../../fusion/index.ts";
import type { McapRecorder } from "../../replay/index.ts";
import type { DecisionCounts } from "./decision-output.ts";
import type { DaemonInputs } from "./inputs.ts";
import { DaemonMetrics } from "./prometheus.ts";

/** `pipeline`: the daemon's pipeline once it is made (metrics are made before it). */
export function daemonMetrics(inputs: DaemonInputs, counts: DecisionCounts, recorder: McapRecorder | undefined, pipeline: () => Pipeline<DrivingDecision> | undefined): DaemonMetrics {
  const metrics = new DaemonMetrics({
    pipeline: () => pipeline()?.metrics(),
    health: () => pipeline()?.health.snapshot() ?? [],
    sources: () => inputs.sources.map((s, i) => ({ name: i === 0 && inputs.mqtt ? "mqtt" : `zmq${i}`, received: s.counters.received, accepted: s.counters.accepted, rejected: s.counters.rejected })),
    decisionsByAction: () => counts.byAction,
    overridesByReason: () => counts.overridesByReason,
    publishes: () => counts.publishes,
    recorder: () => {
      if (!recorder) return undefined;
      const s = recorder.stats();
      return { written: s.messages - s.lost, dropped: s.droppedTotal + s.lost, bytes: s.bytesWritten, failed: s.state === "failed" ? 1 : 0 };
    },
    transportUp: inputs.transportUp,
    stalled: () => (pipeline()?.liveness().stalled ? 1 : 0),
  });
  metrics.registry.registerMetric(inputs.zmqRefused);
  return metrics;
}
