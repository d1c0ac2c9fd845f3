/**
 * Open loop: recordings replayed through the pipeline on a virtual clock driven by the recorded receive
 * stamps (replay/'s reader, decoder and ReplayClock, as `fusiond replay` and `fusiond train` read them),
 * each decision joined to the expert label of its step (fusion/'s truth index, as training joins them).
 */
import { classIndexOf, indexTruths, truthAt, type DrivingDecision } from "../../fusion/index.ts";
import { conditionsOf } from "../score/conditions.ts";
import { ACTION_CLASSES, scoreOpenLoop, type DecisionRecord } from "../score/open-loop.ts";
import type { OpenLoopReport } from "../score/report.ts";
import { buildTimeline, type TimelinePoint } from "../score/timeline.ts";
import { McapRecording, ReplayClock, decodeRecording, fileSource, MemorySource } from "../../replay/index.ts";
import { FusiondError, type FusedFrame, type Modality, type TruthMessage } from "../../schemas/index.ts";
import { schedulerNowNs } from "../../schemas/scheduler-time.ts";
import { makeDecide, recordingMaps, sensorStatus, type EvalModel } from "./decider.ts";
import { EvalHarness } from "./harness.ts";
import { evalAligner, vehicleOfTopic } from "./model-cameras.ts";
import type { ModelRunner, SupervisorConfig } from "../../fusion/index.ts";

export interface OpenLoopOptions {
  mask: readonly Modality[];
  supervisor?: SupervisorConfig;
  /** Episode to draw the timeline of (default: the first labelled one). */
  timelineEpisode?: string;
  /** Bytes of a file instead of reading it (tests). */
  open?: (file: string) => Promise<McapRecording>;
  /**
   * Frames decided at once (default 32): their model calls run as one batch where they are waiting together
   * (DecisionEngine.decide); the decisions are the same for any value. At most the runner's queueCapacity
   * (decisionsAtOnce); its maxBatch should be as large for the model calls to be as large.
   */
  batch?: number;
  /** Called with (file index, fraction of its messages read). */
  onProgress?: (file: number, files: number, decisions: number) => void;
}

export interface OpenLoopResult {
  report: OpenLoopReport;
  records: DecisionRecord[];
}

/**
 * What the report reads of a decided frame, taken when it is decided: the frame itself (its messages, and the
 * chunk buffers their bytes lie in) is not kept for the whole file, so the heap stays small on long drives.
 */
interface Made {
  stampNs: bigint;
  alignMs: number;
  sensors: Record<string, "ok" | "stale" | "missing">;
  decision: DrivingDecision;
}

const madeOf = (frame: FusedFrame, decision: DrivingDecision, mask: readonly Modality[]): Made => ({
  stampNs: frame.stampNs,
  alignMs: Number(frame.emittedNs - frame.lastInputReceiveNs) / 1e6,
  sensors: sensorStatus(frame, mask),
  decision,
});

/** Frames in flight before the reader waits for them all to be decided: at least two batches. */
const inFlight = (batch: number): number => Math.max(32, 2 * batch);

export const DEFAULT_OPEN_LOOP_BATCH = 32;

/**
 * Frames decided at once: the batch asked for, but never more than the model's runner holds waiting. Past its
 * queueCapacity a runner drops the oldest call (the frame is then decided by rule, OVERRIDE_OTHER), and how many
 * calls wait together depends on when the event loop lets the runner drain, e.g. whether the recording's reads
 * are file reads (macrotasks) or reads from memory (microtasks): decisions would depend on timing, not on the
 * recording (a dataset drive read whole into memory lost 143 of its 159 model calls to a runner of capacity 16).
 * Each decision in flight has at most one call waiting on the primary runner, so this bound keeps every call.
 */
export function decisionsAtOnce(batch: number | undefined, runner: { queueCapacity?: number }): number {
  const asked = Math.max(1, Math.floor(batch ?? DEFAULT_OPEN_LOOP_BATCH));
  return Math.min(asked, Math.max(1, runner.queueCapacity ?? asked));
}

/** Calls dropped so far by a runner and its command recogniser (the evaluation must drop none). */
const droppedCalls = (runner: ModelRunner): number => runner.stats().dropped + (runner.commands?.stats().dropped ?? 0);

/** Recordings up to this size are read into memory whole before they are decoded (see openFile). */
export const OPEN_LOOP_IN_MEMORY_BYTES = 256 * 1024 * 1024;

/**
 * Opens a recording for the open loop: one of up to OPEN_LOOP_IN_MEMORY_BYTES is read whole (one read) and
 * decoded from memory, as the whole file is read anyway. Read piecewise, the reader's many small reads (each
 * chunk's message indexes, then its data, each an fs/promises round trip) cost ~17% of the open loop's CPU
 * time without a model (bench/README.md, #17); the bytes, and so the decisions, are the same (the way the reads
 * interleave with the event loop does not matter since decisionsAtOnce: test/eval/run/open-loop-timing.test.ts).
 */
async function openFile(file: string): Promise<McapRecording> {
  const source = await fileSource(file);
  const size = await source.size();
  if (size > BigInt(OPEN_LOOP_IN_MEMORY_BYTES)) return McapRecording.open(source);
  try {
    return await McapRecording.open(new MemorySource(await source.read(0n, size), file));
  } finally {
    await source.close();
  }
}

/** Scenario changes by stamp, for the per-scenario map: [stamp, scenario] in stamp order. */
class ScenarioIndex {
  private readonly stamps: bigint[] = [];
  private readonly names: string[] = [];
  note(stampNs: bigint, name: string): void {
    if (this.names[this.names.length - 1] !== name) {
      this.stamps.push(stampNs);
      this.names.push(name);
    }
  }
  at(stampNs: bigint): string | undefined {
    let i = this.stamps.length - 1;
    while (i >= 0 && this.stamps[i]! > stampNs) i--;
    return i >= 0 ? this.names[i] : undefined;
  }
}

export async function decideFile(file: string, model: EvalModel, o: OpenLoopOptions, progress: (n: number) => void): Promise<{ made: Made[]; truths: TruthMessage[]; firstNs?: bigint; lastNs?: bigint }> {
  const rec = await (o.open ?? openFile)(file);
  const mapOf = recordingMaps(await rec.metadata(), file);
  const clock = new ReplayClock();
  const truths: TruthMessage[] = [];
  const made: Made[] = [];
  const scenarios = new ScenarioIndex();
  const batch = decisionsAtOnce(o.batch, model.runner);
  const droppedBefore = droppedCalls(model.runner);
  // Built at the first message's instant: the pipeline's periodic timers start there, not at time zero.
  // The recording's vehicle (for the model's camera topics) is that of its first message.
  const start = (topic: string | undefined): EvalHarness =>
    new EvalHarness({
      scheduler: clock.scheduler,
      aligner: evalAligner(model.spec, (topic && vehicleOfTopic(topic)) ?? "sim"),
      concurrency: batch,
      decide: makeDecide(model, {
        mask: o.mask,
        ...(o.supervisor ? { supervisor: o.supervisor } : {}),
        nowNs: () => schedulerNowNs(clock.scheduler),
        mapAt: (ns) => mapOf(scenarios.at(ns) ?? ""),
      }),
      onTruth: (t, m) => {
        truths.push(t);
        const name = String(t.scenario ?? "");
        mapOf(name); // a scenario without a map fails the file here, not silently at decision time
        scenarios.note(m.stampNs, name);
      },
      onDecision: (d) => {
        made.push(madeOf(d.frame, d.decision, o.mask));
        if (made.length % 500 === 0) progress(made.length);
      },
    });
  let h: EvalHarness | undefined;
  let firstNs: bigint | undefined;
  let lastNs: bigint | undefined;
  try {
    for await (const d of decodeRecording(rec)) {
      const at = d.recorded.receiveNs;
      firstNs ??= at;
      lastNs = at;
      clock.advanceTo(at);
      h ??= start(d.recorded.topic);
      if (d.message) h.input.next(d.message);
      if (h.outstanding >= inFlight(batch)) await h.settle(0);
    }
    h ??= start(undefined);
    // Let the aligner's deadlines fall, as replay does, then end the input (which flushes the rest).
    if (lastNs !== undefined) clock.advanceTo(lastNs + 1_000_000_000n);
    await h.settle(0);
    const done = h.finish();
    if (lastNs !== undefined) clock.drain(lastNs + 2_000_000_000n);
    await done;
    const dropped = droppedCalls(model.runner) - droppedBefore;
    if (dropped > 0) {
      throw new FusiondError("model_calls_dropped", `${file}: the model's runner dropped ${dropped} calls (queue full): those frames were decided by rule, at the event loop's whim`, { file, dropped });
    }
  } finally {
    h?.close();
    await rec.close();
  }
  return { made, truths, ...(firstNs !== undefined ? { firstNs } : {}), ...(lastNs !== undefined ? { lastNs } : {}) };
}

const actionName = (a: unknown): string => ACTION_CLASSES[classIndexOf(a)] ?? String(a ?? "none");

/**
 * What one recording gives, whatever its path: the unit of open-loop work (one fleet job). Episodes are
 * named by their GroundTruth episode id only; the merge prefixes the file as given (`file#id`), so a
 * result computed for one path is valid for any path to the same bytes. JSON-safe (no bigint).
 */
export interface OpenLoopFilePart {
  /** Decisions made (labelled or not). */
  decisions: number;
  /** Recorded span, ns, as a decimal string (0 when empty). */
  durationNs: string;
  /** Labelled decisions in frame-stamp order; `episode` is the bare episode id. */
  records: DecisionRecord[];
  /** Timeline points per bare episode id, in order of first appearance. */
  points: Array<[string, TimelinePoint[]]>;
}

/** Replays one file through the pipeline with `model` and joins its decisions to their labels. */
export async function openLoopFile(file: string, model: EvalModel, o: OpenLoopOptions, onDecisions: (n: number) => void = () => {}): Promise<OpenLoopFilePart> {
  const { made, truths, firstNs, lastNs } = await decideFile(file, model, o, onDecisions);
  const index = indexTruths(truths);
  const episodeStart = new Map<string, bigint>();
  const records: DecisionRecord[] = [];
  const points = new Map<string, TimelinePoint[]>();
  made.sort((a, b) => (a.stampNs < b.stampNs ? -1 : a.stampNs > b.stampNs ? 1 : 0));
  for (const { stampNs, alignMs, sensors, decision } of made) {
    const truth = truthAt(index, stampNs);
    const label = truth ? classIndexOf(truth.expert_action) : -1;
    if (!truth || label < 0) continue;
    const episode = String(truth.episode_id ?? "");
    if (!episodeStart.has(episode)) episodeStart.set(episode, stampNs);
    const tS = Number(stampNs - episodeStart.get(episode)!) / 1e9;
    const probs = decision.probabilities.length ? ACTION_CLASSES.map((c) => decision.probabilities.find((p) => p.action === c)?.probability ?? 0) : undefined;
    records.push({
      episode,
      tS,
      truth: label,
      pred: classIndexOf(decision.action),
      ...(probs ? { probs } : {}),
      conditions: conditionsOf(truth),
      alignMs,
      inferenceMs: decision.inference_ms,
      override: decision.override_reason,
      sensors,
    });
    let p = points.get(episode);
    if (!p) points.set(episode, (p = []));
    p.push({ tS, decision: decision.action, expert: actionName(truth.expert_action), sensors, speedMps: Number(truth.speed_mps ?? 0) });
  }
  const durationNs = firstNs !== undefined && lastNs !== undefined ? lastNs - firstNs : 0n;
  return { decisions: made.length, durationNs: durationNs.toString(), records, points: [...points] };
}

/**
 * The open-loop report of several files from their parts (in file order): the one merge both the
 * single-process run and the fleet use. `parts[i]` belongs to `files[i]`.
 */
export function mergeOpenLoop(files: readonly string[], parts: readonly OpenLoopFilePart[], o: Pick<OpenLoopOptions, "mask" | "timelineEpisode">): OpenLoopResult {
  const records: DecisionRecord[] = [];
  const points = new Map<string, TimelinePoint[]>();
  let decisions = 0;
  let durationNs = 0n;
  parts.forEach((part, fi) => {
    const file = files[fi]!;
    decisions += part.decisions;
    durationNs += BigInt(part.durationNs);
    for (const r of part.records) records.push({ ...r, episode: `${file}#${r.episode}` });
    for (const [episode, p] of part.points) {
      const key = `${file}#${episode}`;
      points.set(key, [...(points.get(key) ?? []), ...p]);
    }
  });
  const report = scoreOpenLoop(records, { files: [...files], decisions, durationS: Number(durationNs) / 1e9, masked: [...o.mask] });
  const pick = (o.timelineEpisode && [...points.keys()].find((k) => k.endsWith(`#${o.timelineEpisode}`) || k === o.timelineEpisode)) || points.keys().next().value;
  if (pick !== undefined) report.timeline = buildTimeline(pick, "open-loop", points.get(pick)!);
  return { report, records };
}

/** Replays every file through the pipeline with `model`, joins decisions to labels, scores them. */
export async function runOpenLoop(files: readonly string[], model: EvalModel, o: OpenLoopOptions): Promise<OpenLoopResult> {
  const parts: OpenLoopFilePart[] = [];
  let decisions = 0;
  for (const [fi, file] of files.entries()) {
    const part = await openLoopFile(file, model, o, (n) => o.onProgress?.(fi, files.length, decisions + n));
    decisions += part.decisions;
    parts.push(part);
  }
  return mergeOpenLoop(files, parts, o);
}

/** Opens recordings from memory (tests): file name → bytes. */
export const memoryOpener =
  (files: Record<string, Uint8Array>) =>
  (file: string): Promise<McapRecording> =>
    McapRecording.open(new MemorySource(files[file]!, file));
