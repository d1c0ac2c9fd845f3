/**
 * `fusiond info`: what a recording holds — duration, topics, types, counts, rates, gaps, chunk stats.
 * An indexed file is summarised from its summary and message indexes (no chunk is decompressed); an
 * unclosed one is scanned, and its problems (by offset) are listed.
 */
import { isoNs } from "./time-format.ts";
import { McapStreamReader, type McapTypes } from "@mcap/core";
import type { McapRecording } from "./reader.ts";
import { scanRecords, type ScanProblem } from "./scan.ts";

export interface TopicInfo {
  topic: string;
  type: string;
  encoding: string;
  messages: number;
  /** Mean rate over the topic's own span, Hz (0 with fewer than two messages). */
  rateHz: number;
  firstNs: string;
  lastNs: string;
  /** Longest interval between consecutive messages, ms. */
  maxGapMs: number;
  /** Intervals longer than max(5 × the mean interval, 200 ms): count, and the first few. */
  gaps: number;
  gapList: { atNs: string; ms: number }[];
}

export interface RecordingInfo {
  file: string;
  bytes: number;
  /** "indexed" (closed, summary read) or "scanned" (no usable summary). */
  mode: "indexed" | "scanned";
  library: string;
  profile: string;
  startNs: string;
  endNs: string;
  /** startNs and endNs as ISO 8601 UTC (with ns), for people; "" when there are no messages. */
  startTime: string;
  endTime: string;
  durationS: number;
  messages: number;
  topics: TopicInfo[];
  chunks: {
    count: number;
    compression: string[];
    compressedBytes: number;
    uncompressedBytes: number;
    ratio: number;
    /** Longest log-time span of one chunk, ms (what a crash could lose). */
    maxSpanMs: number;
    meanMessages: number;
  };
  metadata: Record<string, Record<string, string>>;
  /** Problems found while scanning, by offset (empty for a good file). */
  problems: ScanProblem[];
}

class Times {
  private data = new BigInt64Array(64);
  n = 0;
  push(t: bigint): void {
    if (this.n === this.data.length) {
      const bigger = new BigInt64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.n++] = t;
  }
  sorted(): BigInt64Array {
    return this.data.subarray(0, this.n).sort();
  }
}

export async function recordingInfo(rec: McapRecording): Promise<RecordingInfo> {
  const times = new Map<number, Times>();
  const channels = new Map<number, McapTypes.Channel>();
  const schemas = new Map<number, McapTypes.Schema>();
  const chunkList: { compression: string; compressed: number; uncompressed: number; spanNs: bigint; messages: number }[] = [];
  const problems: ScanProblem[] = [];
  const metadata: Record<string, Record<string, string>> = {};
  let header = { library: "", profile: "" };
  const timesOf = (id: number): Times => {
    let t = times.get(id);
    if (!t) times.set(id, (t = new Times()));
    return t;
  };

  const r = rec.indexed;
  if (r) {
    header = r.header;
    for (const [id, c] of r.channelsById) channels.set(id, c);
    for (const [id, s] of r.schemasById) schemas.set(id, s);
    for await (const m of r.readMetadata()) metadata[m.name] = Object.fromEntries(m.metadata);
    for (const c of r.chunkIndexes) {
      let messages = 0;
      if (c.messageIndexLength > 0n) {
        const bytes = await rec.source.read(c.chunkStartOffset + c.chunkLength, c.messageIndexLength);
        const reader = new McapStreamReader({ noMagicPrefix: true });
        reader.append(bytes);
        for (let rec2; (rec2 = reader.nextRecord()); ) {
          if (rec2.type !== "MessageIndex") continue;
          const t = timesOf(rec2.channelId);
          for (const [logTime] of rec2.records) t.push(logTime);
          messages += rec2.records.length;
        }
      }
      chunkList.push({
        compression: c.compression || "none",
        compressed: Number(c.compressedSize),
        uncompressed: Number(c.uncompressedSize),
        spanNs: c.messageEndTime - c.messageStartTime,
        messages,
      });
    }
  } else {
    let current: (typeof chunkList)[number] | undefined;
    for await (const { record } of scanRecords(rec.source, { salvage: true, onProblem: (p) => problems.push(p) })) {
      switch (record.type) {
        case "Header":
          header = record;
          break;
        case "Schema":
          schemas.set(record.id, record);
          break;
        case "Channel":
          channels.set(record.id, record);
          break;
        case "Metadata":
          metadata[record.name] = Object.fromEntries(record.metadata);
          break;
        case "Chunk":
          current = {
            compression: record.compression || "none",
            compressed: record.records.length,
            uncompressed: Number(record.uncompressedSize),
            spanNs: record.messageEndTime - record.messageStartTime,
            messages: 0,
          };
          chunkList.push(current);
          break;
        case "Message":
          timesOf(record.channelId).push(record.logTime);
          if (current) current.messages++;
          break;
        default:
          break;
      }
    }
  }

  let start: bigint | undefined;
  let end: bigint | undefined;
  let total = 0;
  const topics: TopicInfo[] = [];
  for (const [id, ch] of [...channels].sort((a, b) => a[1].topic.localeCompare(b[1].topic))) {
    const t = times.get(id)?.sorted() ?? new BigInt64Array(0);
    const n = t.length;
    total += n;
    if (n > 0) {
      if (start === undefined || t[0]! < start) start = t[0]!;
      if (end === undefined || t[n - 1]! > end) end = t[n - 1]!;
    }
    const span = n > 1 ? Number(t[n - 1]! - t[0]!) : 0;
    const mean = n > 1 ? span / (n - 1) : 0;
    const threshold = Math.max(5 * mean, 200e6);
    let maxGap = 0;
    let gaps = 0;
    const gapList: TopicInfo["gapList"] = [];
    for (let i = 1; i < n; i++) {
      const d = Number(t[i]! - t[i - 1]!);
      if (d > maxGap) maxGap = d;
      if (d > threshold) {
        gaps++;
        if (gapList.length < 10) gapList.push({ atNs: t[i - 1]!.toString(), ms: d / 1e6 });
      }
    }
    topics.push({
      topic: ch.topic,
      type: schemas.get(ch.schemaId)?.name ?? "",
      encoding: ch.messageEncoding,
      messages: n,
      rateHz: span > 0 ? ((n - 1) * 1e9) / span : 0,
      firstNs: n ? t[0]!.toString() : "",
      lastNs: n ? t[n - 1]!.toString() : "",
      maxGapMs: maxGap / 1e6,
      gaps,
      gapList,
    });
  }
  const compressed = chunkList.reduce((a, c) => a + c.compressed, 0);
  const uncompressed = chunkList.reduce((a, c) => a + c.uncompressed, 0);
  return {
    file: rec.name,
    bytes: Number(await rec.source.size()),
    mode: r ? "indexed" : "scanned",
    library: header.library,
    profile: header.profile,
    startNs: start?.toString() ?? "",
    endNs: end?.toString() ?? "",
    startTime: start === undefined ? "" : isoNs(start),
    endTime: end === undefined ? "" : isoNs(end),
    durationS: start !== undefined && end !== undefined ? Number(end - start) / 1e9 : 0,
    messages: total,
    topics,
    chunks: {
      count: chunkList.length,
      compression: [...new Set(chunkList.map((c) => c.compression))].sort(),
      compressedBytes: compressed,
      uncompressedBytes: uncompressed,
      ratio: compressed > 0 ? uncompressed / compressed : 0,
      maxSpanMs: chunkList.reduce((a, c) => Math.max(a, Number(c.spanNs) / 1e6), 0),
      meanMessages: chunkList.length ? chunkList.reduce((a, c) => a + c.messages, 0) / chunkList.length : 0,
    },
    metadata,
    problems,
  };
}

/** The human-readable form of `fusiond info`. */
export function formatInfo(info: RecordingInfo): string {
  const mb = (b: number): string => `${(b / 1024 / 1024).toFixed(2)} MiB`;
  const lines = [
    `file:      ${info.file} (${mb(info.bytes)}, ${info.mode}${info.library ? `, written by ${info.library}` : ""})`,
    `duration:  ${info.durationS.toFixed(3)} s  (log_time ${info.startNs} → ${info.endNs})`,
    ...(info.startTime ? [`time:      ${info.startTime} → ${info.endTime} (UTC)`] : []),
    `messages:  ${info.messages} on ${info.topics.length} topics`,
    `chunks:    ${info.chunks.count} (${info.chunks.compression.join(", ") || "-"}), ${mb(info.chunks.compressedBytes)} of ${mb(info.chunks.uncompressedBytes)} ` +
      `(ratio ${info.chunks.ratio.toFixed(2)}), longest ${info.chunks.maxSpanMs.toFixed(0)} ms, ${info.chunks.meanMessages.toFixed(1)} messages each`,
  ];
  for (const [name, values] of Object.entries(info.metadata)) {
    lines.push(`metadata:  ${name}: ${Object.entries(values).map(([k, v]) => `${k}=${v.length > 60 ? v.slice(0, 57) + "..." : v}`).join(", ")}`);
  }
  const w = Math.max(5, ...info.topics.map((t) => t.topic.length));
  const tw = Math.max(4, ...info.topics.map((t) => t.type.length));
  lines.push("", `${"topic".padEnd(w)}  ${"type".padEnd(tw)}  ${"count".padStart(8)}  ${"rate Hz".padStart(8)}  ${"max gap ms".padStart(10)}  gaps`);
  for (const t of info.topics) {
    lines.push(
      `${t.topic.padEnd(w)}  ${t.type.padEnd(tw)}  ${String(t.messages).padStart(8)}  ${t.rateHz.toFixed(2).padStart(8)}  ${t.maxGapMs.toFixed(1).padStart(10)}  ${t.gaps}`,
    );
  }
  for (const p of info.problems) lines.push(`problem:   ${p.code} at byte offset ${p.offset}: ${p.detail}`);
  return lines.join("\n");
}
