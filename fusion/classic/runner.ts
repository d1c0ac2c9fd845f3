/**
 * The classic controller as a ModelRunner, so that it runs behind the same DecisionEngine (features, voice
 * intent, supervisor, target speeds) as every model: its "probabilities" are one-hot on the action it picks.
 * It keeps state across frames (the stop line it has stopped at, a lead radar missed for a scan), so one
 * runner serves one stream of frames in order: `fresh()` gives another for another stream.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { ACTIONS } from "../actions.ts";
import { DEFAULT_FEATURE_CONFIG, makeInputSpec, type InputSpec } from "../features/config.ts";
import type { ModelOutput, ModelRunner, RunnerStats } from "../inference/runner.ts";
import type { RadarPoint } from "../features/radar.ts";
import { classicDecide, INITIAL_CLASSIC_STATE, type ClassicDecision, type ClassicFacts, type ClassicState } from "./controller.ts";
import { TtcConfirmer } from "../policy/ttc-confirm.ts";
import { classicFacts, radarReturns } from "./inputs.ts";

/** FUSIOND_CLASSIC_TRACE=1: one line per decision on stderr (facts, action, acceleration, reason). */
const TRACE = process.env["FUSIOND_CLASSIC_TRACE"] === "1";

/** What `--model classic` / `--compare classic` names. */
export const CLASSIC_MODEL_ID = "classic";

/** The classic controller reads radar, GNSS (the map), ego and voice (through a recogniser), never the camera. */
export const CLASSIC_SPEC: InputSpec = makeInputSpec(["radar", "gnss", "ego", "voice"], DEFAULT_FEATURE_CONFIG);

/** Its identity: a hash of its rules' source, so reports and fleet jobs tell versions apart. */
export const CLASSIC_HASH = (() => {
  const h = createHash("sha256");
  for (const f of ["controller.ts", "inputs.ts"]) h.update(readFileSync(new URL(`./${f}`, import.meta.url)));
  return h.digest("hex").slice(0, 16);
})();

export class ClassicRunner implements ModelRunner {
  readonly modelId = CLASSIC_MODEL_ID;
  readonly modelHash = CLASSIC_HASH;
  readonly backend = "classic";
  readonly spec = CLASSIC_SPEC;
  private state: ClassicState = INITIAL_CLASSIC_STATE;
  /** Radar returns confirmed over scans (the supervisor's 3-of-4 tracker): clutter is never a lead. */
  private readonly confirmer = new TtcConfirmer();
  /** In-lane returns of the previous scan that do not approach (a lead driving away or at our speed). */
  private previousSteady: { range: number; stampNs: bigint }[] = [];
  private calls = 0;
  /** The last decision with its reason, and the facts it was made on (tests, debugging). */
  last: ClassicDecision | undefined;
  lastFacts: ClassicFacts | undefined;

  /** @param commands the spoken-command recogniser the intent tracker hears with (a model's), if any. */
  constructor(readonly commands?: ModelRunner) {}

  /** Another runner with fresh state for another stream of frames, sharing the recogniser. */
  fresh(): ClassicRunner {
    return new ClassicRunner(this.commands);
  }

  async warmup(): Promise<void> {}

  async run(inputs: Record<string, Float32Array>, frame?: { stampNs: bigint }): Promise<ModelOutput> {
    this.calls++;
    const facts = classicFacts(inputs, this.spec);
    const radar = radarReturns(inputs, this.spec);
    if (radar && frame) facts.lead = this.lead(radar.points, frame.stampNs - BigInt(Math.round(radar.ageS * 1e6)) * 1000n, facts.speedMps ?? 0);
    const d = classicDecide(facts, this.state);
    this.lastFacts = facts;
    if (TRACE) process.stderr.write(`classic ${frame?.stampNs ?? ""} ${JSON.stringify({ ...facts, action: d.action, a: Number(d.accelMps2.toFixed(2)), why: d.reason })}\n`);
    this.state = d.state;
    this.last = d;
    const probabilities = new Float32Array(ACTIONS.length);
    probabilities[ACTIONS.indexOf(d.action)] = 1;
    return { probabilities, queueMs: 0, inferenceMs: 0, batchSize: 1 };
  }

  /**
   * The nearest confirmed return ahead in the ego lane: an approaching one confirmed by the tracker, or one
   * that holds its range from the previous scan (it moves with us). Its speed over ground: ours + radial.
   */
  private lead(points: readonly RadarPoint[], scanNs: bigint, speedMps: number): ClassicFacts["lead"] {
    const half = this.spec.config.radar.laneHalfWidthM;
    this.confirmer.confirmedTtc(scanNs, points, half);
    let best: { range: number; vr: number } | undefined;
    for (const c of this.confirmer.confirmed) if (!best || c.range < best.range) best = { range: c.range, vr: -c.closingMps };
    const steady = points.filter((p) => p.x > 0 && Math.abs(p.y) < half && p.vr >= -0.1);
    for (const p of steady) {
      const held = this.previousSteady.some((q) => q.stampNs !== scanNs && Math.abs(q.range - p.range) < 1 + 0.05 * p.range);
      if (held && (!best || p.range < best.range)) best = { range: p.range, vr: p.vr };
    }
    if (!this.previousSteady.some((q) => q.stampNs === scanNs)) this.previousSteady = steady.map((p) => ({ range: p.range, stampNs: scanNs }));
    return best ? { rangeM: best.range, speedMps: Math.max(0, speedMps + best.vr) } : undefined;
  }

  stats(): RunnerStats {
    return { calls: this.calls, batches: this.calls, dropped: 0, queueDepth: 0, largestBatch: this.calls ? 1 : 0, lastLatencyMs: 0 };
  }

  close(): void {}
}
