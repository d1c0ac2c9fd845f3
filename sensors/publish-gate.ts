/** The bounded in-flight window every sink shares: explicit backpressure with counted refusals. */
import type { PublishResult, SinkCounters } from "./transport.ts";
import { newSinkCounters } from "./transport.ts";

const OK: PublishResult = Object.freeze({ ok: true });

export class PublishGate {
  inFlight = 0;
  closed = false;
  readonly counters: SinkCounters = newSinkCounters();
  private idleWaiters: Array<() => void> = [];

  /** @param maxInFlight publishes allowed to be pending at once (≥ 1). */
  constructor(readonly maxInFlight: number) {
    if (!(maxInFlight >= 1)) throw new RangeError(`maxInFlight must be ≥ 1, got ${maxInFlight}`);
  }

  /**
   * Runs one send if the window has room; a send resolves when the transport took the message
   * and rejects when it refused it. Never throws at the caller.
   */
  async run(send: () => Promise<void>): Promise<PublishResult> {
    if (this.closed) return { ok: false, reason: "closed", detail: "the sink is closed" };
    if (this.inFlight >= this.maxInFlight) {
      this.counters.queueOverflow++;
      return { ok: false, reason: "queue_overflow", detail: `${this.inFlight} publishes pending (maxInFlight ${this.maxInFlight})` };
    }
    this.inFlight++;
    try {
      await send();
      this.counters.sent++;
      return OK;
    } catch (err) {
      this.counters.sendFailed++;
      return { ok: false, reason: "send_failed", detail: (err as Error).message ?? String(err) };
    } finally {
      this.inFlight--;
      if (this.inFlight === 0 && this.idleWaiters.length) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  /** Stops taking publishes and resolves when the pending ones are done. */
  drain(): Promise<void> {
    this.closed = true;
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
