/**
 * Time on replay. The virtual clock is an RxJS VirtualTimeScheduler whose "now" (in ms, like the wall
 * clock) is moved to each recorded receive stamp before that message is emitted, so every time-based
 * operator fires at the same logical instant as it did live, however fast the replay runs.
 * The pacer spaces emissions in real time (`--rate 1`, `--rate N`) with a clock and sleep handed in:
 * only bin/ passes the wall clock.
 */
import { VirtualTimeScheduler } from "rxjs";
import { FusiondError } from "../schemas/index.ts";

/** ns → scheduler ms (RxJS schedulers count milliseconds as numbers). */
export const nsToSchedulerMs = (ns: bigint): number => Number(ns) / 1e6;

export class ReplayClock {
  readonly scheduler = new VirtualTimeScheduler();

  /** Runs every action due at or before `ns`, then sets now() to `ns`. Time never goes back. */
  advanceTo(ns: bigint): void {
    const ms = nsToSchedulerMs(ns);
    if (ms < this.scheduler.frame) return;
    this.scheduler.maxFrames = ms;
    this.scheduler.flush();
    this.scheduler.frame = ms;
  }

  /** Now, in ms. */
  get nowMs(): number {
    return this.scheduler.frame;
  }

  /** Runs every action still scheduled (up to `limitNs`), e.g. to let timeouts fire at the end. */
  drain(limitNs?: bigint): void {
    this.scheduler.maxFrames = limitNs === undefined ? Number.POSITIVE_INFINITY : nsToSchedulerMs(limitNs);
    this.scheduler.flush();
  }
}

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
    const aheadMs = Number(due - this.options.nowNs()) / 1e6;
    if (aheadMs > 1) await this.options.sleep(aheadMs);
  }
}
