/**
 * What an attacker with the file (and the MCAP library) can do: rewrite some messages and write the file
 * again with every CRC recomputed and the original signature record put back where signing puts it.
 */
import { McapStreamReader } from "@mcap/core";
import { defaultCodec } from "../../schemas/index.ts";
import { compressionReady, compressor, decompressHandlers } from "../../replay/compression.ts";
import { McapFileWriter } from "../../replay/mcap-file-writer.ts";
import { SIGNATURE_RECORD } from "../../replay/signature.ts";

/** Rewrites `bytes` message by message through `change` (data → new data, or undefined to keep). */
export async function rewrite(bytes: Uint8Array, change: (schema: string, data: Uint8Array) => Uint8Array | undefined): Promise<Uint8Array> {
  await compressionReady();
  const reader = new McapStreamReader({ decompressHandlers, validateCrcs: true });
  reader.append(bytes);
  const parts: Uint8Array[] = [];
  let signature: Map<string, string> | undefined;
  const writer = new McapFileWriter({
    emit: (b) => parts.push(b),
    library: "fusiond",
    compress: compressor("zstd")!,
    onEnd: { beforeDataEnd: (w) => signature && w.addMetadata(SIGNATURE_RECORD, signature), ended: () => undefined },
  });
  const schemaName = new Map<number, string>();
  const channelSchema = new Map<number, number>();
  const channels = new Set<number>();
  for (let r; (r = reader.nextRecord()); ) {
    if (r.type === "Schema" && !schemaName.has(r.id)) {
      schemaName.set(r.id, r.name);
      writer.addSchema(r.name, r.encoding, r.data);
    } else if (r.type === "Channel" && !channels.has(r.id)) {
      channels.add(r.id);
      channelSchema.set(r.id, r.schemaId);
      writer.addChannel(r.topic, r.schemaId, r.messageEncoding, r.metadata);
    } else if (r.type === "Metadata") {
      if (r.name === SIGNATURE_RECORD) signature = r.metadata;
      else writer.addMetadata(r.name, r.metadata);
    } else if (r.type === "Message") {
      const data = change(schemaName.get(channelSchema.get(r.channelId)!) ?? "", r.data) ?? r.data;
      writer.addMessage({ ...r, data });
    }
  }
  writer.end();
  return Buffer.concat(parts);
}

/** Every radar return 5 m further away. */
export function moveRadarReturns(bytes: Uint8Array): Promise<Uint8Array> {
  const codec = defaultCodec();
  return rewrite(bytes, (schema, data) => {
    if (schema !== "fusiond.RadarScan") return undefined;
    const scan = codec.decode("fusiond.RadarScan", data) as { returns?: { range_m: number }[] };
    for (const r of scan.returns ?? []) r.range_m += 5;
    return codec.encode("fusiond.RadarScan", scan);
  });
}
