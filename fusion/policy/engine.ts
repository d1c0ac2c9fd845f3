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
import { observeStopLine, StopLineTracker } from "../features/stop-line.ts";
import { radarPoints } from "../features/radar.ts";
import type { CameraFeatures } from "../features/camera.ts";
import { voiceFeatures } from "../features/voice.ts";
import { TtcConfirmer } from "./ttc-confirm.ts";
import type { MapView } from "../features/gnss.ts";
import type { ModelRunner } from "../inference/runner.ts";
import { argmaxAction, frameStamp, probabilityList, targetSpeed, type DrivingDecision } from "./decision.ts";
import { NO_MODEL, SUPERVISOR_RULES, supervise, type Verdict } from "./supervise.ts";
import { DEFAULT_SUPERVISOR, missingCritical, type Override, type SensorFacts, type SupervisorConfig } from "./supervisor.ts";

export interface EngineOptions {
  primary: ModelRunner;
  /** Models trained without some modalities, used when a critical one of those is missing. */
  fallbacks?: ModelRunner[];
  supervisor?: SupervisorConfig;
  map?: MapView;
  vehicleId?: string;
  nowNs: () => bigint;
  /**
   * A camera message's features computed off this thread (the daemon: CameraFeaturePool.extract), in the
   * primary model's feature config (the reference camera's, and each other camera's for a model with several); undefined (e.g. the pool dropped the job) computes them here. The pool
   * gives exactly the features of the synchronous path, so decisions do not depend on which one ran.
   */
  cameraFeatures?: (message: CameraMessage) => Promise<CameraFeatures | undefined>;
}

/** The action's target speed, capped by rule 3's deceleration (rules/envelope.ts) over the next second when the speed is known. */
function envelopeTarget(target: number, speedMps: number | undefined, decel: number): number {
  return decel > 0 && speedMps !== undefined ? Math.max(0, Math.min(target, speedMps - decel)) : target;
}

/** A recognised command below this probability counts as not understood. */
export const COMMAND_CONFIDENCE = 0.5;

/** What the model said about a frame, for the decision's provenance (none: no model was asked, or it failed). */
interface ModelOutputs {
  modelAction: ActionName | "ACTION_UNSPECIFIED";
  probs?: Float32Array;
  inferenceMs: number;
}

export interface EngineStats {
  decisions: number;
  overrides: Partial<Record<Override["reason"], number>>;
  modelErrors: number;
}

/** A frame with what was worked out for it before the model call (DecisionEngine.prepare). */
interface Prepared {
  frame: FusedFrame;
  features: FrameFeatures;
  facts: SensorFacts;
  /** The stop-line tracker's features at this frame (a fallback of another config gets them too). */
  stopState: Float32Array;
  seq: number;
}

export class DecisionEngine {
  private seq = 0;
  /** The latest prepare(): the next frame's waits for it (decide). */
  private preparing: Promise<unknown> = Promise.resolve();
  /** The standing voice request, for models that read it (fed by their command recogniser). */
  private readonly intent = new VoiceIntentTracker();
  /** Whether the upcoming stop line was served (for models whose config has stopServed), fed every frame. */
  private readonly stopLine = new StopLineTracker();
  /** Whether any model here reads the stop-line state (else the tracker is not fed: no cost per frame). */
  private readonly readsStopState: boolean;
  private readonly ttc = new TtcConfirmer();
  private readonly cfg: SupervisorConfig;
  /** Fallbacks made with another feature config than the primary's: they get the frame's features in their own. */
  private readonly ownConfig: ReadonlySet<ModelRunner>;
  readonly counts: EngineStats = { decisions: 0, overrides: {}, modelErrors: 0 };

  constructor(private readonly o: EngineOptions) {
    this.cfg = o.supervisor ?? DEFAULT_SUPERVISOR;
    const primaryConfig = JSON.stringify(o.primary.spec.config);
    this.ownConfig = new Set((o.fallbacks ?? []).filter((r) => r !== o.primary && JSON.stringify(r.spec.config) !== primaryConfig));
    this.readsStopState = [o.primary, ...(o.fallbacks ?? [])].some((r) => r.spec.config.stopServed === true);
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

  /** A model with several camera slots: the other cameras' features through the same provider, side by side. */
  private async otherCameras(frame: FusedFrame): Promise<Map<CameraMessage, CameraFeatures>> {
    const out = new Map<CameraMessage, CameraFeatures>();
    const provide = this.o.cameraFeatures;
    if (!provide || !this.o.primary.spec.config.cameras || !frame.cameras) return out;
    const messages = Object.values(frame.cameras).flatMap((s) => (s ? [s.message] : []));
    const got = await Promise.all(messages.map((m) => provide(m)));
    messages.forEach((m, i) => got[i] && out.set(m, got[i]));
    return out;
  }

  /**
   * Decides one frame. Concurrent calls are decided exactly as if each waited for the one before: the
   * per-frame state (camera features, the standing voice request, TTC confirmation, seq) advances in call
   * order, each frame's rules read the state as of that frame, and only the model calls overlap, so the
   * runner runs the frames waiting for it as one batch. `at.nowNs` is the instant the decision stands for
   * (replay: the instant it was decided live); default: the clock when the decision is made.
   */
  decide(frame: FusedFrame, at: { nowNs?: bigint } = {}): Promise<DrivingDecision> {
    const prepared = this.preparing.then(() => this.prepare(frame));
    this.preparing = prepared.catch(() => undefined);
    return prepared.then((p) => this.complete(p, at));
  }

  /** Everything before the model call, in call order (see decide). */
  private async prepare(frame: FusedFrame): Promise<Prepared> {
    const slot = frame.slots.camera;
    const camera = slot && this.o.cameraFeatures ? await this.o.cameraFeatures(slot.message) : undefined;
    const others = await this.otherCameras(frame);
    if (this.readsStopState) observeStopLine(this.stopLine, frame, this.o.map);
    const stopState = this.stopLine.features();
    const features = extractFeatures(frame, { config: this.o.primary.spec.config, map: this.o.map, stopState, ...(camera ? { camera } : {}), cameraOf: (m) => others.get(m) });
    const intent = await this.voiceRequest(frame, features);
    if (intent) features.inputs.intent = intent;
    // The TTC rule reads confirmed returns only (ttc-confirm.ts): one scan's clutter must not brake the car.
    const radar = features.present.radar ? frame.slots.radar : undefined;
    const laneHalf = this.o.primary.spec.config.radar.laneHalfWidthM;
    const minTtcS = radar ? this.ttc.confirmedTtc(radar.stampNs, radarPoints(radar.message), laneHalf) : undefined;
    const sideTtcS = radar ? { left: this.ttc.sideTtc(1, laneHalf), right: this.ttc.sideTtc(-1, laneHalf) } : undefined;
    // This frame's confirmed returns: the confirmer makes a new array per scan, so a later frame's scan never changes it.
    const facts: SensorFacts = { present: features.present, ageS: features.ageS, minTtcS, ...(sideTtcS ? { sideTtcS } : {}), ...(radar ? { confirmed: this.ttc.confirmed } : {}) };
    return { frame, features, facts, stopState, seq: this.seq++ };
  }

  /** The rules before the model, the model call and the rules after it, on the state prepare() took. */
  private async complete(p: Prepared, at: { nowNs?: bigint }): Promise<DrivingDecision> {
    const { frame, features, facts, stopState } = p;
    const gate = supervise(SUPERVISOR_RULES.beforeModel, NO_MODEL, facts, this.cfg);
    if (gate.override) return this.finish(p, undefined, { ...gate, modelAction: "ACTION_UNSPECIFIED", inferenceMs: 0 }, at.nowNs ?? this.o.nowNs());
    const { runner, proposal, outputs } = await this.ask(frame, features, stopState, missingCritical(facts, this.cfg));
    return this.finish(p, runner, { ...supervise(SUPERVISOR_RULES.afterModel, proposal, facts, this.cfg), ...outputs }, at.nowNs ?? this.o.nowNs());
  }

  /**
   * The model's proposal: the chosen runner's action (a fallback's when a critical sensor is missing, with the
   * override that says so), or the rule answer NO_MODEL when there is no runner for the frame or it failed.
   */
  private async ask(frame: FusedFrame, features: FrameFeatures, stopState: Float32Array, missing: Modality[]): Promise<{ runner: ModelRunner | undefined; proposal: Verdict; outputs: ModelOutputs }> {
    const { runner, override } = this.choose(missing);
    const noAnswer: ModelOutputs = { modelAction: "ACTION_UNSPECIFIED", inferenceMs: 0 };
    if (!runner) return { runner, proposal: { ...NO_MODEL, ...(override ? { override } : {}) }, outputs: noAnswer };
    try {
      const own = this.ownConfig.has(runner) ? extractFeatures(frame, { config: runner.spec.config, map: this.o.map, intent: features.inputs.intent, stopState }) : features;
      const out = await runner.run(modelInputs(own, runner.spec), { stampNs: frame.stampNs });
      const modelAction = argmaxAction(out.probabilities);
      return { runner, proposal: { action: modelAction, envelopeDecelMps2: 0, ...(override ? { override } : {}) }, outputs: { modelAction, probs: out.probabilities, inferenceMs: out.inferenceMs } };
    } catch (err) {
      this.counts.modelErrors++;
      const failed: Override = { reason: "OVERRIDE_OTHER", detail: `model ${runner.modelId} failed (${(err as Error).message}): rule DECELERATE` };
      return { runner, proposal: { ...NO_MODEL, override: failed }, outputs: noAnswer };
    }
  }

  private finish({ frame, features, seq }: Prepared, runner: ModelRunner | undefined, d: Verdict & ModelOutputs, nowNs: bigint): DrivingDecision {
    const { action, override } = d;
    this.counts.decisions++;
    if (override) this.counts.overrides[override.reason] = (this.counts.overrides[override.reason] ?? 0) + 1;
    return {
      frame_stamp: frameStamp(frame.stampNs),
      action,
      probabilities: probabilityList(d.probs),
      // The action's target, never above what the envelope (rule 3) allows in the next second.
      target_speed_mps: envelopeTarget(targetSpeed(action, features.facts.speedMps, features.facts.map), features.facts.speedMps, d.envelopeDecelMps2),
      model_id: runner?.modelId ?? "rules",
      model_hash: runner?.modelHash ?? "",
      backend: runner?.backend ?? "none",
      modalities_used: runner ? usedModalities(features, runner.spec) : [],
      latency_ms: Math.max(0, nsToMs(nowNs - frame.lastInputReceiveNs)),
      sensor_to_decision_ms: Math.max(0, nsToMs(nowNs - frame.stampNs)),
      inference_ms: d.inferenceMs,
      overridden: override !== undefined,
      override_reason: override?.reason ?? "OVERRIDE_NONE",
      override_detail: override?.detail ?? "",
      model_action: d.modelAction,
      seq,
      vehicle_id: this.o.vehicleId ?? "",
    };
  }
}
