/** Shared fixtures for the replay tests: record a drive to memory. */
import { MemorySink } from "../../replay/io.ts";
import { McapRecorder, type RecorderOptions, type RecordInput } from "../../replay/recorder.ts";

export async function recordToMemory(inputs: readonly RecordInput[], options: Partial<RecorderOptions> = {}): Promise<Uint8Array> {
  const sink = new MemorySink("drive.mcap");
  const rec = await McapRecorder.create({ open: () => sink, ...options });
  for (const m of inputs) if (!rec.addMessage(m)) throw new Error("dropped");
  await rec.close();
  return sink.bytes();
}

/** Compares bytes by content whatever the Uint8Array subclass (protobufjs gives Buffers). */
export const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
