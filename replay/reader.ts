/**
 * Reading a recording: indexed (McapIndexedReader, through the summary) when the file was closed,
 * streaming (our offset-aware scanner) when it was not. Either way messages come in log_time order.
 */
import { McapIndexedReader, type McapTypes } from "@mcap/core";
import { FusiondError, topicMatches } from "../schemas/index.ts";
import { compressionReady, decompressHandlers } from "./compression.ts";
import type { ByteSource } from "./io.ts";
import { scanRecords } from "./scan.ts";

/** One recorded message, as in the file. */
export interface RecordedMessage {
  topic: string;
  /** Schema name (the full protobuf type name for protobuf channels). */
  type: string;
  messageEncoding: string;
  bytes: Uint8Array;
  /** MCAP log_time: the receive stamp, ns. */
  receiveNs: bigint;
  /** MCAP publish_time: the sensor stamp, ns. */
  publishNs: bigint;
  sequence: number;
  /** True for latched state re-emitted before `startNs` on a seek. */
  latched?: boolean;
}

export interface ReadOptions {
  /** First log_time to emit, ns (inclusive). */
  startNs?: bigint;
  /** Last log_time to emit, ns (inclusive). */
  endNs?: bigint;
  /** MQTT-style patterns; only matching topics are emitted (default: all). */
  topics?: readonly string[];
  /**
   * Patterns of "latched" topics: on a seek (startNs after the first message), the latest message of
   * each matching topic before startNs is emitted first, so the pipeline starts warm.
   */
  latched?: readonly string[];
  /** Streaming mode only: how far out of log_time order messages may be in the file, ns (default 5 s). */
  reorderWindowNs?: bigint;
}

/** Topics the pipeline needs a last value of to start warm: GNSS fixes and ego state. */
export const DEFAULT_LATCHED: readonly string[] = ["vehicles/+/sensors/gnss/+", "vehicles/+/ego"];

export class McapRecording {
  private constructor(
    readonly source: ByteSource,
    /** Set when the file has a usable summary. */
    readonly indexed: McapIndexedReader | undefined,
    /** Why the summary could not be used, when it could not. */
    readonly unindexedReason: string | undefined,
  ) {}

  get name(): string {
    return this.source.name;
  }

  /** Opens a recording; falls back to streaming when there is no usable summary. Throws `not_mcap` early. */
  static async open(source: ByteSource): Promise<McapRecording> {
    await compressionReady();
    const size = await source.size();
    const head = size >= 8n ? await source.read(0n, 8n) : new Uint8Array(0);
    if (!Buffer.from(head).equals(Buffer.from([137, 77, 67, 65, 80, 48, 13, 10]))) {
      throw new FusiondError("not_mcap", `${source.name}: ${size === 0n ? "empty file" : "no MCAP magic"}; not an MCAP file at byte offset 0`, {
        file: source.name,
        offset: 0,
      });
    }
    try {
      const reader = await McapIndexedReader.Initialize({ readable: source, decompressHandlers });
      // A summary without chunk indexes (e.g. an unchunked file) cannot serve indexed reads.
      if (reader.chunkIndexes.length === 0 && (reader.statistics?.messageCount ?? 0n) > 0n) {
        return new McapRecording(source, undefined, "summary has no chunk indexes");
      }
      return new McapRecording(source, reader, undefined);
    } catch (err) {
      return new McapRecording(source, undefined, (err as Error).message);
    }
  }

  async close(): Promise<void> {
    await this.source.close();
  }

  /** log_time of the first message, ns (from the statistics, or the first message of a scan); undefined if empty. */
  async startNs(): Promise<bigint | undefined> {
    if (this.indexed) return this.indexed.statistics?.messageCount ? this.indexed.statistics.messageStartTime : undefined;
    try {
      for await (const m of this.messages({ reorderWindowNs: 0n })) return m.receiveNs;
    } catch {
      // a file cut before its first whole chunk has no first message
    }
    return undefined;
  }

  /** log_time of the last message, ns, when the summary says (undefined for a file that was not closed). */
  get endNs(): bigint | undefined {
    return this.indexed?.statistics?.messageCount ? this.indexed.statistics.messageEndTime : undefined;
  }

  /** Metadata records by name (indexed: through the index; streaming: a scan). */
  async metadata(): Promise<Map<string, Map<string, string>>> {
    const out = new Map<string, Map<string, string>>();
    if (this.indexed) {
      for await (const m of this.indexed.readMetadata()) out.set(m.name, m.metadata);
      return out;
    }
    for await (const { record } of scanRecords(this.source, { salvage: true })) {
      if (record.type === "Metadata") out.set(record.name, record.metadata);
    }
    return out;
  }

  /** Messages in log_time order. Strict: a truncated or corrupt file throws (naming file and offset) after what came before. */
  async *messages(options: ReadOptions = {}): AsyncGenerator<RecordedMessage> {
    const match = options.topics?.length ? (t: string) => options.topics!.some((p) => topicMatches(p, t)) : () => true;
    if (this.indexed) yield* this.indexedMessages(this.indexed, options, match);
    else yield* this.streamedMessages(options, match);
  }

  private async *indexedMessages(r: McapIndexedReader, o: ReadOptions, match: (t: string) => boolean): AsyncGenerator<RecordedMessage> {
    const topics = [...new Set([...r.channelsById.values()].map((c) => c.topic))].filter(match);
    if (topics.length === 0) return;
    const convert = (m: McapTypes.TypedMcapRecords["Message"], latched?: boolean): RecordedMessage => {
      const ch = r.channelsById.get(m.channelId)!;
      return {
        topic: ch.topic,
        type: r.schemasById.get(ch.schemaId)?.name ?? "",
        messageEncoding: ch.messageEncoding,
        bytes: m.data,
        receiveNs: m.logTime,
        publishNs: m.publishTime,
        sequence: m.sequence,
        ...(latched ? { latched } : {}),
      };
    };
    const first = r.statistics?.messageStartTime ?? 0n;
    if (o.startNs !== undefined && o.startNs > first && o.latched?.length) {
      const latchedTopics = topics.filter((t) => o.latched!.some((p) => topicMatches(p, t)));
      const warm: RecordedMessage[] = [];
      for (const topic of latchedTopics) {
        for await (const m of r.readMessages({ topics: [topic], endTime: o.startNs - 1n, reverse: true })) {
          warm.push(convert(m, true));
          break;
        }
      }
      warm.sort(byLogTime);
      yield* warm;
    }
    try {
      for await (const m of r.readMessages({ topics, ...(o.startNs !== undefined ? { startTime: o.startNs } : {}), ...(o.endNs !== undefined ? { endTime: o.endNs } : {}) })) {
        yield convert(m);
      }
    } catch (err) {
      throw await this.locate(err);
    }
  }

  /**
   * An indexed read failed (a damaged chunk in a closed file): @mcap/core does not say where, so scan
   * strictly to find the offset, and say it as the streaming reader would.
   */
  private async locate(err: unknown): Promise<unknown> {
    if (err instanceof FusiondError) return err;
    try {
      for await (const _ of scanRecords(this.source)) void _;
    } catch (located) {
      return located;
    }
    return new FusiondError("mcap_corrupt", `${this.name}: ${(err as Error).message}`, { file: this.name }, { cause: err });
  }

  private async *streamedMessages(o: ReadOptions, match: (t: string) => boolean): AsyncGenerator<RecordedMessage> {
    const schemas = new Map<number, McapTypes.Schema>();
    const channels = new Map<number, McapTypes.Channel>();
    const window = o.reorderWindowNs ?? 5_000_000_000n;
    const pending: RecordedMessage[] = []; // sorted by log_time; insertion is near the end for ordered files
    const latest = new Map<string, RecordedMessage>();
    const isLatched = (t: string): boolean => o.latched?.some((p) => topicMatches(p, t)) ?? false;
    let warmed = o.startNs === undefined || !o.latched?.length;
    let maxSeen = -1n;
    function* release(upTo: bigint): Generator<RecordedMessage> {
      let n = 0;
      while (n < pending.length && pending[n]!.receiveNs <= upTo) n++;
      const out = pending.splice(0, n);
      for (const m of out) {
        if (o.startNs !== undefined && m.receiveNs < o.startNs) {
          if (isLatched(m.topic)) latest.set(m.topic, m);
          continue;
        }
        if (!warmed) {
          warmed = true;
          yield* [...latest.values()].sort(byLogTime).map((x) => ({ ...x, latched: true }));
        }
        if (o.endNs !== undefined && m.receiveNs > o.endNs) continue;
        yield m;
      }
    }
    let failure: unknown;
    try {
      for await (const { record } of scanRecords(this.source)) {
        if (record.type === "Schema") schemas.set(record.id, record);
        else if (record.type === "Channel") channels.set(record.id, record);
        else if (record.type === "Message") {
          const ch = channels.get(record.channelId);
          if (!ch || !match(ch.topic)) continue;
          const m: RecordedMessage = {
            topic: ch.topic,
            type: schemas.get(ch.schemaId)?.name ?? "",
            messageEncoding: ch.messageEncoding,
            bytes: record.data,
            receiveNs: record.logTime,
            publishNs: record.publishTime,
            sequence: record.sequence,
          };
          insertSorted(pending, m);
          if (m.receiveNs > maxSeen) {
            maxSeen = m.receiveNs;
            yield* release(maxSeen - window);
          }
        }
      }
    } catch (err) {
      failure = err;
    }
    // On a truncated file, what was read before the problem still comes out before the error.
    yield* release(maxSeen);
    if (failure) throw failure;
  }
}

const byLogTime = (a: RecordedMessage, b: RecordedMessage): number => (a.receiveNs < b.receiveNs ? -1 : a.receiveNs > b.receiveNs ? 1 : 0);

/** Stable insertion: after every message with the same or earlier log_time. */
function insertSorted(list: RecordedMessage[], m: RecordedMessage): void {
  let i = list.length;
  while (i > 0 && list[i - 1]!.receiveNs > m.receiveNs) i--;
  list.splice(i, 0, m);
}
