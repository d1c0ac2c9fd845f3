/**
 * The fused-frame aligner's state machine (pure: messages and times in, frames out; the RxJS
 * operator in align.ts adds the scheduler). A reference camera message triggers a frame at its
 * stamp t; radar is the scan nearest t within a tolerance, GNSS and ego are interpolated to t,
 * voice is the latest utterance within a time-to-live.
 *
 * Determinism. Alignment is in event time with a watermark W = (largest stamp seen) − allowed
 * lateness, where each accepted message counts with its stamp but never more than its receive time
 * plus `maxWatermarkLeadNs` (default 5 ms, the clock skew tolerated): a stamp from the future (a sender's clock ahead, or a hostile
 * message) cannot drag event time forward and make every other sensor's messages late. A message stamped below W is late: dropped and counted. Every later message has a
 * stamp ≥ W, so once W has passed the last stamp a frame could still use, the frame is final and
 * is emitted. A final frame depends only on the set of messages, never on their arrival order:
 * the same inputs give the same frames whatever the interleaving, as long as nothing is late.
 * Voice and cameras have their own, longer lateness (a camera frame comes 30–150 ms after its stamp, the CAN
 * bus within a few ms), and so do the modalities frames do not wait for (`noWaitFor`):
 * they are kept for as long as a frame may still hold them (their max age).
 * When data stops coming (a dead sensor, the end of a burst), a frame is emitted anyway once it
 * has waited `maxDelayNs` of scheduler time since its reference arrived (a reference stamped after
 * its arrival waits that much longer: emitting it early would make every frame before its stamp late) —
 * that is the bounded wait, and it depends on arrival times, which replay reproduces from the recorded receive stamps.
 * Frames come out in stamp order with consecutive `seq`.
 *
 * Memory. Buffers are pruned by stamp (nothing older than any future frame can use is kept) and
 * capped per modality; pending frames are capped too. Overflow drops are counted.
 */
import type { CameraMessage, EgoMessage, GnssMessage, RadarMessage, VoiceMessage } from "../schemas/messages.ts";
import { isModalityMessage, type Modality, type FrameSlot, type FusedFrame, type SensorMessage } from "../schemas/types.ts";
import { emptyPresence } from "../schemas/types.ts";
import { NS_PER_MS, NS_PER_S } from "../schemas/time.ts";
import type { DropEvent } from "./drops.ts";
import { ReferenceCamera } from "./reference-camera.ts";
import { bySample, extrapolatedScan, extrapolatedSlot, insertSample, interpolatedSlot, latestSlot, latestWithin, lowerBound, nearest, nearestSlot, neighbours, scanSlot, type SampleBuffer } from "./frame-slots.ts";

export interface AlignerConfig {
  /** The topic whose messages trigger frames; default: the first of `cameras`, else the first camera topic that delivers. */
  referenceTopic?: string;
  /**
   * The vehicle's camera topics, in order. The reference (referenceTopic, or the first) triggers frames; every
   * other one contributes its frame nearest the reference stamp within `cameraToleranceNs` (FusedFrame.cameras,
   * null when missing or stale — counted); camera topics not listed are not aligned. Default: none — the first
   * camera topic that delivers is the reference (a single-camera vehicle), and other camera topics are not
   * aligned (counted in stats.cameraUnaligned): several cameras must be named, or each would be decided as if
   * it were the one camera.
   */
  cameras?: readonly string[];
  /**
   * Other cameras: the frame nearest the reference stamp within ± this, ns (default 50 ms). A frame waits for the
   * other cameras at most this long (scheduler time) after its reference arrived: a camera whose frames come
   * later than that is masked in it rather than hold the reference back.
   */
  cameraToleranceNs?: bigint;
  /** Radar: the scan nearest t within ± this, ns (default 50 ms). */
  radarToleranceNs?: bigint;
  /**
   * With inOrderPerTopic: scans of one radar topic are at least this far apart, ns. A frame then knows the scan
   * after the last one cannot come before last + this, and is final as soon as no scan that soon could be
   * nearer than the best it has — the same scan it would get by waiting, without the wait. A 30 Hz camera
   * beside a 20 Hz radar sampling 20 ms later: a frame 20 ms after a scan waited 30 ms for the next one, 50 ms
   * on, that could never be nearer. A scan sooner than this after the previous one of its topic is counted
   * (stats.radarEarly): a frame may then have left with a scan that was not the nearest. Default 0: wait until
   * the radar is past what could be nearer (the daemon's config derives it from the topic registry's radar
   * rate: pipeline/daemon-aligner.ts).
   */
  radarMinIntervalNs?: bigint;
  /** GNSS: neighbours within ± this are interpolated or held, ns (default 250 ms). */
  gnssMaxAgeNs?: bigint;
  /** Ego: neighbours within ± this are interpolated or held, ns (default 100 ms). */
  egoMaxAgeNs?: bigint;
  /** Voice: the latest utterance no older than this, ns (default 5 s). */
  voiceTtlNs?: bigint;
  /** Event-time lateness: a message stamped more than this below the largest stamp seen is dropped, ns (default 50 ms). */
  allowedLatenessNs?: bigint;
  /**
   * Camera lateness, ns (default 250 ms, maxDelay's): a camera frame is late only when stamped more than this
   * below the largest stamp seen (or when its place in the frame sequence has passed). Cameras are the slowest
   * input — exposure, ISP, encoding and transport take 30–150 ms on real vehicles, while ego arrives within a
   * few ms of its stamp — so with the general lateness every frame of a camera more than 50 ms behind the CAN
   * bus was dropped as late and nothing was decided. A camera this late is decided at once, with the samples
   * around its stamp (buffers keep them): the frame is the one it would have been on time. Values below
   * allowedLatenessNs count as it.
   */
  cameraLatenessNs?: bigint;
  /**
   * Voice lateness, ns (default 10 s): an utterance is stamped when speech starts and arrives after it
   * ends, seconds later, so the general lateness would drop every one. Voice never makes a frame wait.
   */
  voiceLatenessNs?: bigint;
  /** Scheduler time a frame may wait for late data after its reference arrived, ns (default 250 ms). */
  maxDelayNs?: bigint;
  /**
   * How far the watermark may run ahead of the receive time of the message that moves it, ns (default 5 ms).
   * Sensors stamp before they send, so stamp ≤ receive time; a message stamped later counts as if stamped
   * at its receive time (plus this lead) for the watermark and its topic's mark, and only there. The lead is
   * the clock skew tolerated between a sender and us: with none, a radar whose clock runs 1 ms ahead of ours
   * never closes the frame that uses its scan (its mark stays just below the scan's stamp), and the frame
   * waits for the scan after it — measured: ~3.5% of the simulator's radar scans sent at their stamp arrived
   * up to 0.9 ms "early", and those frames came out ~70 ms late instead of ~20. A stamp further ahead (a
   * hijacked clock) still moves event time by this much at most.
   */
  maxWatermarkLeadNs?: bigint;
  /** Per modality, the most samples buffered (default 512); beyond it the oldest is dropped. */
  maxBuffer?: number;
  /** The most frames waiting at once (default 64); beyond it the oldest is emitted early. */
  maxPendingFrames?: number;
  /** Numeric fields interpolated linearly (defaults: LocationFix and EgoState fields). */
  interpolate?: { gnss?: readonly string[]; ego?: readonly string[] };
  /** The field holding the message's stamp, rewritten on interpolated values (default "timestamp"). */
  stampField?: string;
  /**
   * Each topic's stamps arrive in increasing order (the graph's validate stage guarantees it by
   * rejecting out-of-order stamps; MQTT and ZeroMQ keep per-topic order). Then a topic that has
   * delivered stamp s will never deliver anything older, so a frame is final as soon as each
   * modality's topics are past what the frame could still use — typically when the next GNSS/ego
   * sample after t arrives — instead of waiting for the global watermark or the deadline. Voice, which
   * comes sporadically, never holds a frame back in this mode. An out-of-order message is dropped
   * (`out_of_order`). Default false: only the global watermark decides.
   */
  inOrderPerTopic?: boolean;
  /**
   * Modalities a frame does not wait for: it takes what has arrived when the rest is complete
   * (interpolated if the sample after t is already there, else the last one held within the max age).
   * For GNSS at 10 Hz, waiting for the fix after t costs up to 100 ms of decision latency to gain
   * at most speed × 0.1 s of position — less than GNSS noise. Such frames depend on arrival timing;
   * replay reproduces them from the inputs each decision records. "radar": the scan nearest t among those that
   * have arrived (within the tolerance) — with a radar sampling after the camera (the simulator's, 20 ms), the
   * frame leaves without waiting for the scan after t and takes the one before, up to a period older (with
   * "radar" in `extrapolate` too, moved to t along each return's radial velocity). Not by default: the shipped
   * models were trained on the nearest scan, and without waiting for it the shipped default lost macro-F1
   * 0.0038 (95% interval 0.0023–0.0064; 16 validation drives at sensor latency 0, 97.2% of actions unchanged) —
   * small but outside the noise; a model trained so would be the way to take this ~20 ms (a radar period's
   * share) off every frame. Default ["gnss", "ego"] (the daemon's
   * and training's: the config of `fusiond run` takes these unless it names its own); [] waits for every one.
   */
  noWaitFor?: readonly ("gnss" | "ego" | "radar")[];
  /**
   * Modalities estimated at t rather than taken as sampled. GNSS/ego: extrapolated from their last two
   * samples when the sample after t has not arrived (instead of holding the last one). Radar, when it is also
   * in noWaitFor: the scan taken (the nearest that has arrived, up to radarToleranceNs away) with each
   * return's range moved to t along its radial velocity (range_m + radial_velocity_mps × (t − scan stamp)),
   * so that a frame that does not wait for the scan after t still sees the targets where they are at t; a
   * scan the frame waited for (radar not in noWaitFor) is the nearest and is used as measured. Meant with
   * noWaitFor: the frame leaves as soon as the cameras are there and every other modality is still estimated
   * at the camera's instant. Default ["gnss", "ego"]; [] holds the last sample. "radar" is not in the default:
   * the default waits for radar, and a model trained on scans as measured gained nothing from it (the shipped
   * default on 16 validation drives at sensor latency 0, radar not waited: macro-F1 −0.0037 with it, −0.0038
   * without, against waiting).
   */
  extrapolate?: readonly ("gnss" | "ego" | "radar")[];
  /**
   * Which radar scan a frame holds. "nearest" (default): the scan nearest t, waited for unless radar is in
   * noWaitFor (then the nearest of those that have arrived). "latest": the latest scan stamped at or before t
   * (within radarToleranceNs), never waited for (radar joins noWaitFor), so the scan a frame holds does not depend
   * on whether the next one happened to arrive first — training, replay and a live daemon at any transport
   * latency give a model the same frames; with "radar" in `extrapolate` its returns are moved to t. For models
   * trained so (their feature config's radarScan: fusion/features/config.ts); the daemon takes it from the model.
   */
  radarScan?: "nearest" | "latest";
}

export type ResolvedAlignerConfig = Required<Omit<AlignerConfig, "referenceTopic" | "interpolate">> & {
  referenceTopic: string | undefined;
  interpolate: { gnss: readonly string[]; ego: readonly string[] };
};

/** The aligner's defaults: the only ones (pipeline/daemon-config.ts leaves an omitted key to these). */
export const DEFAULT_ALIGNER_CONFIG: Omit<ResolvedAlignerConfig, "referenceTopic"> = {
  cameras: [],
  cameraToleranceNs: 50n * NS_PER_MS,
  radarToleranceNs: 50n * NS_PER_MS,
  radarMinIntervalNs: 0n,
  gnssMaxAgeNs: 250n * NS_PER_MS,
  egoMaxAgeNs: 100n * NS_PER_MS,
  voiceTtlNs: 5n * NS_PER_S,
  allowedLatenessNs: 50n * NS_PER_MS,
  cameraLatenessNs: 250n * NS_PER_MS,
  voiceLatenessNs: 10n * NS_PER_S,
  maxDelayNs: 250n * NS_PER_MS,
  maxWatermarkLeadNs: 5n * NS_PER_MS,
  maxBuffer: 512,
  maxPendingFrames: 64,
  interpolate: {
    gnss: ["latitude", "longitude", "altitude"],
    ego: ["speed_mps", "yaw_rate_rps", "steering_rad", "accel_mps2"],
  },
  stampField: "timestamp",
  inOrderPerTopic: false,
  noWaitFor: ["gnss", "ego"],
  extrapolate: ["gnss", "ego"],
  radarScan: "nearest",
};

export function resolveAlignerConfig(config: AlignerConfig = {}): ResolvedAlignerConfig {
  const c: ResolvedAlignerConfig = {
    ...DEFAULT_ALIGNER_CONFIG,
    ...Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)),
    referenceTopic: config.referenceTopic ?? config.cameras?.[0],
    interpolate: { ...DEFAULT_ALIGNER_CONFIG.interpolate, ...config.interpolate },
  };
  // The latest scan at or before t is never waited for.
  if (c.radarScan === "latest" && !c.noWaitFor.includes("radar")) c.noWaitFor = [...c.noWaitFor, "radar"];
  if (c.cameras.length && c.referenceTopic !== undefined && !c.cameras.includes(c.referenceTopic)) {
    throw new RangeError(`aligner referenceTopic ${c.referenceTopic} is not one of the cameras (${c.cameras.join(", ")})`);
  }
  for (const k of ["radarToleranceNs", "radarMinIntervalNs", "gnssMaxAgeNs", "egoMaxAgeNs", "voiceTtlNs", "allowedLatenessNs", "cameraLatenessNs", "voiceLatenessNs", "maxDelayNs", "maxWatermarkLeadNs", "cameraToleranceNs"] as const) {
    if (c[k] < 0n) throw new RangeError(`aligner ${k} must be ≥ 0`);
  }
  if (!(c.maxBuffer >= 1) || !(c.maxPendingFrames >= 1)) throw new RangeError("aligner maxBuffer and maxPendingFrames must be ≥ 1");
  return c;
}

export type Buffered = Exclude<Modality, "camera">;
export const BUFFERED: readonly Buffered[] = ["radar", "gnss", "ego", "voice"];

interface Pending {
  ref: SensorMessage<Modality>;
  /** Scheduler time after which it is emitted even if not final, ns. */
  deadlineNs: bigint;
  /** With other cameras: scheduler time after which it no longer waits for them (reference arrival + camera tolerance), ns. */
  camerasDueNs?: bigint;
}

export interface AlignerStats {
  /** Frames emitted, and of those: final by the watermark, on their deadline, early because too many waited, at the end of input. */
  frames: number;
  final: number;
  deadline: number;
  overflow: number;
  flushed: number;
  /** Messages taken into buffers (references included). */
  accepted: number;
  /** Incoming messages dropped (late, duplicate). */
  dropped: number;
  /** Buffered samples evicted because a buffer was full. */
  evicted: number;
  /** Other cameras' slots left empty (missing or stale), in all frames, and by camera topic. */
  cameraMissing: number;
  cameraMissingBy: Record<string, number>;
  /** Without a camera list: messages of camera topics other than the first one (the reference), not aligned. */
  cameraUnaligned: number;
  /** Radar scans that came sooner than radarMinIntervalNs after the previous one of their topic. */
  radarEarly: number;
}

export class FrameAligner {
  readonly config: ResolvedAlignerConfig;
  private readonly buffers: Record<Buffered, SampleBuffer> = { radar: [], gnss: [], ego: [], voice: [] };
  /** Pending frames, sorted by (reference stamp, topic). */
  private readonly pending: Pending[] = [];
  /** Frames of the other cameras (not the reference), sorted by (stamp, topic). */
  private readonly secondary: SampleBuffer = [];
  private readonly secondaryTopics: ReadonlySet<string>;
  /** inOrderPerTopic: the last stamp (mark) of each other camera. */
  private readonly cameraLast = new Map<string, bigint>();
  private maxStamp: bigint | undefined;
  /** inOrderPerTopic: the last stamp of each topic, by modality (bounded by the number of topics). */
  private readonly topicLast: Record<Buffered, Map<string, bigint>> = { radar: new Map(), gnss: new Map(), ego: new Map(), voice: new Map() };
  private lastEmitted: SensorMessage<Modality> | undefined;
  private seq = 0;
  readonly stats: AlignerStats = { frames: 0, final: 0, deadline: 0, overflow: 0, flushed: 0, accepted: 0, dropped: 0, evicted: 0, cameraMissing: 0, cameraMissingBy: {}, cameraUnaligned: 0, radarEarly: 0 };
  /** Which camera messages are references (without a configured one: the first camera topic that delivers). */
  private readonly reference: ReferenceCamera;

  constructor(config: AlignerConfig = {}, private readonly onDrop: (drop: DropEvent) => void = () => {}) {
    this.config = resolveAlignerConfig(config);
    this.reference = new ReferenceCamera(this.config.referenceTopic);
    this.secondaryTopics = new Set(this.config.cameras.filter((t) => t !== this.config.referenceTopic));
  }

  /** The watermark: every message accepted from now on has a stamp ≥ this. */
  get watermarkNs(): bigint | undefined {
    return this.maxStamp === undefined ? undefined : this.maxStamp - this.config.allowedLatenessNs;
  }

  /** Messages held (buffers and pending references): bounded by 4 × maxBuffer + maxPendingFrames. */
  get held(): number {
    return this.pending.length + this.secondary.length + BUFFERED.reduce((n, m) => n + this.buffers[m].length, 0);
  }

  /** The earliest deadline among pending frames, ns of scheduler time. */
  nextDeadlineNs(): bigint | undefined {
    let d: bigint | undefined;
    for (const p of this.pending) {
      if (d === undefined || p.deadlineNs < d) d = p.deadlineNs;
      if (p.camerasDueNs !== undefined && p.camerasDueNs < d) d = p.camerasDueNs;
    }
    return d;
  }

  /**
   * Below this stamp a message of `kind` is late. Voice has its own lateness (an utterance arrives seconds
   * after its stamp). A modality frames do not wait for (noWaitFor) is never needed for finality, so it is
   * kept as long as a frame could still hold it (its max age): GNSS arrives 60–110 ms after its stamp, and
   * with the general 50 ms lateness nearly every fix would be dropped.
   */
  private lateBelowNs(kind: SensorMessage["kind"]): bigint | undefined {
    if (this.maxStamp === undefined) return undefined;
    const c = this.config;
    if (kind === "voice") return this.maxStamp - c.voiceLatenessNs;
    if (kind === "camera") return this.cameraLateBelowNs();
    if ((kind === "gnss" || kind === "ego" || kind === "radar") && c.noWaitFor.includes(kind)) {
      const maxAge = kind === "gnss" ? c.gnssMaxAgeNs : kind === "ego" ? c.egoMaxAgeNs : c.radarToleranceNs;
      return this.maxStamp - (maxAge > c.allowedLatenessNs ? maxAge : c.allowedLatenessNs);
    }
    return this.watermarkNs;
  }

  /** Below this stamp a camera frame is late (its own lateness, never less than the general one). */
  private cameraLateBelowNs(): bigint | undefined {
    if (this.maxStamp === undefined) return undefined;
    const c = this.config;
    return this.maxStamp - (c.cameraLatenessNs > c.allowedLatenessNs ? c.cameraLatenessNs : c.allowedLatenessNs);
  }

  private drop(msg: SensorMessage<Modality>, reason: DropEvent["reason"]): void {
    if (reason === "queue_overflow") this.stats.evicted++;
    else this.stats.dropped++;
    this.onDrop({ stage: "align", topic: msg.topic, reason, stampNs: msg.stampNs });
  }

  /** Whether msg triggers a frame; another camera topic, when no camera list is configured, is counted as not aligned. */
  private takeReference(msg: SensorMessage<Modality>): boolean {
    const ref = this.reference.take(msg);
    if (!ref && msg.kind === "camera" && this.config.cameras.length === 0) this.stats.cameraUnaligned++;
    return ref;
  }

  /** Takes one message arriving at scheduler time nowNs; returns the frames it completes, in order. */
  push(msg: SensorMessage, nowNs: bigint): FusedFrame[] {
    if (!isModalityMessage(msg)) return []; // decisions, simulator topics: not aligned
    const buffered = (BUFFERED as readonly string[]).includes(msg.kind);
    const ref = this.takeReference(msg);
    const other = !ref && msg.kind === "camera" && this.secondaryTopics.has(msg.topic);
    if (!buffered && !ref && !other) return []; // unlisted cameras, decisions, simulator topics: not aligned
    const lateBelow = this.lateBelowNs(msg.kind);
    if (lateBelow !== undefined && msg.stampNs < lateBelow) {
      this.drop(msg, "late");
      return [];
    }
    if (other && this.config.inOrderPerTopic) {
      const prev = this.cameraLast.get(msg.topic);
      if (prev !== undefined && msg.stampNs < prev) {
        this.drop(msg, "out_of_order");
        return [];
      }
      const lead = msg.receiveNs + this.config.maxWatermarkLeadNs;
      const mark = msg.stampNs < lead ? msg.stampNs : lead;
      if (prev === undefined || mark > prev) this.cameraLast.set(msg.topic, mark);
    }
    if (buffered && this.config.inOrderPerTopic) {
      const last = this.topicLast[msg.kind as Buffered];
      const prev = last.get(msg.topic);
      if (prev !== undefined && msg.stampNs < prev) {
        this.drop(msg, "out_of_order");
        return [];
      }
      if (msg.kind === "radar" && prev !== undefined && msg.stampNs < prev + this.config.radarMinIntervalNs) this.stats.radarEarly++;
      // (A repeat of the last stamp is refused below as a duplicate sample.) The topic's mark, like the
      // watermark, never runs ahead of receive time + lead: one message from the future must not make the
      // topic's real messages out of order.
      const lead = msg.receiveNs + this.config.maxWatermarkLeadNs;
      const mark = msg.stampNs < lead ? msg.stampNs : lead;
      if ((prev !== undefined && mark > prev) || (prev === undefined && last.size < 64)) last.set(msg.topic, mark);
    }
    if (ref) {
      if (this.lastEmitted && bySample(msg, this.lastEmitted) <= 0) {
        // Its frame's place in the sequence has passed (an earlier frame left on its deadline).
        this.drop(msg, bySample(msg, this.lastEmitted) === 0 ? "duplicate" : "late");
        return [];
      }
      // A reference stamped after its arrival waits from its stamp: emitted at nowNs + maxDelay, it would end
      // the sequence at a future stamp and every real frame before that stamp would be dropped as late.
      // (Stamp and receive time share a clock; the scheduler's may have another origin, so only the lead counts.)
      const ahead = msg.stampNs > msg.receiveNs ? msg.stampNs - msg.receiveNs : 0n;
      const p: Pending = { ref: msg, deadlineNs: nowNs + ahead + this.config.maxDelayNs };
      if (this.secondaryTopics.size) p.camerasDueNs = nowNs + ahead + this.config.cameraToleranceNs;
      let i = 0;
      while (i < this.pending.length && bySample(this.pending[i]!.ref, msg) < 0) i++;
      if (i < this.pending.length && bySample(this.pending[i]!.ref, msg) === 0) {
        this.drop(msg, "duplicate");
        return [];
      }
      this.pending.splice(i, 0, p);
    } else if (other) {
      if (!insertSample(this.secondary, msg)) {
        this.drop(msg, "duplicate");
        return [];
      }
    } else if (!insertSample(this.buffers[msg.kind as Buffered], msg)) {
      this.drop(msg, "duplicate");
      return [];
    }
    this.stats.accepted++;
    const lead = msg.receiveNs + this.config.maxWatermarkLeadNs;
    const mark = msg.stampNs < lead ? msg.stampNs : lead;
    if (this.maxStamp === undefined || mark > this.maxStamp) this.maxStamp = mark;
    const out: FusedFrame[] = [];
    while (this.pending.length > this.config.maxPendingFrames) {
      this.stats.overflow++;
      out.push(this.emitHead(nowNs));
    }
    this.emitFinal(nowNs, out);
    this.prune();
    return out;
  }

  /** The deadline `deadlineNs` has come: emits every frame due by then (and the frames before them). */
  expire(deadlineNs: bigint, nowNs: bigint): FusedFrame[] {
    const out: FusedFrame[] = [];
    // Past its camera wait, a frame is final without the other cameras that have not delivered.
    for (const p of this.pending) if (p.camerasDueNs !== undefined && p.camerasDueNs <= deadlineNs) delete p.camerasDueNs;
    let last = -1;
    this.pending.forEach((p, i) => {
      if (p.deadlineNs <= deadlineNs) last = i;
    });
    for (let i = 0; i <= last; i++) {
      if (this.isFinal(this.pending[0]!.ref.stampNs, this.pending[0]!.camerasDueNs === undefined)) this.stats.final++;
      else this.stats.deadline++;
      out.push(this.emitHead(nowNs));
    }
    this.emitFinal(nowNs, out);
    this.prune();
    return out;
  }

  /** The input ended: nothing more can arrive, so every pending frame is final. */
  flush(nowNs: bigint): FusedFrame[] {
    const out: FusedFrame[] = [];
    while (this.pending.length) {
      if (this.isFinal(this.pending[0]!.ref.stampNs, this.pending[0]!.camerasDueNs === undefined)) this.stats.final++;
      else this.stats.flushed++;
      out.push(this.emitHead(nowNs));
    }
    return out;
  }

  private emitFinal(nowNs: bigint, out: FusedFrame[]): void {
    while (this.pending.length && this.isFinal(this.pending[0]!.ref.stampNs, this.pending[0]!.camerasDueNs === undefined)) {
      this.stats.final++;
      out.push(this.emitHead(nowNs));
    }
  }

  /**
   * Can a frame at t still change? Not once nothing can arrive that it would use: the radar scan
   * that could beat the current nearest, the GNSS/ego sample after t, the voice ≤ t. By the global
   * watermark W every future stamp is ≥ W; with inOrderPerTopic, also every future stamp of a topic is
   * above that topic's last one. With `camerasWaited`, the other cameras no longer count (the frame has waited
   * for them as long as it may: their slots hold what has arrived).
   */
  isFinal(t: bigint, camerasWaited = false): boolean {
    const w = this.watermarkNs;
    const c = this.config;
    const perTopic = c.inOrderPerTopic;
    /** Nothing stamped below `until` can still arrive for modality m (a radar topic's next scan: not before its last + the min interval). */
    const closed = (m: Buffered, until: bigint): boolean => {
      if (w !== undefined && w > until) return true;
      if (!perTopic) return false;
      const last = this.topicLast[m];
      if (last.size === 0) return false;
      const gap = m === "radar" ? c.radarMinIntervalNs : 0n;
      for (const s of last.values()) if (s + gap < until) return false;
      return true;
    };
    if (!perTopic && (w === undefined || w <= t)) return false;
    if (!c.noWaitFor.includes("radar")) {
      const best = nearest(this.buffers.radar, t, c.radarToleranceNs);
      const radarUntil = t + (best ? (best.stampNs >= t ? best.stampNs - t : t - best.stampNs) : c.radarToleranceNs);
      if (!closed("radar", radarUntil)) return false;
    }
    for (const [m, maxAge] of [["gnss", c.gnssMaxAgeNs], ["ego", c.egoMaxAgeNs]] as const) {
      if (c.noWaitFor.includes(m)) continue;
      const { next } = neighbours(this.buffers[m], t, maxAge);
      if (!closed(m, next ? next.stampNs : t + maxAge)) return false;
    }
    // Other cameras, each on its own: the frame that could still beat its nearest. One that has not
    // delivered for two tolerances (dead, or never started) holds nobody back: its slot is masked.
    // Cameras have their own lateness (cameraLatenessNs): another camera's frame is still to come until the
    // camera watermark has passed what could beat the nearest (a camera as late as the reference is waited for).
    if (camerasWaited) return true;
    const wc = this.cameraLateBelowNs();
    for (const topic of this.secondaryTopics) {
      const best = nearest(this.secondary.filter((m) => m.topic === topic), t, c.cameraToleranceNs);
      const until = t + (best ? (best.stampNs >= t ? best.stampNs - t : t - best.stampNs) : c.cameraToleranceNs);
      if (wc !== undefined && wc > until) continue;
      if (!perTopic) return false;
      const last = this.cameraLast.get(topic);
      if (last === undefined || last >= until || last < t - 2n * c.cameraToleranceNs) continue;
      return false;
    }
    return true;
  }

  private evictFairly(buf: SampleBuffer, max: number): void {
    evictFairly(buf, max, (m) => this.drop(m, "queue_overflow"));
  }

  private emitHead(nowNs: bigint): FusedFrame {
    const { ref } = this.pending.shift()!;
    this.lastEmitted = ref;
    this.stats.frames++;
    const frame = buildFrame(ref, this.buffers, this.config, this.seq++, nowNs, this.secondary);
    for (const [topic, slot] of Object.entries(frame.cameras ?? {})) {
      if (slot) continue;
      this.stats.cameraMissing++;
      this.stats.cameraMissingBy[topic] = (this.stats.cameraMissingBy[topic] ?? 0) + 1;
    }
    return frame;
  }

  /**
   * Forgets what no future frame can use. A reference accepted from now on has a stamp ≥ the camera watermark
   * (the newest stamp less the camera lateness) and ≥ the last emitted one, so every future frame has
   * t ≥ min(oldest pending, max(camera watermark, last emitted)). Then caps each buffer.
   */
  private prune(): void {
    const c = this.config;
    let tMin = this.cameraLateBelowNs();
    if (this.lastEmitted && (tMin === undefined || this.lastEmitted.stampNs > tMin)) tMin = this.lastEmitted.stampNs;
    const head = this.pending[0]?.ref.stampNs;
    if (head !== undefined && (tMin === undefined || head < tMin)) tMin = head;
    if (tMin !== undefined) {
      const keepFrom: Record<Buffered, bigint> = {
        radar: tMin - c.radarToleranceNs,
        gnss: tMin - c.gnssMaxAgeNs,
        ego: tMin - c.egoMaxAgeNs,
        voice: tMin - c.voiceTtlNs,
      };
      for (const m of BUFFERED) {
        const buf = this.buffers[m];
        const cut = lowerBound(buf, keepFrom[m]);
        if (cut > 0) buf.splice(0, cut);
      }
      const cut = lowerBound(this.secondary, tMin - c.cameraToleranceNs);
      if (cut > 0) this.secondary.splice(0, cut);
    }
    for (const m of BUFFERED) {
      const buf = this.buffers[m];
      if (buf.length > c.maxBuffer) this.evictFairly(buf, c.maxBuffer);
    }
    // Camera frames are large (a raw 1080p frame is 6 MB): at most 8 per other camera are held.
    const maxFrames = 8 * this.secondaryTopics.size;
    while (this.secondary.length > maxFrames) this.drop(this.secondary.shift()!, "queue_overflow");
  }
}

/**
 * Per-topic shares of a full buffer: the oldest sample of the topic holding the most is evicted first, so a
 * flood on one topic (a second radar gone wild, an intruder on an accepted id) evicts its own samples and
 * never another topic's.
 */
function evictFairly(buf: SampleBuffer, max: number, drop: (m: SensorMessage<Modality>) => void): void {
  const counts = new Map<string, number>();
  for (const m of buf) counts.set(m.topic, (counts.get(m.topic) ?? 0) + 1);
  while (buf.length > max) {
    let top = "";
    let most = -1;
    for (const [t, n] of counts) if (n > most) [top, most] = [t, n];
    const i = buf.findIndex((m) => m.topic === top);
    drop(buf.splice(i, 1)[0]!);
    counts.set(top, most - 1);
  }
}

/**
 * The frame at the reference's stamp from per-modality sample buffers (sorted by (stamp, topic)).
 * The aligner calls it with everything it holds; replay calls it with exactly the messages a live
 * frame recorded as its inputs (pipeline/frame-inputs.ts), which yields the same slots.
 */
export function buildFrame(ref: SensorMessage<Modality>, buffers: Readonly<Record<Buffered, SampleBuffer>>, c: ResolvedAlignerConfig, seq: number, nowNs: bigint, otherCameras: SampleBuffer = []): FusedFrame {
  const t = ref.stampNs;
  // Each buffer holds only its modality's messages (push files them by kind), so each slot has that modality's type.
  const slots: FusedFrame["slots"] = {
    camera: { message: ref.message as CameraMessage, topic: ref.topic, stampNs: t, ageNs: 0n, receiveNs: ref.receiveNs, interpolated: false, held: false, inputs: [{ topic: ref.topic, stampNs: t }] },
  };
  // Radar moved to t only where the frame did not wait for it (see AlignerConfig.extrapolate).
  // "latest": the last scan at or before t; else the nearest.
  const scan = c.radarScan === "latest" ? latestWithin(buffers.radar, t, c.radarToleranceNs) : nearest(buffers.radar, t, c.radarToleranceNs);
  const radar = scan && (c.extrapolate.includes("radar") && c.noWaitFor.includes("radar") ? extrapolatedScan(scan, t, c.stampField) : scanSlot(scan, t));
  if (radar) slots.radar = radar as FrameSlot<RadarMessage>;
  const valueAt = (m: "gnss" | "ego") => (c.extrapolate.includes(m) ? extrapolatedSlot : interpolatedSlot);
  const gnss = valueAt("gnss")(buffers.gnss, t, c.gnssMaxAgeNs, c.interpolate.gnss, c.stampField);
  if (gnss) slots.gnss = gnss as FrameSlot<GnssMessage>;
  const ego = valueAt("ego")(buffers.ego, t, c.egoMaxAgeNs, c.interpolate.ego, c.stampField);
  if (ego) slots.ego = ego as FrameSlot<EgoMessage>;
  const voice = latestSlot(buffers.voice, t, c.voiceTtlNs);
  if (voice) slots.voice = voice as FrameSlot<VoiceMessage>;
  const present = emptyPresence();
  const ageNs: Partial<Record<Modality, bigint>> = {};
  let lastInputReceiveNs = ref.receiveNs;
  for (const [m, slot] of Object.entries(slots) as Array<[Modality, FrameSlot]>) {
    present[m] = true;
    ageNs[m] = slot.ageNs;
    if (slot.receiveNs > lastInputReceiveNs) lastInputReceiveNs = slot.receiveNs;
  }
  const frame: FusedFrame = { stampNs: t, seq, slots, present, ageNs, lastInputReceiveNs, emittedNs: nowNs };
  if (c.cameras.length > 1) {
    const cameras: NonNullable<FusedFrame["cameras"]> = {};
    for (const topic of c.cameras) {
      if (topic === ref.topic) continue;
      const slot = nearestSlot(otherCameras.filter((m) => m.topic === topic), t, c.cameraToleranceNs);
      cameras[topic] = (slot as FrameSlot<CameraMessage> | undefined) ?? null;
      if (slot && slot.receiveNs > frame.lastInputReceiveNs) frame.lastInputReceiveNs = slot.receiveNs;
    }
    frame.cameras = cameras;
  }
  return frame;
}
