/**
 * `fusiond replay --frames recorded`: decide exactly the frames the daemon decided live, each rebuilt
 * from exactly the messages its decision lists as inputs (through the aligner's own slot code), in the
 * order they were decided, with the clock at the instant each was decided live. Which
 * frames live decided depended on the wall clock (the decide stage conflates while inference is busy)
 * and what each frame held depended on what had arrived when the aligner emitted it; neither is
 * guessed here, both are read from the recording. The other mode (--frames aligner) runs the whole
 * pipeline again on the virtual clock.
 *
 * `batch` frames are handed to decide() together (their model calls run as one batch, see
 * DecisionEngine.decide) and everything this function reports — messages, decisions — comes out in the
 * recording's order all the same, so the output does not depend on `batch`.
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
  /**
   * The model and policy, given the instant the frame was decided live (the clock its latency_ms reads). Up to
   * `batch` calls are made before the first is awaited; they must decide as if made one after another.
   */
  decide: (frame: FusedFrame, atNs: bigint) => Promise<DrivingDecision>;
  /** Frames handed to decide() at once (default 1: each awaited before the next). */
  batch?: number;
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

/** What comes out, in recording order: a sensor message, or a frame to decide. */
type Out = { message: SensorMessage } | { frame: FusedFrame; atNs: bigint };

export async function replayRecordedFrames(o: RecordedFramesOptions): Promise<RecordedFramesResult> {
  const c = o.aligner;
  const batch = Math.max(1, Math.floor(o.batch ?? 1));
  let held: Out[] = [];
  let heldFrames = 0;
  // Decides the held frames together, then hands everything held on in order.
  const flush = async (): Promise<void> => {
    const out = held;
    held = [];
    heldFrames = 0;
    const decisions = out.map((e) => ("frame" in e ? o.decide(e.frame, e.atNs) : undefined));
    // Handled below in order; one that fails after an earlier failure must not be an unhandled rejection.
    for (const d of decisions) d?.catch(() => undefined);
    for (const [i, e] of out.entries()) {
      if ("message" in e) {
        o.onMessage?.(e.message);
        continue;
      }
      const decision = await decisions[i]!;
      r.decided++;
      o.onDecision({ ...decision, inputs: frameInputsMessage(e.frame) }, e.frame, e.atNs);
    }
  };
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
      if (heldFrames > 0) held.push({ message: item.message });
      else o.onMessage?.(item.message);
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
    held.push({ frame, atNs });
    if (++heldFrames >= batch) await flush();
  }
  await flush();
  r.evicted = stats.evicted;
  return r;
}
