/**
 * The decision engine: fused frame → features → model (or a fallback model, or a rule) → supervisor →
 * DrivingDecision with provenance. What the daemon's decide stage calls; it holds no clock of its own
 * (nowNs is injected: the scheduler's time, in the same domain as the frame's receive times).
 */
import type { CameraMessage, FusedFrame, Modality, VoiceMessage } from "../../schemas/index.ts";
import { nsToMs } from "../../schemas/index.ts";
import type { ActionName } from "../actions.ts";
import { extractFeatures, modelInputs, usedModalities, type FrameFeatures } from "../features/frame.ts";
import { COMMAND_VOCAB, VoiceIntentTracker } from "../features/intent.ts";
import { radarPoints } from "../features/radar.ts";
import type { CameraFeatures } from "../features/camera.ts";
import { voiceFeatures } from "../features/voice.ts";
import { TtcConfirmer } from "./ttc-confirm.ts";
import type { MapView } from "../features/gnss.ts";
import type { ModelRunner } from "../inference/runner.ts";
import { argmaxAction, frameStamp, probabilityList, targetSpeed, type DrivingDecision } from "./decision.ts";
import { DEFAULT_SUPERVISOR, ENVELOPE, missingCritical, requiredDecel, staleOverride, standstillGap, ttcRule, type Override, type SupervisorConfig } from "./supervisor.ts";

export interface EngineOptions {
  primary: ModelRunner;
  /** Models trained without some modalities, used when a critical one of those is missing. */
  fallbacks?: ModelRunner[];
  supervisor?: SupervisorConfig;
  map?: MapView;
  vehicleId?: string;
  nowNs: () => bigint;
  /**
   * The camera slot's features computed off this thread (the daemon: CameraFeaturePool.extract), in the
   * primary model's feature config; undefined (e.g. the pool dropped the job) computes them here. The pool
   * gives exactly the features of the synchronous path, so decisions do not depend on which one ran.
   */
  cameraFeatures?: (message: CameraMessage) => Promise<CameraFeatures | undefined>;
}

/** The action's target speed, capped by rule 3's deceleration over the next second when the speed is known. */
function envelopeTarget(target: number, speedMps: number | undefined, decel: number): number {
  return decel > 0 && speedMps !== undefined ? Math.max(0, Math.min(target, speedMps - decel)) : target;
}

/** A recognised command below this probability counts as not understood. */
export const COMMAND_CONFIDENCE = 0.5;

export interface EngineStats {
  decisions: number;
  overrides: Partial<Record<Override["reason"], number>>;
  modelErrors: number;
}

export class DecisionEngine {
  private seq = 0;
  /** The standing voice request, for models that read it (fed by their command recogniser). */
  private readonly intent = new VoiceIntentTracker();
  private readonly ttc = new TtcConfirmer();
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

  /**
   * Hears a new utterance (once, at the first frame that holds it) with the first command recogniser of
   * the primary or a fallback; every frame then gets the standing request. A recogniser failure counts as
   * a model error and the utterance as not understood.
   */
  private async voiceRequest(frame: FusedFrame, features: FrameFeatures): Promise<Float32Array | undefined> {
    const recogniser = [this.o.primary, ...(this.o.fallbacks ?? [])].find((r) => r.commands)?.commands;
    if (!recogniser) return undefined;
    const voice = features.present.voice ? frame.slots.voice : undefined;
    if (voice && this.intent.isNew(voice.stampNs)) {
      let command = "";
      try {
        const { probabilities: p } = await recogniser.run(modelInputs(features, recogniser.spec));
        const best = p.indexOf(Math.max(...p));
        if (p[best]! >= COMMAND_CONFIDENCE) command = COMMAND_VOCAB[best] ?? "";
      } catch {
        this.counts.modelErrors++;
      }
      this.intent.hear(voice.stampNs, command, frame.stampNs);
    }
    return this.intent.features(frame.stampNs);
  }

  /**
   * Works out an utterance's voice features as soon as it arrives (they are kept per message), so that the
   * first frame that holds it does not pay for the log-mel. Pure: decisions are the same with or without it.
   */
  prefetchVoice(message: VoiceMessage): void {
    voiceFeatures(message, this.o.primary.spec.config);
  }

  async decide(frame: FusedFrame): Promise<DrivingDecision> {
    const slot = frame.slots.camera;
    const camera = slot && this.o.cameraFeatures ? await this.o.cameraFeatures(slot.message) : undefined;
    const features = extractFeatures(frame, { config: this.o.primary.spec.config, map: this.o.map, ...(camera ? { camera } : {}) });
    const intent = await this.voiceRequest(frame, features);
    if (intent) features.inputs.intent = intent;
    // The TTC rule reads confirmed returns only (ttc-confirm.ts): one scan's clutter must not brake the car.
    const radar = features.present.radar ? frame.slots.radar : undefined;
    const laneHalf = this.o.primary.spec.config.radar.laneHalfWidthM;
    const minTtcS = radar ? this.ttc.confirmedTtc(radar.stampNs, radarPoints(radar.message), laneHalf) : undefined;
    const sideTtcS = radar ? { left: this.ttc.sideTtc(1, laneHalf), right: this.ttc.sideTtc(-1, laneHalf) } : undefined;
    const facts = { present: features.present, ageS: features.ageS, minTtcS, ...(sideTtcS ? { sideTtcS } : {}) };
    let override: Override | undefined = staleOverride(facts, this.cfg);
    let action: ActionName = "STOP";
    let modelAction: ActionName | "ACTION_UNSPECIFIED" = "ACTION_UNSPECIFIED";
    let probs: Float32Array | undefined;
    let inferenceMs = 0;
    let runner: ModelRunner | undefined;
    let envelopeDecel = 0;
    if (!override) {
      const choice = this.choose(missingCritical(facts, this.cfg));
      runner = choice.runner;
      override = choice.override;
      action = "DECELERATE";
      if (runner) {
        try {
          // A fallback made with another feature config gets the frame's features in its own config.
          const own =
            runner === this.o.primary || JSON.stringify(runner.spec.config) === JSON.stringify(this.o.primary.spec.config)
              ? features
              : extractFeatures(frame, { config: runner.spec.config, map: this.o.map, intent: features.inputs.intent });
          const out = await runner.run(modelInputs(own, runner.spec));
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
      // Rule 3: brake at least as hard as the nearest confirmed closing return needs.
      if (radar) {
        const need = requiredDecel(this.ttc.confirmed);
        if (need && need.decel > ENVELOPE.hardDecelMps2 && action !== "BRAKE_HARD") {
          const detail = `closing at ${need.closingMps.toFixed(1)} m/s on a return ${need.range.toFixed(1)} m ahead needs ${need.decel.toFixed(1)} m/s²: ${action} → BRAKE_HARD`;
          action = "BRAKE_HARD";
          override = override ? { reason: "OVERRIDE_TTC", detail: `${detail}; ${override.detail}` } : { reason: "OVERRIDE_TTC", detail };
        }
        // Below a comfortable 0.5 m/s² the closing is the model's to handle (a far lead, a gentle approach).
        if (need && need.decel >= ENVELOPE.comfortDecelMps2) envelopeDecel = need.decel;
        // Rule 4: not one more metre toward a return inside the standstill gap.
        const gap = standstillGap(action, this.ttc.confirmed);
        if (gap.override) {
          action = gap.action;
          override = override ? { reason: gap.override.reason, detail: `${gap.override.detail}; ${override.detail}` } : gap.override;
        }
      }
    }
    return this.finish(frame, features, runner, action, modelAction, probs, inferenceMs, override, envelopeDecel);
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
    envelopeDecel = 0,
  ): DrivingDecision {
    this.counts.decisions++;
    if (override) this.counts.overrides[override.reason] = (this.counts.overrides[override.reason] ?? 0) + 1;
    return {
      frame_stamp: frameStamp(frame.stampNs),
      action,
      probabilities: probabilityList(probs),
      // The action's target, never above what the envelope (rule 3) allows in the next second.
      target_speed_mps: envelopeTarget(targetSpeed(action, features.facts.speedMps, features.facts.map), features.facts.speedMps, envelopeDecel),
      model_id: runner?.modelId ?? "rules",
      model_hash: runner?.modelHash ?? "",
      backend: runner?.backend ?? "none",
      modalities_used: runner ? usedModalities(features, runner.spec) : [],
      latency_ms: Math.max(0, nsToMs(this.o.nowNs() - frame.lastInputReceiveNs)),
      sensor_to_decision_ms: Math.max(0, nsToMs(this.o.nowNs() - frame.stampNs)),
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
