/**
 * One recording replayed — `fusiond replay`'s unit of work, run by the command and by fleet workers alike:
 * run a recording through the pipeline — the same graph the daemon
 * runs — on a virtual clock driven by the recorded receive stamps, and score the decisions against the
 * ones recorded live. Each message waits for the inference it triggered (driveReplay's `settle`), so the
 * decision stream depends on the recording and the model only, never on the speed of this machine.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { performance } from "node:perf_hooks";
import { concatMap, from, map, Observable, of, timer, type SchedulerLike } from "rxjs";
import { parse as parseYaml } from "yaml";
import { roadMapView, servedRadarScan, type BackendChoice, type DrivingDecision, type MapView } from "../../fusion/index.ts";
import { parseDaemonConfig, type DaemonConfig } from "../../pipeline/daemon-config.ts";
import { alignerConfigFrom, createPipeline, frameInputsMessage, resolveAlignerConfig, type AlignerConfig, type PipelineMetrics } from "../../pipeline/index.ts";
import { daemonModelRadarScan, withModelRadarScan } from "../../pipeline/model-alignment.ts";
import { dropRedacted, FusiondError, MessageDecoder, TopicRegistry, type SensorMessage } from "../../schemas/index.ts";
import { schedulerNowNs } from "../../schemas/scheduler-time.ts";
import {
  checkRecordings,
  compareDecisions,
  driveReplay,
  fileSource,
  hasRecordedInputs,
  McapRecording,
  Pacer,
  parseRate,
  recordingInput,
  recordToFile,
  type Comparison,
  type McapRecorder,
  type ReadOptions,
  type RecordingInput,
  type SignatureStatus,
} from "../../replay/index.ts";
import { loadDecider, type Decider } from "../../fusion/inference/decider.ts";
import { parseRoadMap, readRoadMapFile } from "../../domain/road-map-file.ts";
import { FUSIOND_VERSION } from "../../schemas/version.ts";
import { replayRecordedFrames, type RecordedFramesResult } from "./recorded-frames.ts";

export interface ReplayOpts {
  model: string;
  out?: string;
  record?: string;
  backend?: string;
  start?: string;
  end?: string;
  topics?: string[];
  ignore: string;
  tolerance: string;
  quiet?: boolean;
  measured?: boolean;
  rate?: string;
  /** "zero" (default): decisions at once; "recorded": each released at the virtual instant it was made live. */
  latency?: string;
  /**
   * "recorded": decide exactly the frames decided live, rebuilt from the inputs each decision lists;
   * "aligner": run the whole pipeline (aligner, conflating decide stage) again on the virtual clock;
   * "auto" (default): recorded when the recording's decisions list their inputs and --latency is not recorded.
   */
  frames?: string;
  /**
   * With frames "recorded": frames handed to the model together (their model calls run as one batch; the
   * decisions are the same for any value, DecisionEngine.decide). Default 32; 1 when paced (--rate).
   */
  batch?: string;
  /** Road map (JSON) for GNSS map context; default: the map stored in the recording, if any (never a path the recording names). */
  map?: string;
  /** Public key (PEM) the recording must be signed with; a file that does not verify is refused. */
  verifyKey?: string;
  /** With verifyKey: replay an unsigned recording anyway (with a warning). */
  allowUnsigned?: boolean;
  /** Where warnings go (unsigned recording, a map the recording names but does not hold); default stderr. */
  onWarning?: (line: string) => void;
  /** For a ROS recording: the topic mapping (docs/ros.md); it is converted to a temporary fusiond recording first. */
  rosMap?: string;
  /** Called with each replayed decision's JSON view, keyed by frame stamp (ns, decimal); for tests and tools. */
  onDecision?: (key: string, decision: Record<string, unknown>) => void;
}

/** Fields that measure this run rather than decide anything; not compared by default. */
export const DEFAULT_IGNORE = ["latency_ms", "sensor_to_decision_ms", "inference_ms", "backend", "seq"];

export interface ReplayReport {
  file: string;
  model: { dir: string; id: string; hash: string; backend: string };
  recordedModel?: { id?: string; hash?: string };
  messages: number;
  rejectionsByReason: Record<string, number>;
  decisions: number;
  actions: Record<string, number>;
  overrides: number;
  /** Recorded span replayed, s; wall time it took, s; their ratio. */
  recordedS: number;
  wallS: number;
  speedX: number;
  /** CPU time of this process (user + system) during the replay, s: what one core did, whatever else shares it. */
  cpuS: number;
  /** Wall time before the replay began (open the file, read its metadata, load the model), s; not in wallS. */
  startupS: number;
  /** How frames were chosen (see --frames), and for "recorded" what became of each live decision. */
  frames: "recorded" | "aligner";
  /** The recording's signature: valid (checked with --verify-key), signed (not checked), unsigned, ... */
  signature: { status: SignatureStatus; reason: string; keyId?: string };
  recordedFrames?: Omit<RecordedFramesResult, "messages" | "rejectionsByReason" | "startNs" | "endNs">;
  comparison?: Comparison;
  metrics?: Omit<PipelineMetrics, "atNs" | "latency" | "sensorToDecision" | "alignerWait" | "topics" | "liveness">;
}

export const bigintJson = (_k: string, v: unknown): unknown => (typeof v === "bigint" ? v.toString() : v);

/**
 * Replays one recording: opens it (checking its signature first), reads what the daemon recorded about itself,
 * loads the model, runs the frames (recorded or aligned again), and scores the replayed decisions against the
 * live ones. The steps are the functions below, in this order.
 */
export async function runReplay(file: string, opts: ReplayOpts): Promise<ReplayReport> {
  const called = performance.now();
  const tolerance = Number(opts.tolerance);
  if (!Number.isFinite(tolerance) || tolerance < 0) throw new FusiondError("bad_option", `--tolerance must be a number ≥ 0, not "${opts.tolerance}"`);
  const warn = opts.onWarning ?? ((line: string): void => void process.stderr.write(`fusiond replay: ${line}\n`));
  const { input, signature, recording } = await openReplayInput(file, opts, warn);
  let recorder: McapRecorder | undefined;
  let decider: Decider | undefined;
  try {
    const recorded = await recordedSetup(recording, file);
    const read = readRange(recorded.base, opts);
    const clock: VirtualClock = { scheduler: undefined, nowNs: () => (clock.scheduler ? schedulerNowNs(clock.scheduler) : recorded.base) };
    const roadMap = replayMap(file, opts, recorded, warn);
    const rate = parseRate(opts.rate ?? "max");
    const batch = rate === "max" ? Number(opts.batch ?? 32) : 1;
    if (!Number.isInteger(batch) || batch < 1) throw new FusiondError("bad_option", `--batch must be a whole number ≥ 1, not "${opts.batch}"`);
    decider = await loadDecider({
      maxBatch: batch,
      modelDir: opts.model,
      backend: (opts.backend ?? "auto") as BackendChoice,
      nowNs: clock.nowNs,
      ...(roadMap ? { map: roadMap } : {}),
      ...(recorded.vehicle !== "+" ? { vehicleId: recorded.vehicle } : {}),
    });
    const framesMode = await chooseFrames(recording, recorded.registry, opts);
    const liveAt = await liveDecisionTimes(recording, opts);
    if (opts.record) recorder = await openReplayRecorder(opts.record, file, recorded, decider);
    const emitter = decisionEmitter(recorded, opts, recorder);
    const wall0 = performance.now();
    const cpu0 = process.cpuUsage();
    const pacer = rate === "max" ? undefined : new Pacer({ rate, nowNs: () => process.hrtime.bigint(), sleep: (ms) => sleep(ms) });
    const run = { recording, read, recorded, decider, recorder, emit: emitter.emit, pacer };
    const ran = framesMode === "recorded" ? await replayRecordedDecisions(run, batch) : await replayThroughAligner(run, clock, liveAt);
    const wallS = (performance.now() - wall0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const live = await liveDecisions(recording, recorded.codec, read);
    return replayReport({ file, opts, tolerance, signature, recorded, decider, framesMode, ran, emitter, live, wallS, cpu, startupS: (wall0 - called) / 1000 });
  } finally {
    decider?.close();
    await recorder?.close();
    await recording.close();
    await input.cleanup();
  }
}

type Signature = Awaited<ReturnType<typeof checkRecordings>>[number];

/** The virtual clock of a replay through the aligner: driveReplay's scheduler, once it is made. */
interface VirtualClock {
  scheduler: SchedulerLike | undefined;
  nowNs: () => bigint;
}

/** What the daemon recorded about itself: its config (secrets dropped), vehicle, and the first message's instant. */
interface RecordedSetup {
  meta: Map<string, string> | undefined;
  config: DaemonConfig | undefined;
  vehicle: string;
  registry: TopicRegistry;
  codec: MessageDecoder["codec"];
  base: bigint;
}

/** One replay's run: the recording, its range, the model and where each decision goes. */
interface ReplayRun {
  recording: McapRecording;
  read: ReadOptions & { topics: string[]; latched: string[] };
  recorded: RecordedSetup;
  decider: Decider;
  recorder: McapRecorder | undefined;
  emit: (decided: DrivingDecision, stampNs: bigint, atNs: bigint) => DrivingDecision;
  pacer: Pacer | undefined;
}

interface ReplayRan {
  result: { messages: number; rejectionsByReason: Record<string, number>; startNs?: bigint | undefined; endNs?: bigint | undefined };
  recordedFrames?: RecordedFramesResult;
  metrics?: PipelineMetrics;
}

/** The recording (a ROS one converted first), after its signature was checked: before anything in it is believed. */
async function openReplayInput(file: string, opts: ReplayOpts, warn: (line: string) => void): Promise<{ input: RecordingInput; signature: Signature | undefined; recording: McapRecording }> {
  const input = await recordingInput(file, opts.rosMap, opts.quiet ? undefined : (line) => process.stderr.write(`fusiond replay: ${line}\n`));
  // Before anything in the file is believed: is it what was signed? (A ROS recording converted here carries no signature.)
  let signature: Signature | undefined;
  try {
    if (!input.converted) [signature] = await checkRecordings([file], { ...(opts.verifyKey ? { verifyKey: opts.verifyKey } : {}), ...(opts.allowUnsigned ? { allowUnsigned: true } : {}) }, warn);
    return { input, signature, recording: await McapRecording.open(await fileSource(input.path)) };
  } catch (err) {
    await input.cleanup();
    throw err;
  }
}

async function recordedSetup(recording: McapRecording, file: string): Promise<RecordedSetup> {
  const meta = (await recording.metadata()).get("fusiond");
  // Secrets were redacted when it was recorded ("[redacted]" may not fit the key's format): drop them.
  const config = meta?.get("config") ? parseDaemonConfig(dropRedacted(parseYaml(meta.get("config")!) as unknown), `${file} (recorded config)`) : undefined;
  const vehicle = config?.vehicle ?? meta?.get("vehicle") ?? "+";
  const registry = new TopicRegistry(vehicle);
  const codec = new MessageDecoder({ registry }).codec;
  const base = await recording.startNs();
  if (base === undefined) throw new FusiondError("empty_recording", `${file}: no messages to replay`, { file });
  return { meta, config, vehicle, registry, codec, base };
}

/** The sensor topics and --start/--end (seconds from the first message) as what to read. */
function readRange(base: bigint, opts: ReplayOpts): ReplayRun["read"] {
  const seconds = (t: string, name: string): bigint => {
    const n = Number(t);
    if (!Number.isFinite(n) || n < 0) throw new FusiondError("bad_option", `${name} takes seconds from the first message, not "${t}"`);
    return base + BigInt(Math.round(n * 1e9));
  };
  const sensorTopics = opts.topics?.length ? opts.topics : ["vehicles/+/sensors/#", "vehicles/+/ego"];
  return {
    topics: sensorTopics,
    latched: ["vehicles/+/sensors/gnss/+", "vehicles/+/ego"],
    ...(opts.start !== undefined ? { startNs: seconds(opts.start, "--start") } : {}),
    ...(opts.end !== undefined ? { endNs: seconds(opts.end, "--end") } : {}),
  };
}

/**
 * The daemon decided with this map's context: without it, replayed decisions could not agree with live ones.
 * --map wins; else the map stored in the recording. A path named inside the recording (the recorded
 * config's `map`) is never opened: the file decides nothing about what this machine reads.
 */
function replayMap(file: string, opts: ReplayOpts, recorded: RecordedSetup, warn: (line: string) => void): MapView | undefined {
  const storedMap = opts.map ? undefined : recorded.meta?.get("map");
  if (opts.map) return roadMapView(readRoadMapFile(opts.map));
  if (storedMap) return roadMapView(parseRoadMap(storedMap, `road map stored in the recording ${file}`, file, "; pass --map FILE"));
  if (recorded.config?.map) warn(`the recorded config names a road map but the recording holds none; deciding without map context (pass --map FILE to use one)`);
  return undefined;
}

/** --latency and --frames checked; "auto" frames: recorded when the decisions list their inputs and --latency is not recorded. */
async function chooseFrames(recording: McapRecording, registry: TopicRegistry, opts: ReplayOpts): Promise<"recorded" | "aligner"> {
  if (opts.latency !== undefined && opts.latency !== "recorded" && opts.latency !== "zero") {
    throw new FusiondError("bad_option", `--latency must be recorded or zero, not "${opts.latency}"`);
  }
  const framesOpt = opts.frames ?? "auto";
  if (framesOpt !== "auto" && framesOpt !== "recorded" && framesOpt !== "aligner") {
    throw new FusiondError("bad_option", `--frames must be recorded, aligner or auto, not "${framesOpt}"`);
  }
  return framesOpt === "auto" ? (opts.latency !== "recorded" && (await hasRecordedInputs(recording, ["vehicles/+/decision"], new MessageDecoder({ registry }))) ? "recorded" : "aligner") : framesOpt;
}

/**
 * When each frame was decided live (decision log_time by frame stamp), with --latency recorded: replaying that
 * latency on the virtual clock makes the decide stage busy exactly when it was live, so it conflates the same frames.
 */
async function liveDecisionTimes(recording: McapRecording, opts: ReplayOpts): Promise<Map<bigint, bigint>> {
  const liveAt = new Map<bigint, bigint>();
  if (opts.latency === "recorded") {
    for await (const m of recording.messages({ topics: ["vehicles/+/decision"] })) if (!liveAt.has(m.publishNs)) liveAt.set(m.publishNs, m.receiveNs);
  }
  return liveAt;
}

/** --record: the replay's own recording (sensors as replayed, its decisions), with the recorded config. */
function openReplayRecorder(path: string, file: string, recorded: RecordedSetup, decider: Decider): Promise<McapRecorder> {
  const { meta, vehicle } = recorded;
  return recordToFile(path, {
    library: `fusiond/${FUSIOND_VERSION}`,
    metadata: {
      vehicle: vehicle === "+" ? undefined : vehicle,
      modelId: decider.primary.modelId,
      modelHash: decider.primary.modelHash,
      fusiondVersion: FUSIOND_VERSION,
      replayOf: file,
      ...(meta?.get("config") ? { config: meta.get("config") } : {}),
    },
  });
}

/** Each replayed decision counted, kept as JSON by frame stamp, handed to onDecision and recorded. */
function decisionEmitter(recorded: RecordedSetup, opts: ReplayOpts, rec: McapRecorder | undefined) {
  const { codec, vehicle } = recorded;
  const decisionTopic = (v: string): string => `vehicles/${v}/decision`;
  const replayed = new Map<string, unknown>();
  const actions: Record<string, number> = {};
  const counts = { overrides: 0 };
  // inference_ms is the one wall-clock measurement in a decision; everything else is a function of
  // the recording, the model and the (virtual) clock.
  const emit = (decided: DrivingDecision, stampNs: bigint, atNs: bigint): DrivingDecision => {
    const decision = opts.measured ? decided : { ...decided, inference_ms: 0 };
    actions[decision.action] = (actions[decision.action] ?? 0) + 1;
    if (decision.overridden) counts.overrides++;
    const bytes = codec.encode("fusiond.DrivingDecision", decision);
    const key = stampNs.toString();
    const json = codec.toJSON("fusiond.DrivingDecision", codec.decode("fusiond.DrivingDecision", bytes));
    replayed.set(key, json);
    opts.onDecision?.(key, json);
    const v = decision.vehicle_id || (vehicle === "+" ? "unknown" : vehicle);
    rec?.addMessage({ topic: decisionTopic(v), type: "fusiond.DrivingDecision", bytes, receiveNs: atNs, stampNs });
    return decision;
  };
  return { emit, replayed, actions, counts };
}

/**
 * The alignment a replay decides with: the recorded config's, with the replaying model's radar scan as the daemon
 * takes it (pipeline/model-alignment.ts: a model trained on the latest scan, or chosen to be served on it, gets it
 * unless the config names aligner.radarScan). Without it a daemon session served on the latest scan replayed on the
 * nearest one, unmoved: other frames than those decided live.
 */
function replayAligner(run: Pick<ReplayRun, "recorded" | "decider">): AlignerConfig {
  const served = servedRadarScan(run.decider.primary.spec);
  const { config } = run.recorded;
  if (!config) return withModelRadarScan({}, served);
  return alignerConfigFrom(daemonModelRadarScan(config, served).config.aligner, config.vehicle);
}

/** Frames "recorded": exactly the frames decided live, rebuilt from the inputs each decision lists. */
async function replayRecordedDecisions(run: ReplayRun, batch: number): Promise<ReplayRan> {
  const { read, recorded, decider: d, recorder: rec, pacer } = run;
  const { config, registry } = recorded;
  const recordedFrames = await replayRecordedFrames({
    recording: run.recording,
    read: { topics: read.topics, ...(read.startNs !== undefined ? { startNs: read.startNs } : {}), ...(read.endNs !== undefined ? { endNs: read.endNs } : {}) },
    decoder: new MessageDecoder({ registry }),
    aligner: resolveAlignerConfig(replayAligner(run)),
    // Each decision stands for the instant it was made live (its latency_ms reads that clock).
    decide: (frame, atNs) => d.decide(frame, { nowNs: atNs }),
    batch,
    ...(rec ? { onMessage: (m: SensorMessage) => void rec.addSensorMessage(m) } : {}),
    onDecision: (decision, frame, atNs) => void run.emit(decision, frame.stampNs, atNs),
    ...(pacer ? { pacer } : {}),
  });
  return { result: recordedFrames, recordedFrames };
}

/**
 * The model's decisions, each promise kept until settled (driveReplay's `settle` waits for them); with --latency
 * recorded, each released at the virtual instant it was made live.
 */
function virtualDecide(d: Decider, liveAt: Map<bigint, bigint>, clock: VirtualClock) {
  const pending = new Set<Promise<unknown>>();
  const decide = (frame: Parameters<typeof d.decide>[0]): Promise<DrivingDecision> | Observable<DrivingDecision> => {
    const p = d.decide(frame);
    pending.add(p);
    void p.finally(() => pending.delete(p)).catch(() => undefined);
    const at = liveAt.get(frame.stampNs);
    if (at === undefined || !clock.scheduler) return p;
    const sched = clock.scheduler;
    return from(p).pipe(concatMap((decision) => {
      const waitMs = Number(at - clock.nowNs()) / 1e6;
      return waitMs > 0 ? timer(waitMs, sched).pipe(map(() => decision)) : of(decision);
    }));
  };
  const settle = async (): Promise<void> => {
    while (pending.size > 0) await Promise.allSettled([...pending]);
  };
  return { decide, settle };
}

/** Frames "aligner": the whole pipeline (aligner, conflating decide stage) again, on the virtual clock. */
async function replayThroughAligner(run: ReplayRun, clock: VirtualClock, liveAt: Map<bigint, bigint>): Promise<ReplayRan> {
  const { recorded, recorder: rec, pacer } = run;
  const { config, registry } = recorded;
  const { decide, settle } = virtualDecide(run.decider, liveAt, clock);
  let metrics: PipelineMetrics | undefined;
  const result = await driveReplay<DrivingDecision>({
    recording: run.recording,
    read: run.read,
    settle,
    ...(pacer ? { pacer } : {}),
    decoder: new MessageDecoder({ registry }),
    collect: false,
    build: (input: Observable<SensorMessage>, sched) => {
      clock.scheduler = sched;
      return new Observable<DrivingDecision>((subscriber) => {
        const pipeline = createPipeline<DrivingDecision>({
          sources: input,
          scheduler: sched,
          registry,
          aligner: replayAligner(run),
          decide,
          sinks: {
            message: rec ? (m) => void rec.addSensorMessage(m) : undefined,
            decision: (dd) => {
              const decision = { ...dd.decision, inputs: frameInputsMessage(dd.frame) };
              subscriber.next(run.emit(decision, dd.frame.stampNs, dd.decidedNs));
            },
          },
        });
        // Its error is pipeline.done's rejection, handed to the subscriber below; unhandled here it would be
        // thrown as uncaught (every pipeline stream errors together).
        const sub = pipeline.metrics$.subscribe({ next: (m) => (metrics = m), error: () => undefined });
        pipeline.done.then(
          (m) => {
            metrics = m;
            subscriber.complete();
          },
          (err: unknown) => subscriber.error(err),
        );
        pipeline.start();
        return () => {
          sub.unsubscribe();
          pipeline.stop();
        };
      });
    },
  });
  return { result, ...(metrics ? { metrics } : {}) };
}

/** The decisions the daemon made live, from the same recording and range, as JSON by frame stamp. */
async function liveDecisions(recording: McapRecording, codec: RecordedSetup["codec"], read: ReplayRun["read"]): Promise<Map<string, unknown>> {
  const live = new Map<string, unknown>();
  const liveRange = { ...(read.startNs !== undefined ? { startNs: read.startNs } : {}), ...(read.endNs !== undefined ? { endNs: read.endNs } : {}) };
  for await (const m of recording.messages({ topics: ["vehicles/+/decision"], ...liveRange })) {
    const decoded = codec.decode("fusiond.DrivingDecision", m.bytes);
    live.set(m.publishNs.toString(), codec.toJSON("fusiond.DrivingDecision", decoded));
  }
  return live;
}

function replayReport(r: {
  file: string;
  opts: ReplayOpts;
  tolerance: number;
  signature: Signature | undefined;
  recorded: RecordedSetup;
  decider: Decider;
  framesMode: "recorded" | "aligner";
  ran: ReplayRan;
  emitter: ReturnType<typeof decisionEmitter>;
  live: Map<string, unknown>;
  wallS: number;
  cpu: NodeJS.CpuUsage;
  startupS: number;
}): ReplayReport {
  const { file, opts, signature, decider, ran, wallS, cpu } = r;
  const { meta } = r.recorded;
  const { result, recordedFrames, metrics } = ran;
  const recordedS = result.startNs !== undefined && result.endNs !== undefined ? Number(result.endNs - result.startNs) / 1e9 : 0;
  const ignore = opts.ignore.split(",").map((s) => s.trim()).filter(Boolean);
  // Scheduler-time figures (bigint ns) describe the run, not the drive: left out of the report.
  const { atNs: _a, latency: _l, sensorToDecision: _s, alignerWait: _w, topics: _t, liveness: _v, ...m } = metrics ?? ({} as PipelineMetrics);
  return {
    file,
    model: { dir: opts.model, id: decider.primary.modelId, hash: decider.primary.modelHash, backend: decider.backend.tfBackend },
    ...(meta ? { recordedModel: { ...(meta.get("modelId") ? { id: meta.get("modelId") } : {}), ...(meta.get("modelHash") ? { hash: meta.get("modelHash") } : {}) } } : {}),
    messages: result.messages,
    rejectionsByReason: result.rejectionsByReason,
    decisions: r.emitter.replayed.size,
    actions: r.emitter.actions,
    overrides: r.emitter.counts.overrides,
    recordedS,
    wallS,
    speedX: wallS > 0 ? recordedS / wallS : 0,
    cpuS: (cpu.user + cpu.system) / 1e6,
    startupS: r.startupS,
    frames: r.framesMode,
    signature: signature
      ? { status: signature.status, reason: signature.reason, ...(signature.keyId ? { keyId: signature.keyId } : {}) }
      : { status: "unsigned", reason: "converted from a ROS recording (a ROS bag carries no fusiond signature)" },
    ...(recordedFrames ? { recordedFrames: (({ messages: _m, rejectionsByReason: _r, startNs: _s, endNs: _e, ...counts }) => counts)(recordedFrames) } : {}),
    ...(r.live.size > 0 ? { comparison: compareDecisions(r.live, r.emitter.replayed, { ignore, tolerance: r.tolerance }) } : {}),
    ...(metrics ? { metrics: m } : {}),
  };
}
