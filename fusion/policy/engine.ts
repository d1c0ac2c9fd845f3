/**
 * The decision engine: fused frame → features → model (or a fallback model, or a rule) → supervisor →
 * DrivingDecision with provenance. What the daemon's decide stage calls; it holds no clock of its own
 * (nowNs is injected: the scheduler's time, in the same domain as the frame's receive times).
 */
import type { FusedFrame, Modality } from "../../schemas/index.ts";
import { nsToMs } from "../../schemas/index.ts";
import type { ActionName } from "../actions.ts";
import { extractFeatures, modelInputs, usedModalities, type FrameFeatures } from "../features/frame.ts";
import type { MapView } from "../features/gnss.ts";
import type { ModelRunner } from "../inference/runner.ts";
import { argmaxAction, frameStamp, probabilityList, targetSpeed, type DrivingDecision } from "./decision.ts";
import { DEFAULT_SUPERVISOR, missingCritical, staleOverride, ttcRule, type Override, type SupervisorConfig } from "./supervisor.ts";

export interface EngineOptions {
  primary: ModelRunner;
  /** Models trained without some modalities, used when a critical one of those is missing. */
  fallbacks?: ModelRunner[];
  supervisor?: SupervisorConfig;
  map?: MapView;
  vehicleId?: string;
  nowNs: () => bigint;
}

export interface EngineStats {
  decisions: number;
  overrides: Partial<Record<Override["reason"], number>>;
  modelErrors: number;
}

export class DecisionEngine {
  private seq = 0;
  private readonly cfg: SupervisorConfig;
  readonly counts: EngineStats = { decisions: 0, overrides: {}, modelErrors: 0 };

  constructor(private readonly o: EngineOptions) {
    this.cfg = o.supervisor ?? DEFAULT_SUPERVISOR;
  }

  /** Picks the runner for a frame: the primary, or the fallback that needs none of the missing critical sensors. */
  private choose(missing: Modality[]): { runner: ModelRunner | undefined; override?: Override } {
    if (missing.length === 0 || missing.every((m) => !this.o.primary.spec.modalities.includes(m))) return { runner: this.o.primary };
    const fb = (this.o.fallbacks ?? []).find((r) => missing.every((m) => !r.spec.modalities.includes(m)));
    if (fb) return { runner: fb, override: { reason: "OVERRIDE_FALLBACK", detail: `${missing.join("+")} missing or stale: fallback model ${fb.modelId} (trained without it)` } };
    return { runner: undefined, override: { reason: "OVERRIDE_FALLBACK", detail: `${missing.join("+")} missing or stale and no fallback model: rule DECELERATE` } };
  }

  async decide(frame: FusedFrame): Promise<DrivingDecision> {
    const features = extractFeatures(frame, { config: this.o.primary.spec.config, map: this.o.map });
    const facts = { present: features.present, ageS: features.ageS, minTtcS: features.facts.minTtcS };
    let override: Override | undefined = staleOverride(facts, this.cfg);
    let action: ActionName = "STOP";
    let modelAction: ActionName | "ACTION_UNSPECIFIED" = "ACTION_UNSPECIFIED";
    let probs: Float32Array | undefined;
    let inferenceMs = 0;
    let runner: ModelRunner | undefined;
    if (!override) {
      const choice = this.choose(missingCritical(facts, this.cfg));
      runner = choice.runner;
      override = choice.override;
      action = "DECELERATE";
      if (runner) {
        try {
          const out = await runner.run(modelInputs(features, runner.spec));
          probs = out.probabilities;
          inferenceMs = out.inferenceMs;
          modelAction = argmaxAction(probs);
          action = modelAction;
        } catch (err) {
          this.counts.modelErrors++;
          override = { reason: "OVERRIDE_OTHER", detail: `model ${runner.modelId} failed (${(err as Error).message}): rule DECELERATE` };
        }
      }
      const ttc = ttcRule(action, facts, this.cfg);
      if (ttc.override) {
        action = ttc.action;
        override = override ? { reason: ttc.override.reason, detail: `${ttc.override.detail}; ${override.detail}` } : ttc.override;
      }
    }
    return this.finish(frame, features, runner, action, modelAction, probs, inferenceMs, override);
  }

  private finish(
    frame: FusedFrame,
    features: FrameFeatures,
    runner: ModelRunner | undefined,
    action: ActionName,
    modelAction: ActionName | "ACTION_UNSPECIFIED",
    probs: Float32Array | undefined,
    inferenceMs: number,
    override: Override | undefined,
  ): DrivingDecision {
    this.counts.decisions++;
    if (override) this.counts.overrides[override.reason] = (this.counts.overrides[override.reason] ?? 0) + 1;
    return {
      frame_stamp: frameStamp(frame.stampNs),
      action,
      probabilities: probabilityList(probs),
      target_speed_mps: targetSpeed(action, features.facts.speedMps, features.facts.map),
      model_id: runner?.modelId ?? "rules",
      model_hash: runner?.modelHash ?? "",
      backend: runner?.backend ?? "none",
      modalities_used: runner ? usedModalities(features, runner.spec) : [],
      latency_ms: Math.max(0, nsToMs(this.o.nowNs() - frame.lastInputReceiveNs)),
      inference_ms: inferenceMs,
      overridden: override !== undefined,
      override_reason: override?.reason ?? "OVERRIDE_NONE",
      override_detail: override?.detail ?? "",
      model_action: modelAction,
      seq: this.seq++,
      vehicle_id: this.o.vehicleId ?? "",
    };
  }
}
