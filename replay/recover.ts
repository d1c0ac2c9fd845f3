/**
 * Recovery: rebuilds a recording that was not closed (or is damaged) into a valid, indexed file holding
 * every message of every chunk that still reads whole. Schemas, channels, metadata, sequences and both
 * stamps are kept as they were.
 */
import { FusiondError } from "../schemas/index.ts";
import { compressionReady, compressor, type Compression } from "./compression.ts";
import type { ByteSink, ByteSource } from "./io.ts";
import { McapFileWriter } from "./mcap-file-writer.ts";
import { scanRecords, type ScanProblem } from "./scan.ts";
import { RECOVERED_RECORD, SIGNATURE_RECORD } from "./signature.ts";

export interface RecoverOptions {
  compression?: Compression;
  library?: string;
  chunkBytes?: number;
  chunkDurationNs?: bigint;
}

export interface RecoverReport {
  file: string;
  out: string;
  messages: number;
  /** Chunks read whole (each contributes all its messages). */
  chunks: number;
  metadata: number;
  /** What was skipped, by offset. */
  problems: ScanProblem[];
  /** True if the input had its footer (it was closed); recovery then only re-writes it. */
  wasClosed: boolean;
  /** The output is never signed (a signature covers the bytes it was made over); true if the input had one. */
  droppedSignature: boolean;
  /** log_time of the first and last message salvaged, ns. */
  startNs?: bigint;
  endNs?: bigint;
}

/** Salvages `source` into `sink` (which is closed at the end). Throws `not_mcap` if nothing can be read. */
export async function recoverRecording(source: ByteSource, sink: ByteSink, options: RecoverOptions = {}): Promise<RecoverReport> {
  await compressionReady();
  const report: RecoverReport = { file: source.name, out: sink.name, messages: 0, chunks: 0, metadata: 0, problems: [], wasClosed: false, droppedSignature: false };
  const parts: Uint8Array[] = [];
  let pending = 0;
  const writes: Promise<void>[] = [];
  const flushOut = (): void => {
    if (parts.length === 0) return;
    const bytes = Buffer.concat(parts);
    parts.length = 0;
    pending = 0;
    writes.push((writes.at(-1) ?? Promise.resolve()).then(() => sink.write(bytes)));
  };
  const compress = compressor(options.compression ?? "zstd");
  const writer = new McapFileWriter({
    emit: (b) => {
      parts.push(b);
      pending += b.length;
      if (pending > 8 * 1024 * 1024) flushOut();
    },
    library: options.library ?? "fusiond recover",
    ...(compress ? { compress } : {}),
  });
  const chunkBytes = options.chunkBytes ?? 4 * 1024 * 1024;
  const chunkNs = options.chunkDurationNs ?? 1_000_000_000n;
  const schemaIds = new Map<number, number>(); // input schema id → output
  const channelIds = new Map<number, number>();
  const schemas = new Map<number, { name: string; encoding: string; data: Uint8Array }>();
  const channels = new Map<number, { topic: string; schemaId: number; messageEncoding: string; metadata: Map<string, string> }>();
  let chunkOffset = -1;
  try {
    for await (const { record, offset } of scanRecords(source, { salvage: true, onProblem: (p) => report.problems.push(p) })) {
      switch (record.type) {
        case "Chunk":
          if (offset !== chunkOffset) report.chunks++;
          chunkOffset = offset;
          break;
        case "Schema":
          schemas.set(record.id, record);
          break;
        case "Channel":
          channels.set(record.id, record);
          break;
        case "Metadata":
          if (record.name === SIGNATURE_RECORD) {
            report.droppedSignature = true;
            break;
          }
          writer.addMetadata(record.name, record.metadata);
          report.metadata++;
          break;
        case "Footer":
          report.wasClosed = true;
          break;
        case "Message": {
          let out = channelIds.get(record.channelId);
          if (out === undefined) {
            const ch = channels.get(record.channelId);
            if (!ch) break; // cannot happen for files the scanner accepts; skip rather than guess
            let sid = schemaIds.get(ch.schemaId);
            const schema = schemas.get(ch.schemaId);
            if (sid === undefined) {
              sid = schema ? writer.addSchema(schema.name, schema.encoding, schema.data) : 0;
              schemaIds.set(ch.schemaId, sid);
            }
            out = writer.addChannel(ch.topic, sid, ch.messageEncoding, ch.metadata);
            channelIds.set(record.channelId, out);
          }
          if (writer.openChunkMessages > 0 && record.logTime - writer.openChunkStartNs >= chunkNs) writer.flushChunk();
          writer.addMessage({ ...record, channelId: out });
          if (writer.openChunkBytes >= chunkBytes) writer.flushChunk();
          report.messages++;
          if (report.startNs === undefined || record.logTime < report.startNs) report.startNs = record.logTime;
          if (report.endNs === undefined || record.logTime > report.endNs) report.endNs = record.logTime;
          break;
        }
        default:
          break;
      }
    }
    // Marks the output as rebuilt, so `fusiond verify` and replay say why it is unsigned.
    writer.addMetadata(RECOVERED_RECORD, new Map([["from", source.name], ["signed", "false"], ["originalSignature", report.droppedSignature ? "dropped" : "none"]]));
    writer.end();
    flushOut();
    await Promise.all(writes);
  } catch (err) {
    await Promise.allSettled(writes);
    await sink.close().catch(() => undefined);
    throw err instanceof FusiondError ? err : new FusiondError("recover_failed", `${source.name}: ${(err as Error).message}`, { file: source.name }, { cause: err });
  }
  await sink.close();
  return report;
}
