/**
 * The frames a daemon decided live, with the messages each was built from. Since a decision records
 * its inputs (fusiond.DrivingDecision.inputs: modality, topic, event stamp of every message the frame
 * used), replay need not guess which frames the live aligner emitted and the decide stage kept: it
 * reads them. This is openpilot's process-replay lesson: log what the decision depended on, then
 * replay exactly that.
 *
 * Reads the recording once, in log_time order, through the live decode path. A decision's inputs
 * were received before it was made, so they precede it in log_time (up to the resolution of the clock
 * that stamped them: see `graceNs`); they are looked up among the
 * sensor messages read so far, which are kept only as long as a later frame could use them (by event
 * stamp, `lookbackNs` behind the newest decided frame) and at most `maxHeld` of them.
 */
import { MODALITIES, MessageDecoder, isModalityMessage, timestampToNs, type DecisionMessage, type Modality, type Rejection, type SensorMessage } from "../schemas/index.ts";
import type { McapRecording, ReadOptions } from "./reader.ts";
import { decodeRecording } from "./source.ts";

/** One input as a decision recorded it. */
export interface RecordedInput {
  modality: Modality;
  topic: string;
  stampNs: bigint;
}

export interface DecidedFrame {
  /** The decision recorded live (kind "decision"; receiveNs is when it was made). */
  decision: SensorMessage<"decision">;
  /** Its inputs as recorded, in order (empty for decisions recorded without provenance). */
  inputs: RecordedInput[];
  /** The recorded messages for them, same order, those found. */
  messages: Array<{ modality: Modality; message: SensorMessage<Modality> }>;
  /** Inputs not in the recording as read (dropped by the recorder, in an earlier file, before --start). */
  missing: RecordedInput[];
}

export type RecordedItem =
  | { kind: "message"; message: SensorMessage }
  | { kind: "rejection"; rejection: Rejection }
  | { kind: "decision"; frame: DecidedFrame };

export interface DecidedFramesOptions {
  /** Range and topics read; decision topics must be among the topics (default: everything). */
  read?: ReadOptions;
  decoder?: MessageDecoder;
  /** How far behind a frame's stamp its inputs may be, ns: the largest of the aligner's max ages and TTLs. */
  lookbackNs: bigint;
  /** Most sensor messages kept for lookup (default 100,000); beyond it the oldest are forgotten, counted. */
  maxHeld?: number;
  /**
   * How long after a decision (log_time) its inputs may still appear, ns (default 100 ms). A replayed
   * session's decisions are stamped by a virtual clock of sub-µs resolution and may precede their last
   * input by a hair.
   */
  graceNs?: bigint;
}

export interface DecidedFramesStats {
  /** Held messages forgotten because of maxHeld. */
  evicted: number;
}

const key = (topic: string, stampNs: bigint): string => `${stampNs}\u0000${topic}`;

const isModality = (m: unknown): m is Modality => typeof m === "string" && (MODALITIES as readonly string[]).includes(m);

/** The inputs a decoded DrivingDecision lists; entries with an unknown modality are skipped. */
export function recordedInputs(decision: Pick<DecisionMessage, "inputs">): RecordedInput[] {
  const out: RecordedInput[] = [];
  for (const i of decision.inputs ?? []) {
    if (!isModality(i.modality) || typeof i.topic !== "string") continue;
    out.push({ modality: i.modality, topic: i.topic, stampNs: timestampToNs(i.stamp) });
  }
  return out;
}

/** Whether the recording's first decision lists its inputs (so frames can be replayed as recorded). */
export async function hasRecordedInputs(recording: McapRecording, decisionTopics: readonly string[] = ["vehicles/+/decision"], decoder = new MessageDecoder()): Promise<boolean> {
  for await (const d of decodeRecording(recording, { topics: decisionTopics }, decoder)) {
    if (d.message?.kind !== "decision") continue;
    return recordedInputs(d.message.message).length > 0;
  }
  return false;
}

/**
 * Sensor messages, rejections and decided frames, in log_time order (a decision comes once `graceNs`
 * of log_time has passed after it, so inputs stamped a hair later by a coarse clock are found).
 */
export async function* decidedFrames(recording: McapRecording, options: DecidedFramesOptions, stats: DecidedFramesStats = { evicted: 0 }): AsyncGenerator<RecordedItem> {
  const held = new Map<string, SensorMessage>();
  // Arrival order, for pruning; roughly stamp order, so the front is what goes first.
  const order: SensorMessage[] = [];
  let head = 0;
  const maxHeld = options.maxHeld ?? 100_000;
  const graceNs = options.graceNs ?? 100_000_000n;
  const waiting: SensorMessage<"decision">[] = [];
  const resolve = (m: SensorMessage<"decision">): RecordedItem => {
    const inputs = recordedInputs(m.message);
    const messages: DecidedFrame["messages"] = [];
    const missing: RecordedInput[] = [];
    for (const i of inputs) {
      const found = held.get(key(i.topic, i.stampNs));
      if (found && isModalityMessage(found)) messages.push({ modality: i.modality, message: found });
      else missing.push(i);
    }
    // Frames are decided in stamp order: nothing older than this one's stamp minus the lookback is needed again.
    const cutoff = m.stampNs - options.lookbackNs;
    while (head < order.length && order[head]!.stampNs < cutoff) {
      const old = order[head++]!;
      if (held.get(key(old.topic, old.stampNs)) === old) held.delete(key(old.topic, old.stampNs));
    }
    if (head > 4096 && head * 2 > order.length) {
      order.splice(0, head);
      head = 0;
    }
    return { kind: "decision", frame: { decision: m, inputs, messages, missing } };
  };
  for await (const d of decodeRecording(recording, options.read, options.decoder)) {
    while (waiting.length && waiting[0]!.receiveNs + graceNs < d.recorded.receiveNs) yield resolve(waiting.shift()!);
    if (d.rejection) {
      yield { kind: "rejection", rejection: d.rejection };
      continue;
    }
    const m = d.message!;
    if (m.kind === "decision") {
      waiting.push(m);
      continue;
    }
    held.set(key(m.topic, m.stampNs), m);
    order.push(m);
    while (held.size > maxHeld && head < order.length) {
      const old = order[head++]!;
      if (held.get(key(old.topic, old.stampNs)) === old && held.delete(key(old.topic, old.stampNs))) stats.evicted++;
    }
    yield { kind: "message", message: m };
  }
  while (waiting.length) yield resolve(waiting.shift()!);
}
