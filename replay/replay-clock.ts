/**
 * Virtual time on replay: an RxJS VirtualTimeScheduler whose "now" (in ms, like the wall clock) is moved
 * to each recorded receive stamp before that message is emitted, so every time-based operator fires at the
 * same logical instant as it did live, however fast the replay runs. Read it with schemas/'
 * schedulerNowNs(clock.scheduler). Real-time spacing (`--rate`) is replay/pacer.ts.
 */
import { VirtualTimeScheduler } from "rxjs";
import { nsToMs } from "../schemas/index.ts";

export class ReplayClock {
  readonly scheduler = new VirtualTimeScheduler();

  /** Runs every action due at or before `ns`, then sets now() to `ns`. Time never goes back. */
  advanceTo(ns: bigint): void {
    const ms = nsToMs(ns);
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
    this.scheduler.maxFrames = limitNs === undefined ? Number.POSITIVE_INFINITY : nsToMs(limitNs);
    this.scheduler.flush();
  }
}
