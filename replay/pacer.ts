/**
 * Real-time pacing of a replay or play-back (`--rate 1`, `--rate N`, `--rate max`): waits until the wall
 * time that corresponds to a recorded stamp, with a clock and sleep handed in (only bin/ passes the wall
 * clock). Virtual time is replay/replay-clock.ts's.
 */
import { FusiondError, nsToMs } from "../schemas/index.ts";

/** `--rate`: a positive multiple of real time, or as fast as possible. */
export type Rate = number | "max";

export function parseRate(text: string): Rate {
  if (text === "max") return "max";
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new FusiondError("bad_rate", `--rate must be a positive number or "max", not "${text}"`, { rate: text });
  return n;
}

export interface PacerOptions {
  rate: Rate;
  /** A monotonic clock, ns (bin/: process.hrtime.bigint). */
  nowNs: () => bigint;
  sleep: (ms: number) => Promise<void>;
}

/** Waits until the wall time that corresponds to a recorded stamp at the chosen rate. */
export class Pacer {
  private originRecordedNs: bigint | undefined;
  private originWallNs = 0n;
  constructor(private readonly options: PacerOptions) {}

  /** Restarts pacing at the next stamp (after a seek or on a loop). */
  reset(): void {
    this.originRecordedNs = undefined;
  }

  async wait(recordedNs: bigint): Promise<void> {
    const { rate } = this.options;
    if (rate === "max") return;
    if (this.originRecordedNs === undefined || recordedNs < this.originRecordedNs) {
      this.originRecordedNs = recordedNs;
      this.originWallNs = this.options.nowNs();
      return;
    }
    const due = this.originWallNs + BigInt(Math.round(Number(recordedNs - this.originRecordedNs) / rate));
    const aheadMs = nsToMs(due - this.options.nowNs());
    if (aheadMs > 1) await this.options.sleep(aheadMs);
  }
}
