/**
 * Shared by the file tools (cat, filter, merge): open a recording with a clear error, turn --start/--end seconds
 * into log-time bounds, and copy messages into a new recording with backpressure and no silent drops.
 */
import { defaultCodec } from "../../schemas/codec.ts";
import { FusiondError } from "../../schemas/index.ts";
import { fileSource, McapRecording, recordToFile, type Compression, type RecordedMessage } from "../../replay/index.ts";
import { FUSIOND_VERSION } from "../version.ts";

export async function openRecording(file: string): Promise<McapRecording> {
  const source = await fileSource(file);
  try {
    return await McapRecording.open(source);
  } catch (err) {
    await source.close();
    throw err;
  }
}

/** --start/--end (seconds after the recording's first message) → log-time bounds in ns. */
export async function rangeOf(rec: McapRecording, start?: string, end?: string): Promise<{ startNs?: bigint; endNs?: bigint }> {
  if (start === undefined && end === undefined) return {};
  const base = (await rec.startNs()) ?? 0n;
  const ns = (s: string): bigint => base + BigInt(Math.round(Number(s) * 1e9));
  return { ...(start !== undefined ? { startNs: ns(start) } : {}), ...(end !== undefined ? { endNs: ns(end) } : {}) };
}

/** The "fusiond" metadata record of a recording, as plain strings. */
export async function fusiondMetadata(rec: McapRecording): Promise<Record<string, string>> {
  return Object.fromEntries((await rec.metadata()).get("fusiond") ?? new Map<string, string>());
}

/** Writes `messages` (in log-time order) to `out`; returns how many. Fails rather than drop one. */
export async function writeMessages(out: string, messages: AsyncIterable<RecordedMessage>, o: { compression: Compression; metadata: Record<string, string> }): Promise<number> {
  const rec = await recordToFile(out, { compression: o.compression, library: `fusiond/${FUSIOND_VERSION}`, metadata: o.metadata });
  let n = 0;
  try {
    for await (const m of messages) {
      rec.addMessage({ topic: m.topic, type: m.type, bytes: m.bytes, receiveNs: m.receiveNs, stampNs: m.publishNs });
      // Backpressure: no faster than the disk.
      if (++n % 1000 === 0 && rec.stats().queuedBytes > 8 * 1024 * 1024) await rec.flush();
    }
  } finally {
    await rec.close();
  }
  const dropped = rec.stats().dropped;
  if (Object.keys(dropped).length) throw new FusiondError("write_failed", `${out}: the recorder dropped messages (${JSON.stringify(dropped)})`, { file: out });
  return n;
}

/** Merges log-time-ordered streams into one, in log-time order (ties: the earlier input first). */
export async function* mergeByLogTime(streams: AsyncIterator<RecordedMessage>[]): AsyncGenerator<RecordedMessage> {
  const heads = await Promise.all(streams.map((s) => s.next()));
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i]!;
      if (!h.done && (best < 0 || h.value.receiveNs < (heads[best]!.value as RecordedMessage).receiveNs)) best = i;
    }
    if (best < 0) return;
    yield heads[best]!.value as RecordedMessage;
    heads[best] = await streams[best]!.next();
  }
}

/** A message decoded to JSON with the protobuf codec (bytes fields as their length or base64). */
let codec: ReturnType<typeof defaultCodec> | undefined;
export function decodedJson(m: RecordedMessage, bytes: "length" | "base64"): Record<string, unknown> | undefined {
  codec ??= defaultCodec();
  try {
    return codec.toJSON(m.type, codec.decode(m.type, m.bytes), { bytes });
  } catch {
    return undefined;
  }
}
