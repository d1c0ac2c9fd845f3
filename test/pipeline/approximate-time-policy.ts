/**
 * The ApproximateTime synchronisation policy of ROS 2 message_filters
 * (include/message_filters/sync_policies/approximate_time.hpp), ported step for step so that it
 * gives the same sets on the same input sequence: one message per input, no message used twice,
 * sets never cross, each set has minimal span among the candidates (with the age penalty), and
 * the sets depend only on the stamps, not on how arrivals from different inputs interleave
 * (given per-input stamp order and a queue large enough that nothing overflows).
 *
 * It is pure: `add(i, msg)` in, sets and drops out through callbacks. The RxJS operator
 * (approximate-time.ts) wraps it. Upstream drops silently (it only logs); here every message that
 * leaves the queues without being published is reported with a reason.
 */

export type ApproxDropReason = "queue_overflow" | "max_interval" | "superseded";

export interface ApproxDrop<T> {
  /** Index of the input the message came from. */
  input: number;
  stampNs: bigint;
  reason: ApproxDropReason;
  message: T;
}

export interface ApproximateTimeOptions<T> {
  /** Per input, how many messages may wait (upstream `queue_size`); at least 1, 2+ recommended. */
  queueSize: number;
  /** The message's event stamp, ns (upstream: the `TimeStamp` trait). */
  stamp: (m: T) => bigint;
  /** Largest allowed span of a set, ns (upstream default: ~68 years, i.e. none). */
  maxIntervalNs?: bigint;
  /** Penalty for waiting on a later candidate (upstream default 0.1); must be ≥ 0. */
  agePenalty?: number;
  /** Per input, the least gap between consecutive stamps, ns; lets a set be published sooner. */
  lowerBoundsNs?: bigint[];
}

const NO_PIVOT = -1;
/** (1 + agePenalty) as a fixed-point factor with 1e9 as denominator, so durations stay bigint. */
const SCALE = 1_000_000_000n;

export class ApproximateTimePolicy<T> {
  readonly n: number;
  private readonly queueSize: number;
  private readonly stamp: (m: T) => bigint;
  private readonly maxIntervalNs: bigint | undefined;
  private readonly factor: bigint;
  private readonly lowerBounds: bigint[];

  private readonly deques: T[][];
  private readonly past: T[][];
  private numNonEmpty = 0;
  private pivot = NO_PIVOT;
  private candidate: T[] | null = null;
  private candidateStart = 0n;
  private candidateEnd = 0n;
  private pivotTime = 0n;
  private readonly hasDropped: boolean[];
  /** Per input: a stamp went backwards or came closer than its lower bound (upstream only warns). */
  readonly boundViolations: number[];

  private busy = false;
  private readonly pending: Array<[number, T]> = [];

  constructor(
    n: number,
    options: ApproximateTimeOptions<T>,
    private readonly onSet: (set: T[]) => void,
    private readonly onDrop: (drop: ApproxDrop<T>) => void = () => {},
  ) {
    if (!Number.isInteger(n) || n < 2) throw new RangeError(`ApproximateTime needs at least 2 inputs, got ${n}`);
    if (!Number.isInteger(options.queueSize) || options.queueSize < 1) {
      throw new RangeError(`queueSize must be a positive integer, got ${options.queueSize}`);
    }
    const penalty = options.agePenalty ?? 0.1;
    if (!(penalty >= 0) || !Number.isFinite(penalty)) throw new RangeError(`agePenalty must be ≥ 0, got ${penalty}`);
    if (options.maxIntervalNs !== undefined && options.maxIntervalNs < 0n) throw new RangeError("maxIntervalNs must be ≥ 0");
    const bounds = options.lowerBoundsNs ?? [];
    if (bounds.length > n) throw new RangeError(`${bounds.length} lower bounds for ${n} inputs`);
    if (bounds.some((b) => b < 0n)) throw new RangeError("lower bounds must be ≥ 0");
    this.n = n;
    this.queueSize = options.queueSize;
    this.stamp = options.stamp;
    this.maxIntervalNs = options.maxIntervalNs;
    this.factor = BigInt(Math.round((1 + penalty) * 1e9));
    this.lowerBounds = Array.from({ length: n }, (_, i) => bounds[i] ?? 0n);
    this.deques = Array.from({ length: n }, () => []);
    this.past = Array.from({ length: n }, () => []);
    this.hasDropped = new Array<boolean>(n).fill(false);
    this.boundViolations = new Array<number>(n).fill(0);
  }

  /** Messages held right now (queued or set aside while searching); never more than n × (queueSize + 1). */
  get held(): number {
    let total = 0;
    for (let i = 0; i < this.n; i++) total += this.deques[i]!.length + this.past[i]!.length;
    return total;
  }

  /**
   * Adds a message on input i. Sets and drops are reported synchronously through the callbacks;
   * a callback that adds again is queued and handled after the current add (no re-entrance).
   */
  add(i: number, msg: T): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.n) throw new RangeError(`no input ${i}`);
    this.pending.push([i, msg]);
    if (this.busy) return;
    this.busy = true;
    try {
      for (let next = this.pending.shift(); next; next = this.pending.shift()) this.addNow(next[0], next[1]);
    } finally {
      this.busy = false;
      this.pending.length = 0;
    }
  }

  private addNow(i: number, msg: T): void {
    const deque = this.deques[i]!;
    deque.push(msg);
    if (deque.length === 1) {
      // It was empty before.
      ++this.numNonEmpty;
      if (this.numNonEmpty === this.n) this.process();
    } else {
      this.checkInterMessageBound(i);
    }
    // During process() above, queue i may hold queueSize + 1 messages.
    const past = this.past[i]!;
    if (deque.length + past.length > this.queueSize) {
      // Cancel the ongoing candidate search, if any, and drop the oldest of the offending input.
      this.numNonEmpty = 0;
      for (let j = 0; j < this.n; j++) this.recover(j, this.past[j]!.length);
      this.dropFront(i, "queue_overflow");
      this.hasDropped[i] = true;
      if (this.pivot !== NO_PIVOT) {
        this.candidate = null;
        this.pivot = NO_PIVOT;
        // There may still be enough messages for a new candidate.
        this.process();
      }
    }
  }

  private checkInterMessageBound(i: number): void {
    const deque = this.deques[i]!;
    const t = this.stamp(deque[deque.length - 1]!);
    const prev = deque.length >= 2 ? deque[deque.length - 2] : this.past[i]![this.past[i]!.length - 1];
    if (prev === undefined) return;
    const p = this.stamp(prev);
    if (t < p || t - p < this.lowerBounds[i]!) this.boundViolations[i]!++;
  }

  private scaled(d: bigint): bigint {
    return (d * this.factor) / SCALE; // truncates toward zero like rclcpp::Duration * double
  }

  /** Removes the front of deque i for good (it was not published). */
  private dropFront(i: number, reason: ApproxDropReason): void {
    const msg = this.deques[i]!.shift()!;
    this.onDrop({ input: i, stampNs: this.stamp(msg), reason, message: msg });
  }

  /** Upstream dequeDeleteFront: drop the front and keep the non-empty count. */
  private deleteFront(i: number, reason: ApproxDropReason): void {
    this.dropFront(i, reason);
    if (this.deques[i]!.length === 0) --this.numNonEmpty;
  }

  private moveFrontToPast(i: number): void {
    this.past[i]!.push(this.deques[i]!.shift()!);
    if (this.deques[i]!.length === 0) --this.numNonEmpty;
  }

  /** Moves the last `count` set-aside messages of input i back to the front of its deque. */
  private recover(i: number, count: number): void {
    const past = this.past[i]!;
    const deque = this.deques[i]!;
    if (count > 0) deque.unshift(...past.splice(past.length - count, count));
    if (deque.length > 0) ++this.numNonEmpty;
  }

  private makeCandidate(): void {
    this.candidate = this.deques.map((d) => d[0]!);
    // Everything set aside is older than the new candidate on its input: it can never be used.
    for (let i = 0; i < this.n; i++) {
      for (const msg of this.past[i]!) this.onDrop({ input: i, stampNs: this.stamp(msg), reason: "superseded", message: msg });
      this.past[i]!.length = 0;
    }
  }

  private publishCandidate(): void {
    const set = this.candidate!;
    this.candidate = null;
    this.pivot = NO_PIVOT;
    // Recover the set-aside messages and delete the ones of the candidate.
    this.numNonEmpty = 0;
    for (let i = 0; i < this.n; i++) {
      const past = this.past[i]!;
      const deque = this.deques[i]!;
      if (past.length) deque.unshift(...past.splice(0, past.length));
      deque.shift();
      if (deque.length > 0) ++this.numNonEmpty;
    }
    this.onSet(set);
  }

  /** Earliest (end = false) or latest (end = true) head of the deques; ties as upstream. */
  private boundary(end: boolean): [number, bigint] {
    let index = 0;
    let time = this.stamp(this.deques[0]![0]!);
    for (let i = 1; i < this.n; i++) {
      const t = this.stamp(this.deques[i]![0]!);
      if (t < time !== end) {
        time = t;
        index = i;
      }
    }
    return [index, time];
  }

  private virtualTime(i: number): bigint {
    const deque = this.deques[i]!;
    if (deque.length === 0) {
      const past = this.past[i]!;
      const bound = this.stamp(past[past.length - 1]!) + this.lowerBounds[i]!;
      return bound > this.pivotTime ? bound : this.pivotTime;
    }
    return this.stamp(deque[0]!);
  }

  private virtualBoundary(end: boolean): [number, bigint] {
    let index = 0;
    let time = this.virtualTime(0);
    for (let i = 1; i < this.n; i++) {
      const t = this.virtualTime(i);
      if (t < time !== end) {
        time = t;
        index = i;
      }
    }
    return [index, time];
  }

  private process(): void {
    while (this.numNonEmpty === this.n) {
      const [endIndex, endTime] = this.boundary(true);
      const [startIndex, startTime] = this.boundary(false);
      for (let i = 0; i < this.n; i++) {
        // No dropped message could have been better than the ones we have.
        if (i !== endIndex) this.hasDropped[i] = false;
      }
      if (this.pivot === NO_PIVOT) {
        if (this.maxIntervalNs !== undefined && endTime - startTime > this.maxIntervalNs) {
          this.deleteFront(startIndex, "max_interval");
          continue;
        }
        if (this.hasDropped[endIndex]) {
          // The input that would become pivot lost messages to overflow: not a trustworthy pivot.
          this.deleteFront(startIndex, "queue_overflow");
          continue;
        }
        this.makeCandidate();
        this.candidateStart = startTime;
        this.candidateEnd = endTime;
        this.pivot = endIndex;
        this.pivotTime = endTime;
        this.moveFrontToPast(startIndex);
      } else if (this.scaled(endTime - this.candidateEnd) >= startTime - this.candidateStart) {
        // Not better than the current candidate.
        this.moveFrontToPast(startIndex);
      } else {
        // Better: take it, keeping the pivot.
        this.makeCandidate();
        this.candidateStart = startTime;
        this.candidateEnd = endTime;
        this.moveFrontToPast(startIndex);
      }
      const ageCheck = this.scaled(endTime - this.candidateEnd);
      if (startIndex === this.pivot) {
        // Every candidate for this pivot has been seen.
        this.publishCandidate();
      } else if (ageCheck >= this.pivotTime - this.candidateStart) {
        // Any later candidate contains [pivotTime, endTime], already too wide: this one is optimal.
        this.publishCandidate();
      } else if (this.numNonEmpty < this.n) {
        // Use the inter-message lower bounds to try to prove optimality before waiting.
        const moves = new Array<number>(this.n).fill(0);
        for (;;) {
          const [, vEnd] = this.virtualBoundary(true);
          const [vStartIndex, vStart] = this.virtualBoundary(false);
          const vAge = this.scaled(vEnd - this.candidateEnd);
          if (vAge >= this.pivotTime - this.candidateStart) {
            this.publishCandidate(); // also undoes the virtual moves
            break;
          }
          if (vAge < vStart - this.candidateStart) {
            // An optimistic future candidate would be better: cannot prove it yet; undo.
            this.numNonEmpty = 0;
            for (let i = 0; i < this.n; i++) this.recover(i, moves[i]!);
            break;
          }
          this.moveFrontToPast(vStartIndex);
          moves[vStartIndex]!++;
        }
      }
    }
  }
}
