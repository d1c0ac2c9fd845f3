/**
 * The daemon's Prometheus metrics (prom-client). Counters and gauges are read at scrape time from
 * the pipeline's own counters (so there is one source of truth and nothing to keep in step);
 * latency histograms are observed per decision.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { PipelineMetrics, TopicHealth } from "../../pipeline/index.ts";

export interface DaemonMetricsSources {
  pipeline: () => PipelineMetrics | undefined;
  health: () => TopicHealth[];
  /** Decode-stage counters of the sources: received/accepted and rejections by reason. */
  sources: () => Array<{ name: string; received: number; accepted: number; rejected: Record<string, number> }>;
  decisionsByAction: () => Record<string, number>;
  overridesByReason: () => Record<string, number>;
  publishes: () => { sent: number; failed: number };
  recorder: () => { written: number; dropped: number; bytes: number; failed: number } | undefined;
  transportUp: () => number;
  /** 1 while reference frames arrive and no decision comes out. */
  stalled: () => number;
}

const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5];

export class DaemonMetrics {
  readonly registry = new Registry();
  readonly endToEnd: Histogram;
  readonly sensorToDecision: Histogram;
  readonly inference: Histogram;
  readonly alignerWait: Histogram;

  constructor(src: DaemonMetricsSources) {
    const r = this.registry;
    collectDefaultMetrics({ register: r, prefix: "fusiond_process_" });
    this.endToEnd = new Histogram({
      name: "fusiond_decision_latency_seconds",
      help: "From the receive time of the last input a frame needed to its published decision",
      buckets: LATENCY_BUCKETS_S,
      registers: [r],
    });
    this.sensorToDecision = new Histogram({
      name: "fusiond_sensor_to_decision_seconds",
      help: "From the frame's capture stamp (reference camera exposure) to the decision's publication: the latency a user sees",
      buckets: LATENCY_BUCKETS_S,
      registers: [r],
    });
    this.inference = new Histogram({ name: "fusiond_inference_seconds", help: "Model inference time per decision", buckets: LATENCY_BUCKETS_S, registers: [r] });
    this.alignerWait = new Histogram({
      name: "fusiond_aligner_wait_seconds",
      help: "How long the aligner held a frame waiting for late inputs",
      buckets: LATENCY_BUCKETS_S,
      registers: [r],
    });
    const counterFrom = (name: string, help: string, labelNames: string[], read: (set: (labels: Record<string, string>, v: number) => void) => void): void => {
      new Counter({
        name,
        help,
        labelNames,
        registers: [r],
        collect() {
          this.reset();
          read((labels, v) => {
            if (v > 0) this.inc(labels, v);
          });
        },
      });
    };
    const gaugeFrom = (name: string, help: string, labelNames: string[], read: (set: (labels: Record<string, string>, v: number) => void) => void): void => {
      new Gauge({
        name,
        help,
        labelNames,
        registers: [r],
        collect() {
          this.reset();
          read((labels, v) => this.set(labels, v));
        },
      });
    };
    counterFrom("fusiond_messages_total", "Messages that reached the pipeline, by topic and outcome", ["topic", "outcome"], (set) => {
      for (const [topic, c] of Object.entries(src.pipeline()?.topics ?? {})) {
        set({ topic, outcome: "accepted" }, c.accepted);
        set({ topic, outcome: "rejected" }, c.rejected);
      }
    });
    counterFrom("fusiond_source_messages_total", "Raw messages received by each source, before decoding", ["source"], (set) => {
      for (const s of src.sources()) set({ source: s.name }, s.received);
    });
    counterFrom("fusiond_rejected_total", "Rejected input by reason (decode errors, oversized, unknown topic, invalid, late, ...)", ["reason"], (set) => {
      // The pipeline counts the sources' decode rejections (fed to it) and its own validation ones.
      for (const [reason, v] of Object.entries(src.pipeline()?.rejectedByReason ?? {})) set({ reason }, v ?? 0);
    });
    counterFrom("fusiond_drops_total", "Every drop, by pipeline stage, topic and reason", ["stage", "topic", "reason"], (set) => {
      for (const d of src.pipeline()?.drops ?? []) set({ stage: d.stage, topic: d.topic, reason: d.reason }, d.count);
    });
    counterFrom("fusiond_frames_total", "Fused frames emitted by the aligner, by why they left", ["by"], (set) => {
      for (const [by, v] of Object.entries(src.pipeline()?.framesBy ?? {})) set({ by }, v);
    });
    counterFrom("fusiond_decisions_total", "Decisions by action", ["action"], (set) => {
      for (const [action, v] of Object.entries(src.decisionsByAction())) set({ action }, v);
    });
    counterFrom("fusiond_supervisor_overrides_total", "Safety supervisor overrides by reason", ["reason"], (set) => {
      for (const [reason, v] of Object.entries(src.overridesByReason())) set({ reason }, v);
    });
    counterFrom("fusiond_decision_publishes_total", "Decision publishes by result", ["result"], (set) => {
      const p = src.publishes();
      set({ result: "sent" }, p.sent);
      set({ result: "failed" }, p.failed);
    });
    counterFrom("fusiond_recorder_messages_total", "Messages given to the recorder, by result", ["result"], (set) => {
      const s = src.recorder();
      if (!s) return;
      set({ result: "written" }, s.written);
      set({ result: "dropped" }, s.dropped);
    });
    gaugeFrom("fusiond_sensor_alive", "1 when the topic's last message is within k/rate of now", ["topic", "kind"], (set) => {
      for (const h of src.health()) set({ topic: h.topic, kind: h.kind }, h.alive ? 1 : 0);
    });
    gaugeFrom("fusiond_sensor_ok", "1 when the topic is alive, at rate and valid", ["topic", "kind"], (set) => {
      for (const h of src.health()) set({ topic: h.topic, kind: h.kind }, h.ok ? 1 : 0);
    });
    gaugeFrom("fusiond_sensor_rate_hz", "Measured message rate per topic", ["topic", "kind"], (set) => {
      for (const h of src.health()) if (h.rateHz !== null) set({ topic: h.topic, kind: h.kind }, h.rateHz);
    });
    gaugeFrom("fusiond_transport_up", "1 while the input transport is connected", [], (set) => set({}, src.transportUp()));
    gaugeFrom("fusiond_decisions_stalled", "1 while reference frames arrive and no decision comes out", [], (set) => set({}, src.stalled()));
    gaugeFrom("fusiond_recording_failed", "1 while recording is configured but not writing (disk full, write error, too little free space)", [], (set) => {
      const s = src.recorder();
      if (s) set({}, s.failed);
    });
  }
}
