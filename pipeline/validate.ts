/**
 * `validate`: lets through only messages fit to align. A message is rejected, with a reason, when
 * it has no event stamp or one implausibly far from its receive time (`invalid`), a stamp further ahead of
 * its receive time than `maxFutureNs` (`future`: a sender whose clock runs ahead, or a hostile stamp, must not
 * drag event time forward and make everyone else's messages late), carries NaN or
 * ±Infinity where a number must be finite or a value out of its physical range (`invalid`),
 * repeats the last stamp of its topic (`duplicate`) or goes back in time on its topic
 * (`out_of_order`). Rejections are reported and the stream goes on; nothing here throws on bad input.
 */
import { defer, filter, type MonoTypeOperatorFunction } from "rxjs";
import type { Rejection, RejectReason } from "../schemas/errors.ts";
import { NS_PER_S } from "../schemas/time.ts";
import type { SensorMessage, TopicKind } from "../schemas/types.ts";

export type Range = readonly [min: number, max: number];

export interface ValidateOptions {
  /** Per kind, top-level numeric fields and their allowed [min, max]. Defaults: DEFAULT_RANGES. */
  ranges?: Partial<Record<TopicKind, Record<string, Range>>>;
  /**
   * Per kind, fields where NaN is a legitimate "unknown" (not ±Infinity). Default: GNSS latitude,
   * longitude and altitude (a fix with no position, as in ROS NavSatFix).
   */
  nanAllowed?: Partial<Record<TopicKind, readonly string[]>>;
  /** Largest |stamp − receive time| accepted, ns (default 60 s): catches a sensor clock gone wrong. */
  maxClockSkewNs?: bigint;
  /**
   * Largest amount a stamp may be ahead of its receive time, ns (default 100 ms). A sensor stamps before it
   * sends, so a stamp after its own arrival means the sender's clock is ahead of ours (synchronise with
   * PTP/NTP) or someone is trying to move event time: such a message is rejected as `future`.
   */
  maxFutureNs?: bigint;
  /** What to do with a stamp older than the last one on its topic (default "reject"). */
  outOfOrder?: "reject" | "accept";
  /** Topics whose last stamp is remembered (default 4096); beyond it the oldest topic is forgotten. */
  maxTopics?: number;
  /** Every rejection, as it happens. */
  onReject?: (rejection: Rejection) => void;
}

/** The default of ValidateOptions.maxFutureNs: 100 ms. */
export const DEFAULT_MAX_FUTURE_NS = 100_000_000n;

export const DEFAULT_RANGES: Partial<Record<TopicKind, Record<string, Range>>> = {
  gnss: { latitude: [-90, 90], longitude: [-180, 180], altitude: [-1_000, 20_000] },
  ego: { speed_mps: [-100, 100], yaw_rate_rps: [-10, 10], steering_rad: [-2, 2], accel_mps2: [-100, 100], lane_index: [0, 64] },
};

const MAX_SCAN = 100_000; // numbers checked per message, so a huge payload cannot stall the stream

/**
 * The first non-finite number in a decoded message (skipping byte arrays), as a field path ("a.b[2].c"; a path in
 * `skip` may be NaN). The path is spelt out only for a non-finite number: the walk keeps its keys on `keys`
 * (a stack), so a message of thousands of numbers (radar returns) costs no string per number.
 */
function firstNonFinite(value: unknown, skip: ReadonlySet<string>, budget: { n: number }, keys: (string | number)[] = []): string | undefined {
  if (budget.n-- <= 0) return undefined;
  if (typeof value === "number") {
    if (Number.isFinite(value)) return undefined;
    const path = pathOf(keys);
    return skip.has(path) ? undefined : path;
  }
  if (value === null || typeof value !== "object" || ArrayBuffer.isView(value)) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      keys.push(i);
      const hit = firstNonFinite(value[i], skip, budget, keys);
      keys.pop();
      if (hit) return hit;
    }
    return undefined;
  }
  for (const k of Object.keys(value)) {
    keys.push(k);
    const hit = firstNonFinite((value as Record<string, unknown>)[k], skip, budget, keys);
    keys.pop();
    if (hit) return hit;
  }
  return undefined;
}

/** "a.b[2].c" from ["a", "b", 2, "c"]. */
function pathOf(keys: readonly (string | number)[]): string {
  let path = "";
  for (const k of keys) path = typeof k === "number" ? `${path}[${k}]` : path ? `${path}.${k}` : k;
  return path;
}

const fmtMs = (ns: bigint): string => (Number(ns) / 1e6).toFixed(1);

/** The checks, without RxJS: `check(msg)` gives the rejection, or undefined if the message is fit. */
export class MessageValidator {
  private readonly ranges: Partial<Record<TopicKind, Record<string, Range>>>;
  private readonly nanAllowed: Partial<Record<TopicKind, ReadonlySet<string>>>;
  private readonly maxSkew: bigint;
  private readonly maxFuture: bigint;
  private readonly rejectOutOfOrder: boolean;
  private readonly maxTopics: number;
  /** Last accepted stamp per topic (insertion-ordered, so the oldest topic is evicted first). */
  private readonly last = new Map<string, bigint>();
  readonly counts: Partial<Record<RejectReason, number>> = {};

  constructor(options: ValidateOptions = {}) {
    this.ranges = options.ranges ?? DEFAULT_RANGES;
    const nan = options.nanAllowed ?? { gnss: ["latitude", "longitude", "altitude"] };
    this.nanAllowed = Object.fromEntries(Object.entries(nan).map(([k, v]) => [k, new Set(v)]));
    this.maxSkew = options.maxClockSkewNs ?? 60n * NS_PER_S;
    this.maxFuture = options.maxFutureNs ?? DEFAULT_MAX_FUTURE_NS;
    this.rejectOutOfOrder = (options.outOfOrder ?? "reject") === "reject";
    this.maxTopics = options.maxTopics ?? 4096;
  }

  check(m: SensorMessage): Rejection | undefined {
    const reject = (reason: RejectReason, detail: string): Rejection => {
      this.counts[reason] = (this.counts[reason] ?? 0) + 1;
      return { reason, topic: m.topic, detail, receiveNs: m.receiveNs, bytes: m.bytes.length };
    };
    if (typeof m.stampNs !== "bigint" || m.stampNs <= 0n) return reject("invalid", "missing event stamp");
    const skew = m.stampNs - m.receiveNs;
    if (skew > this.maxSkew || -skew > this.maxSkew) return reject("invalid", `stamp ${m.stampNs} is ${skew} ns from receive time (limit ${this.maxSkew})`);
    if (skew > this.maxFuture) {
      return reject(
        "future",
        `stamp is ${fmtMs(skew)} ms ahead of its receive time (limit ${fmtMs(this.maxFuture)} ms): the sender's clock is ahead of this machine's — synchronise clocks (PTP/NTP) or raise validate.maxFutureMs`,
      );
    }
    const nanOk = this.nanAllowed[m.kind] ?? new Set<string>();
    const bad = firstNonFinite(m.message, nanOk, { n: MAX_SCAN });
    if (bad) return reject("invalid", `${bad} is not finite`);
    for (const [field, [min, max]] of Object.entries(this.ranges[m.kind] ?? {})) {
      const v = (m.message as Readonly<Record<string, unknown>>)[field]; // field names from the config (ranges)
      if (typeof v === "number" && !Number.isNaN(v) && (v < min || v > max)) return reject("invalid", `${field} = ${v} outside [${min}, ${max}]`);
    }
    const prev = this.last.get(m.topic);
    if (prev !== undefined) {
      if (m.stampNs === prev) return reject("duplicate", `stamp ${m.stampNs} repeated`);
      if (m.stampNs < prev && this.rejectOutOfOrder) return reject("out_of_order", `stamp ${m.stampNs} < previous ${prev}`);
    }
    // The topic's mark never runs ahead of receive time: a message stamped after its own arrival (within
    // maxFutureNs) must not make the topic's next real messages out of order. Duplicates of such a message
    // are still caught downstream (the aligner refuses a second sample with the same topic and stamp).
    const mark = m.stampNs < m.receiveNs ? m.stampNs : m.receiveNs;
    if (prev === undefined || mark > prev) {
      this.last.delete(m.topic);
      this.last.set(m.topic, mark);
      if (this.last.size > this.maxTopics) this.last.delete(this.last.keys().next().value!);
    }
    return undefined;
  }
}

/** The operator: passes fit messages, reports the others to `options.onReject`. */
export function validate(options: ValidateOptions = {}): MonoTypeOperatorFunction<SensorMessage> {
  return (source) =>
    defer(() => {
      // One validator per subscription: its per-topic state must not leak between runs.
      const validator = new MessageValidator(options);
      return source.pipe(
        filter((m) => {
          const rejection = validator.check(m);
          if (rejection) options.onReject?.(rejection);
          return rejection === undefined;
        }),
      );
    });
}
