/**
 * A frame's provenance and its inverse. `frameInputs` lists the messages a fused frame was built
 * from (topic and event stamp per modality: the camera reference, the radar scan, both neighbours of
 * an interpolated GNSS/ego value or the one held, the voice utterance); the daemon records that list
 * with each decision. `frameFromInputs` rebuilds the frame from exactly those messages through the
 * aligner's own slot code (buildFrame), so replay decides the frames live decided, with the content
 * they had live, whatever arrived late or was conflated on the live clock.
 */
import { MODALITIES, type FusedFrame, type Modality, type SensorMessage } from "../schemas/types.ts";
import type { Built, FrameInput as FrameInputMessage } from "../schemas/messages.ts";
import { nsToTimestamp } from "../schemas/time.ts";
import { BUFFERED, buildFrame, type Buffered, type ResolvedAlignerConfig } from "./frame-aligner.ts";
import { insertSample, type SampleBuffer } from "./frame-slots.ts";

/** One message a frame used. */
export interface FrameInput {
  modality: Modality;
  topic: string;
  stampNs: bigint;
}

/** The inputs of a frame, in modality order (camera, radar, gnss, ego, voice), each slot's in stamp order. */
export function frameInputs(frame: FusedFrame): FrameInput[] {
  const out: FrameInput[] = [];
  for (const modality of MODALITIES) {
    const slot = frame.slots[modality];
    if (!slot) continue;
    const inputs = slot.inputs ?? [{ topic: slot.topic, stampNs: slot.stampNs }];
    for (const i of inputs) out.push({ modality, topic: i.topic, stampNs: i.stampNs });
    // The other cameras follow the reference, in the configured order.
    if (modality === "camera") for (const s of Object.values(frame.cameras ?? {})) if (s) out.push({ modality, topic: s.topic, stampNs: s.stampNs });
  }
  return out;
}

/** The same list in fusiond.FrameInput form (proto field names), for DrivingDecision.inputs. */
export function frameInputsMessage(frame: FusedFrame): Built<FrameInputMessage>[] {
  return frameInputs(frame).map((i) => ({ modality: i.modality, topic: i.topic, stamp: nsToTimestamp(i.stampNs) }));
}

/** Equal lists (same order), e.g. a rebuilt frame's inputs against the recorded ones. */
export function sameInputs(a: readonly FrameInput[], b: readonly FrameInput[]): boolean {
  return a.length === b.length && a.every((x, i) => x.modality === b[i]!.modality && x.topic === b[i]!.topic && x.stampNs === b[i]!.stampNs);
}

/**
 * The frame built from exactly these messages (one camera reference; the others per modality), as the
 * aligner builds it. undefined without a camera reference. `seq` and `emittedNs` are the caller's:
 * they describe a run, not the frame's content. `config`: resolveAlignerConfig(the live aligner config).
 */
export function frameFromInputs(
  inputs: ReadonlyArray<{ modality: Modality; message: SensorMessage<Modality> }>,
  config: ResolvedAlignerConfig,
  seq: number,
  nowNs: bigint,
): FusedFrame | undefined {
  const buffers = Object.fromEntries(BUFFERED.map((m) => [m, [] as SampleBuffer])) as Record<Buffered, SampleBuffer>;
  let ref: SensorMessage<Modality> | undefined;
  const otherCameras: SampleBuffer = [];
  for (const { modality, message } of inputs) {
    // The first camera input is the reference; further ones are the other cameras' frames.
    if (modality === "camera" && !ref) ref = message;
    else if (modality === "camera") insertSample(otherCameras, message);
    else insertSample(buffers[modality], message);
  }
  return ref && buildFrame(ref, buffers, config, seq, nowNs, otherCameras);
}
