/**
 * One episode: the world, the expert, the sensors and the scorer, advanced one decision step (50 ms) at a
 * time. Each sensor samples the world at its own rate and phase, stamps the sample with the sample time and
 * adds its own latency; messages come out in receive-time order (ties: in the order they were sent). After
 * the sensor messages of a step come its GroundTruth and SimStep (received at the step time).
 *
 * Nothing here does I/O or reads a clock: given the scenario, the options and the commands, the output is
 * the same bytes every time.
 */
import type { DecodedMessages, Encodable, KindTypeNames } from "../schemas/messages.ts";
import { NS_PER_MS, nsToTimestamp } from "../schemas/time.ts";
import { TopicRegistry } from "../schemas/topics.ts";
import type { TopicKind } from "../schemas/types.ts";
import { expert, type ExpertLabel } from "./expert.ts";
import { ReceiveQueue } from "./receive-queue.ts";
import { Rng } from "./rng.ts";
import { buildScenario, type ScenarioSpec } from "./scenario.ts";
import { EpisodeScorer, type EpisodeScore } from "./score.ts";
import { CameraRenderer, encodeJpeg, toRgb } from "./sensors/camera.ts";
import type { CameraEncodeJob } from "./sensors/camera-encode.ts";
import { CameraSet, type CameraSetSpec } from "./sensors/camera-set.ts";
import { canSample } from "./sensors/ego-can.ts";
import { GnssModel } from "./sensors/gnss.ts";
import { radarSweep } from "./sensors/radar.ts";
import { renderUtterance } from "./sensors/voice.ts";
import { groundTruth } from "./truth.ts";
import { clipDurations, loadClipCatalog, VOICE_RATE, type ClipCatalog } from "./voice-clips.ts";
import type { EgoCommand, Utterance, World } from "./world/types.ts";
import { createWorld, stepWorld } from "./world/world.ts";

/**
 * One message as the simulator emits it: a plain object with proto field names (what the codec encodes:
 * fields the simulator does not model are left out), and its times. Typed by kind and type like SensorMessage.
 */
export type SimMessage<K extends TopicKind = TopicKind> = { [P in K]: { [T in KindTypeNames[P]]: SimMessageOf<P, T> }[KindTypeNames[P]] }[K];

export interface SimMessageOf<K extends TopicKind, T extends KindTypeNames[K] = KindTypeNames[K]> {
  topic: string;
  type: T;
  kind: K;
  message: Encodable<DecodedMessages[T]>;
  /** Event time (the sensor's own stamp), ns. */
  stampNs: bigint;
  /** When a receiver gets it (stamp + modelled latency), ns. */
  receiveNs: bigint;
  /**
   * Only with EpisodeOptions.deferCameraEncode, on a JPEG camera frame: its encoding, still to be done
   * (`message.data` is empty until the caller fills it with encodeCameraJob's bytes, on any thread).
   */
  encode?: CameraEncodeJob;
}

export type SensorName = "camera" | "radar" | "gnss" | "ego" | "voice";

export interface EpisodeOptions {
  /** Vehicle id in topic names (default "sim"). */
  vehicle?: string;
  /** Absolute time of the episode start, ns (default 2023-11-14T22:13:20Z). */
  startNs?: bigint;
  /** Sensors to model (default all). */
  sensors?: readonly SensorName[];
  /** Camera output: JPEG foxglove.CompressedImage (default) or rgb8 foxglove.RawImage. */
  cameraFormat?: "jpeg" | "raw";
  jpegQuality?: number;
  /**
   * A set of cameras at real size (fusiond sim --cameras front,rear,left,right --camera-size 1280x720), each on
   * camera/{id} (camera_raw/{id} for raw). Absent: the single 64×64 front camera, byte for byte as always.
   */
  cameraSet?: CameraSetSpec;
  /** Voice clips (default: the shipped ones). */
  clips?: ClipCatalog;
  /**
   * Scales every sensor's modelled transport latency (default 1; 0: each message leaves at its capture stamp,
   * as a publisher that stamps on send does). The draws are made as always, so messages, stamps and the rest
   * of the episode are the same for every scale; only receive times move.
   */
  latencyScale?: number;
  /**
   * JPEG camera frames come out rendered but not encoded: each with its `encode` job and an empty `data`, for
   * the caller to encode off the thread that runs the episode (live mode, sim/camera-encode-pool.ts). The
   * random draws are made as always, so every other message, and each frame once encoded, is the same bytes.
   */
  deferCameraEncode?: boolean;
}

export const DEFAULT_START_NS = 1_700_000_000n * 1_000_000_000n;
/** Physics step and decision step. */
export const PHYSICS_DT_NS = 10n * NS_PER_MS;
export const STEP_TICKS = 5;
export const STEP_NS = PHYSICS_DT_NS * BigInt(STEP_TICKS);

/** Sampling period and phase (in physics ticks) and latency range (ms) of each sensor. */
const SCHEDULE = {
  camera: { every: 5, phase: 0, latencyMs: [25, 45] },
  radar: { every: 5, phase: 2, latencyMs: [8, 15] },
  gnss: { every: 10, phase: 3, latencyMs: [60, 110] },
  ego: { every: 2, phase: 1, latencyMs: [2, 6] },
} as const;
/** The modelled sensors' schedule (periods, phases, transport latency ranges at latencyScale 1), for what reports it. */
export const SENSOR_SCHEDULE = SCHEDULE;
const VOICE_LATENCY_MS: [number, number] = [20, 40];

export class Episode {
  readonly world: World;
  readonly spec: ScenarioSpec;
  readonly scorer = new EpisodeScorer();
  readonly vehicle: string;
  private origin: bigint;
  readonly topics: Record<SensorName | "truth" | "step", string>;
  /** Decision steps so far (the last SimStep published has this number). */
  step = 0;
  /** The expert's label for the current step. */
  label: ExpertLabel;
  private readonly queue = new ReceiveQueue<SimMessage>();
  private readonly sensors: Set<SensorName>;
  private readonly rng: Record<SensorName | "latency", Rng>;
  private readonly camera: CameraRenderer;
  private readonly cameraSet: CameraSet | undefined;
  private readonly gnss: GnssModel;
  private readonly clips: ClipCatalog;
  private readonly cameraFormat: "jpeg" | "raw";
  private readonly latencyScale: number;
  private readonly jpegQuality: number;
  private readonly deferCameraEncode: boolean;
  private voiceSeen = 0;
  private stepUtterances: { u: Utterance; stampNs: bigint; clip: string }[] = [];
  private stepCollision = false;
  private radarSeq = 0;
  private started = false;

  constructor(spec: ScenarioSpec, options: EpisodeOptions = {}) {
    this.spec = spec;
    this.vehicle = options.vehicle ?? "sim";
    this.origin = options.startNs ?? DEFAULT_START_NS;
    this.sensors = new Set(options.sensors ?? ["camera", "radar", "gnss", "ego", "voice"]);
    this.cameraFormat = options.cameraFormat ?? "jpeg";
    this.latencyScale = options.latencyScale ?? 1;
    if (!(this.latencyScale >= 0) || !Number.isFinite(this.latencyScale)) throw new RangeError(`latencyScale must be a finite number ≥ 0, not ${this.latencyScale}`);
    this.jpegQuality = options.jpegQuality ?? 85;
    this.deferCameraEncode = options.deferCameraEncode === true;
    this.clips = options.clips ?? (this.sensors.has("voice") ? loadClipCatalog() : {});
    this.world = createWorld(buildScenario(spec), { dtS: Number(PHYSICS_DT_NS) / 1e9, clipSpeechS: clipDurations(this.clips) });
    const fork = (l: string): Rng => Rng.fork(spec.seed, `sensor:${l}`);
    this.rng = { camera: fork("camera"), radar: fork("radar"), gnss: fork("gnss"), ego: fork("ego"), voice: fork("voice"), latency: fork("latency") };
    this.camera = new CameraRenderer(undefined, fork("camera-noise"));
    this.cameraSet = options.cameraSet ? new CameraSet(options.cameraSet, this.vehicle, this.cameraFormat, this.jpegQuality, (l) => fork(`camera-set:${l}`)) : undefined;
    this.cameraSet?.warmUp(this.world);
    this.gnss = new GnssModel(this.rng.gnss, (SCHEDULE.gnss.every * Number(PHYSICS_DT_NS)) / 1e9);
    const reg = new TopicRegistry(this.vehicle);
    this.topics = {
      camera: this.cameraFormat === "jpeg" ? reg.topicFor("camera", "front") : `vehicles/${this.vehicle}/sensors/camera_raw/front`,
      radar: reg.topicFor("radar", "front"),
      gnss: reg.topicFor("gnss", "main"),
      ego: reg.topicFor("ego"),
      voice: reg.topicFor("voice", "cabin"),
      truth: reg.topicFor("sim_truth"),
      step: reg.topicFor("sim_step"),
    };
    this.label = expert(this.world);
  }

  /** Encode jobs of throwaway camera frames (no output changes): what warms an encoding worker up. */
  cameraWarmUpJobs(sets = 3): CameraEncodeJob[] {
    return this.cameraSet && this.cameraFormat === "jpeg" ? this.cameraSet.warmUpJobs(this.world, sets) : [];
  }

  /** Absolute time of the episode start, ns (every stamp counts from it). */
  get startNs(): bigint {
    return this.origin;
  }

  /**
   * Moves the episode's start to `ns` before the first step (nothing is stamped yet). Live mode reads the wall
   * clock after the constructor (whose camera warm-up takes ~0.3 s for 4 × 1280×720): stamped from a clock read
   * before it, every message would leave that much after its stamp.
   */
  restartAt(ns: bigint): void {
    if (this.started) throw new Error("Episode.restartAt() after start()");
    this.origin = ns;
  }

  get done(): boolean {
    return this.world.done;
  }

  /** Absolute time of the current step, ns. */
  get stampNs(): bigint {
    return this.startNs + BigInt(this.world.tick) * PHYSICS_DT_NS;
  }

  /** The messages of step 0: the sensors sampled at the start, GroundTruth 0 and SimStep 0. */
  start(): SimMessage[] {
    if (this.started) throw new Error("Episode.start() called twice");
    this.started = true;
    this.sample();
    return this.closeStep();
  }

  /**
   * Applies `command` for one decision step and returns every message received during it (receive time in
   * (t_k, t_k+1]), then GroundTruth and SimStep of step k+1. Messages still in flight when the episode ends
   * are never received.
   */
  advance(command: EgoCommand): SimMessage[] {
    if (!this.started) throw new Error("Episode.advance() before start()");
    if (this.world.done) throw new Error("Episode.advance() after the episode ended");
    for (let i = 0; i < STEP_TICKS && !this.world.done; i++) {
      stepWorld(this.world, command);
      this.scorer.observe(this.world);
      if (this.world.collision) this.stepCollision = true;
      this.sample();
    }
    this.step++;
    this.label = expert(this.world);
    return this.closeStep();
  }

  /** The score so far (also before the first step: the start state is scored then). */
  score(): EpisodeScore {
    if (this.world.tick === 0) this.scorer.observe(this.world);
    return this.scorer.result();
  }

  private closeStep(): SimMessage[] {
    const ns = this.stampNs;
    const truth = groundTruth(this.world, {
      stampNs: ns,
      step: this.step,
      label: this.label,
      utterances: this.stepUtterances,
      collision: this.stepCollision,
      scenario: this.spec.name,
    });
    this.stepUtterances = [];
    this.stepCollision = false;
    this.emit("truth", "sim_truth", "fusiond.GroundTruth", truth, ns, ns);
    const simStep = {
      stamp: nsToTimestamp(ns),
      step: this.step,
      episode_id: this.world.episodeId,
      seed: this.spec.seed >>> 0,
      dt_ns: Number(STEP_NS),
      done: this.world.done,
    };
    this.emit("step", "sim_step", "fusiond.SimStep", simStep, ns, ns);
    return this.queue.popUntil(ns);
  }

  private emit<K extends TopicKind, T extends KindTypeNames[K]>(
    topicKey: keyof Episode["topics"],
    kind: K,
    type: T,
    message: Encodable<DecodedMessages[T]>,
    stampNs: bigint,
    receiveNs: bigint,
  ): void {
    const m: SimMessageOf<K, T> = { topic: this.topics[topicKey], type, kind, message, stampNs, receiveNs };
    this.queue.push(m as unknown as SimMessage); // one member of the union, by kind and type (TS cannot follow K and T into it)
  }

  private latency(range: readonly [number, number]): bigint {
    return BigInt(Math.round(this.rng.latency.uniform(range[0], range[1]) * this.latencyScale * 1e6));
  }

  /** Samples every sensor due at the current tick. */
  private sample(): void {
    const w = this.world;
    const tick = w.tick;
    const ns = this.stampNs;
    const ts = nsToTimestamp(ns);
    const due = (s: keyof typeof SCHEDULE): boolean => this.sensors.has(s) && (s === "camera" && this.cameraSet?.spec.hz !== undefined ? cameraDue(tick, this.cameraSet.spec.hz) : tick % SCHEDULE[s].every === SCHEDULE[s].phase);
    if (due("ego")) {
      const can = canSample(w, this.rng.ego);
      this.emit("ego", "ego", "fusiond.EgoState", { timestamp: ts, ...can, frame_id: "base_link" }, ns, ns + this.latency(SCHEDULE.ego.latencyMs));
    }
    if (due("camera") && this.cameraSet) {
      for (const frame of this.cameraSet.sample(w, ts, this.deferCameraEncode)) {
        this.queue.push({ ...frame, kind: "camera", stampNs: ns, receiveNs: ns + this.latency(SCHEDULE.camera.latencyMs) });
      }
    } else if (due("camera")) {
      const rgba = this.camera.render(w, this.rng.camera);
      const { width, height } = this.camera.cfg;
      const msg =
        this.cameraFormat === "jpeg"
          ? { timestamp: ts, frame_id: "camera_front", data: encodeJpeg(rgba, width, height, this.jpegQuality), format: "jpeg" }
          : { timestamp: ts, frame_id: "camera_front", width, height, encoding: "rgb8", step: width * 3, data: toRgb(rgba) };
      const type = this.cameraFormat === "jpeg" ? "foxglove.CompressedImage" : "foxglove.RawImage";
      this.emit("camera", "camera", type, msg, ns, ns + this.latency(SCHEDULE.camera.latencyMs));
    }
    if (due("radar")) {
      const sweep = radarSweep(w, this.rng.radar);
      const msg = { timestamp: ts, frame_id: "radar_front", returns: sweep.returns, seq: this.radarSeq++ };
      this.emit("radar", "radar", "fusiond.RadarScan", msg, ns, ns + this.latency(SCHEDULE.radar.latencyMs));
    }
    if (due("gnss")) {
      const fix = this.gnss.sample(w);
      this.emit("gnss", "gnss", "foxglove.LocationFix", { timestamp: ts, frame_id: "gnss", ...fix }, ns, ns + this.latency(SCHEDULE.gnss.latencyMs));
    }
    while (this.voiceSeen < w.utterances.length) {
      const u = w.utterances[this.voiceSeen++]!;
      if (!this.sensors.has("voice")) continue;
      const audio = renderUtterance(u, this.clips, this.rng.voice);
      const duration = BigInt(Math.round(((audio.data.length / 2) * 1e9) / VOICE_RATE));
      // The audio starts at the tick the utterance began.
      const uNs = this.startNs + BigInt(Math.round(u.startS / w.dtS)) * PHYSICS_DT_NS;
      const msg = { timestamp: nsToTimestamp(uNs), data: audio.data, format: "pcm-s16", sample_rate: VOICE_RATE, number_of_channels: 1 };
      this.emit("voice", "voice", "foxglove.RawAudio", msg, uNs, uNs + duration + this.latency(VOICE_LATENCY_MS));
      this.stepUtterances.push({ u, stampNs: uNs, clip: audio.clip?.file ?? "" });
    }
  }
}

/**
 * A camera at `hz` takes a frame at the first tick at or after each 1/hz instant: where ⌊tick·hz/ticks per second⌋
 * steps up (at 20 Hz every 5th tick, as SCHEDULE.camera has it).
 */
function cameraDue(tick: number, hz: number): boolean {
  const perS = Number(1_000_000_000n / PHYSICS_DT_NS);
  return tick === 0 || Math.floor((tick * hz) / perS) > Math.floor(((tick - 1) * hz) / perS);
}

/** Runs an episode with the expert driving; yields every message in receive order. */
export function* expertEpisode(spec: ScenarioSpec, options: EpisodeOptions = {}): Generator<SimMessage, EpisodeScore> {
  const ep = new Episode(spec, options);
  yield* ep.start();
  while (!ep.done) yield* ep.advance({ action: ep.label.action, targetSpeedMps: ep.label.targetSpeedMps });
  return ep.score();
}
