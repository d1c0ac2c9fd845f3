/**
 * `fusiond replay --frames recorded`: decide exactly the frames the daemon decided live, each rebuilt
 * from exactly the messages its decision lists as inputs (through the aligner's own slot code), in the
 * order they were decided, one at a time, with the clock at the instant each was decided live. Which
 * frames live decided depended on the wall clock (the decide stage conflates while inference is busy)
 * and what each frame held depended on what had arrived when the aligner emitted it; neither is
 * guessed here, both are read from the recording. The other mode (--frames aligner) runs the whole
 * pipeline again on the virtual clock.
 */
import type { DrivingDecision } from "../../fusion/index.ts";
import { frameFromInputs, frameInputs, frameInputsMessage, sameInputs, type ResolvedAlignerConfig } from "../../pipeline/index.ts";
import { decidedFrames, type McapRecording, type ReadOptions } from "../../replay/index.ts";
import type { FusedFrame, MessageDecoder, SensorMessage } from "../../schemas/index.ts";

export interface RecordedFramesOptions {
  recording: McapRecording;
  /** Sensor topics and range; decision topics are added. */
  read: ReadOptions;
  decoder: MessageDecoder;
  aligner: ResolvedAlignerConfig;
  /** The model and policy; awaited frame by frame. */
  decide: (frame: FusedFrame) => Promise<DrivingDecision>;
  /** Sets the clock decide() reads (its latency_ms): the instant the frame was decided live. */
  setNow: (ns: bigint) => void;
  /** Each sensor message in range, in log_time order (e.g. to record it). */
  onMessage?: (m: SensorMessage) => void;
  /** Each new decision, with provenance (inputs) added, and the instant it stands for. */
  onDecision: (decision: DrivingDecision, frame: FusedFrame, atNs: bigint) => void;
  pacer?: { wait(recordedNs: bigint): Promise<void> };
}

export interface RecordedFramesResult {
  messages: number;
  rejectionsByReason: Record<string, number>;
  /** Live decisions in range; of those decided again; without inputs recorded; with an input not in the recording. */
  live: number;
  decided: number;
  noInputs: number;
  missingInputs: number;
  /** Rebuilt frames whose inputs are not the recorded ones (never expected; counted, still decided). */
  inputsDiffer: number;
  /** Sensor messages forgotten before a decision could use them (lookup cap). */
  evicted: number;
  startNs?: bigint;
  endNs?: bigint;
}

export async function replayRecordedFrames(o: RecordedFramesOptions): Promise<RecordedFramesResult> {
  const c = o.aligner;
  const lookbackNs = [c.radarToleranceNs, c.gnssMaxAgeNs, c.egoMaxAgeNs, c.voiceTtlNs].reduce((a, b) => (a > b ? a : b));
  const startNs = o.read.startNs;
  // Inputs of the first frames in range may have arrived before it: read from a lookback (and 1 s of
  // transport delay) earlier, but decide and count only from startNs.
  const read: ReadOptions = {
    ...o.read,
    topics: [...(o.read.topics ?? ["vehicles/+/sensors/#", "vehicles/+/ego"]), "vehicles/+/decision"],
    latched: [],
    ...(startNs !== undefined ? { startNs: startNs - lookbackNs - 1_000_000_000n } : {}),
  };
  const r: RecordedFramesResult = { messages: 0, rejectionsByReason: {}, live: 0, decided: 0, noInputs: 0, missingInputs: 0, inputsDiffer: 0, evicted: 0 };
  const stats = { evicted: 0 };
  for await (const item of decidedFrames(o.recording, { read, decoder: o.decoder, lookbackNs }, stats)) {
    const atNs = item.kind === "message" ? item.message.receiveNs : item.kind === "rejection" ? item.rejection.receiveNs : item.frame.decision.receiveNs;
    if (startNs !== undefined && atNs < startNs) continue;
    if (r.startNs === undefined || atNs < r.startNs) r.startNs = atNs;
    if (r.endNs === undefined || atNs > r.endNs) r.endNs = atNs; // a decision comes a little after its log_time
    if (o.pacer) await o.pacer.wait(atNs);
    if (item.kind === "rejection") {
      const reason = item.rejection.reason;
      r.rejectionsByReason[reason] = (r.rejectionsByReason[reason] ?? 0) + 1;
      continue;
    }
    if (item.kind === "message") {
      r.messages++;
      o.onMessage?.(item.message);
      continue;
    }
    const f = item.frame;
    r.live++;
    if (f.inputs.length === 0) {
      r.noInputs++;
      continue;
    }
    if (f.missing.length > 0) {
      r.missingInputs++;
      continue;
    }
    const frame = frameFromInputs(f.messages, c, r.decided, atNs);
    if (!frame) {
      r.missingInputs++; // no camera reference among the inputs
      continue;
    }
    if (!sameInputs(frameInputs(frame), f.inputs)) r.inputsDiffer++;
    o.setNow(atNs);
    const decision = await o.decide(frame);
    r.decided++;
    o.onDecision({ ...decision, inputs: frameInputsMessage(frame) }, frame, atNs);
  }
  r.evicted = stats.evicted;
  return r;
}
