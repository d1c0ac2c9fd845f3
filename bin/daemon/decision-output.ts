/**
 * What the daemon does with each decision the pipeline makes: add its provenance (the inputs the frame was
 * built from, so replay rebuilds exactly this frame), count it, observe its latencies, record it and show it
 * on the live view, publish it on every sink, and hand it to the caller's onDecision.
 */
import type { DrivingDecision } from "../../fusion/index.ts";
import { frameInputsMessage, type Decided } from "../../pipeline/index.ts";
import type { McapRecorder } from "../../replay/index.ts";
import type { ProtoCodec } from "../../schemas/index.ts";
import type { PublishResult, SensorSink } from "../../sensors/index.ts";
import { wallNs } from "../../sensors/wall-clock.ts";
import type { FoxgloveLiveView } from "./foxglove.ts";
import type { DaemonMetrics } from "./prometheus.ts";

/** The counts /metrics reads. */
export interface DecisionCounts {
  byAction: Record<string, number>;
  overridesByReason: Record<string, number>;
  publishes: { sent: number; failed: number };
}

export const newDecisionCounts = (): DecisionCounts => ({ byAction: {}, overridesByReason: {}, publishes: { sent: 0, failed: 0 } });

export interface DecisionOutputOptions {
  decisionTopic: string;
  codec: ProtoCodec;
  counts: DecisionCounts;
  metrics: DaemonMetrics;
  sinks: readonly SensorSink[];
  recorder: McapRecorder | undefined;
  /** recording.topics lets the decision topic in. */
  recordDecisions: boolean;
  live: FoxgloveLiveView | undefined;
  logOnce: (key: string, obj: object, msg: string) => void;
  onDecision?: (d: DrivingDecision, latencyNs: bigint) => void;
}

export function decisionOutput(o: DecisionOutputOptions): (d: Decided<DrivingDecision>) => Promise<void> {
  // The decision is encoded once, for the recorder, the live view and every transport.
  const record = (bytes: Uint8Array, stampNs: bigint): void => {
    if (o.recordDecisions) o.recorder?.addMessage({ topic: o.decisionTopic, type: "fusiond.DrivingDecision", bytes, receiveNs: wallNs(), stampNs });
    o.live?.publish(o.decisionTopic, "fusiond.DrivingDecision", bytes, stampNs);
  };
  const { counts, metrics } = o;
  return async (d) => {
    // Provenance: the messages the frame was built from, so replay rebuilds exactly this frame.
    const decision: DrivingDecision = { ...d.decision, inputs: frameInputsMessage(d.frame) };
    counts.byAction[decision.action] = (counts.byAction[decision.action] ?? 0) + 1;
    if (decision.overridden) counts.overridesByReason[decision.override_reason] = (counts.overridesByReason[decision.override_reason] ?? 0) + 1;
    metrics.endToEnd.observe(Number(d.latencyNs) / 1e9);
    metrics.inference.observe(decision.inference_ms / 1000);
    metrics.alignerWait.observe(Number(d.frame.emittedNs - (d.frame.slots.camera?.receiveNs ?? d.frame.lastInputReceiveNs)) / 1e9);
    const bytes = o.recorder || o.live || o.sinks.length > 0 ? o.codec.encode("fusiond.DrivingDecision", decision) : undefined;
    if (bytes) record(bytes, d.frame.stampNs);
    // Sensor to decision as a user measures it: the capture stamp to the moment the decision is handed to the transports.
    const sensorNs = wallNs() - d.frame.stampNs;
    metrics.sensorToDecision.observe(Number(sensorNs) / 1e9);
    const results: PublishResult[] = bytes ? await Promise.all(o.sinks.map((s) => s.publishEncoded(o.decisionTopic, bytes))) : [];
    for (const r of results) {
      if (r.ok) counts.publishes.sent++;
      else {
        counts.publishes.failed++;
        o.logOnce(`publish:${r.reason}`, { reason: r.reason, detail: r.detail }, "decision publish failed (logged once; counted)");
      }
    }
    o.onDecision?.(decision, d.latencyNs);
  };
}
