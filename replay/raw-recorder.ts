/**
 * Recording what a transport delivers (`fusiond record`): raw bytes in, recorder out. The type and the
 * sensor stamp come from the same MessageDecoder the daemon uses. A payload on a known topic that does
 * not decode is still recorded (publish_time = receive time), so that a replay meets the same bad input
 * the live daemon met; unknown topics (no schema to write) and oversized payloads are skipped and counted.
 */
import { MessageDecoder, type RawMessage, type RejectReason } from "../schemas/index.ts";
import type { McapRecorder } from "./recorder.ts";

export interface RawRecorderStats {
  received: number;
  recorded: number;
  /** Skipped (not recorded), by reason. */
  skipped: Partial<Record<RejectReason, number>>;
  /** Recorded although the daemon would reject them, by reason. */
  recordedRejects: Partial<Record<RejectReason, number>>;
  /** Dropped by the recorder (write queue full). */
  dropped: number;
}

export class RawRecorder {
  private readonly s: RawRecorderStats = { received: 0, recorded: 0, skipped: {}, recordedRejects: {}, dropped: 0 };

  constructor(
    private readonly recorder: McapRecorder,
    private readonly decoder = new MessageDecoder(),
  ) {}

  /** Records one raw message; never throws on bad input. */
  add(raw: RawMessage): void {
    this.s.received++;
    const spec = this.decoder.registry.lookup(raw.topic);
    const result = this.decoder.decode(raw);
    let stampNs = raw.receiveNs;
    if (result.ok) stampNs = result.message.stampNs;
    else {
      const reason = result.rejection.reason;
      if (!spec || reason === "unknown_topic" || reason === "oversized") {
        this.s.skipped[reason] = (this.s.skipped[reason] ?? 0) + 1;
        return;
      }
      this.s.recordedRejects[reason] = (this.s.recordedRejects[reason] ?? 0) + 1;
    }
    if (this.recorder.addMessage({ topic: raw.topic, type: spec!.type, bytes: raw.payload, receiveNs: raw.receiveNs, stampNs })) this.s.recorded++;
    else this.s.dropped++;
  }

  stats(): RawRecorderStats {
    return { ...this.s, skipped: { ...this.s.skipped }, recordedRejects: { ...this.s.recordedRejects } };
  }
}
