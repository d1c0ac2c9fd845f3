/**
 * `decide`: runs the injected `decide(frame)` (the model and policy, whatever they are) on each
 * fused frame with bounded concurrency. When frames come faster than decisions, waiting frames
 * are conflated to the latest by default (a decision on an old frame is worth less than one on
 * the newest), and each frame skipped is counted. decide() may return a value, a Promise or an
 * Observable (its first value is the decision). A decide() that throws or rejects costs that
 * frame only: it is counted as `decide_error` and the stream goes on, unless onError is "fail".
 */
import { catchError, defer, EMPTY, from, isObservable, map, of, take, type Observable, type OperatorFunction, type SchedulerLike } from "rxjs";
import type { FusedFrame } from "../schemas/types.ts";
import { boundedMap, type BufferPolicy } from "./backpressure.ts";
import { schedulerNowNs } from "../schemas/scheduler-time.ts";
import type { DropEvent } from "./drops.ts";

export type DecideFn<D> = (frame: FusedFrame) => D | PromiseLike<D> | Observable<D>;

export interface Decided<D> {
  frame: FusedFrame;
  decision: D;
  /** Scheduler time when the decision was ready, ns. */
  decidedNs: bigint;
  /** decidedNs − frame.lastInputReceiveNs: from the last input's arrival to the decision, ns. */
  latencyNs: bigint;
}

export interface DecideOptions {
  scheduler: SchedulerLike;
  /** decide() calls in flight at once (default 1). */
  concurrency?: number;
  /** What waits while decide() is busy (default "conflate": only the newest frame). */
  policy?: BufferPolicy;
  /** Frames waiting, for drop_oldest/hold (default 4). */
  capacity?: number;
  /** Topic name used in drop reports (default "frames"). */
  topic?: string;
  onDrop?: (drop: DropEvent) => void;
  /** "drop" (default): a failing decide() drops its frame, counted; "fail": the stream errors. */
  onError?: "drop" | "fail";
}

export function decide<D>(fn: DecideFn<D>, options: DecideOptions): OperatorFunction<FusedFrame, Decided<D>> {
  const { scheduler } = options;
  const topic = options.topic ?? "frames";
  const run = (frame: FusedFrame): Observable<Decided<D>> => {
    const decision$ = defer(() => {
      const out = fn(frame);
      if (isObservable(out)) return out.pipe(take(1));
      if (out !== null && typeof out === "object" && typeof (out as PromiseLike<D>).then === "function") return from(out as PromiseLike<D>);
      return of(out as D);
    }).pipe(
      map((decision) => {
        const decidedNs = schedulerNowNs(scheduler);
        return { frame, decision, decidedNs, latencyNs: decidedNs - frame.lastInputReceiveNs };
      }),
    );
    if (options.onError === "fail") return decision$;
    return decision$.pipe(
      catchError(() => {
        options.onDrop?.({ stage: "decide", topic, reason: "decide_error", stampNs: frame.stampNs });
        return EMPTY;
      }),
    );
  };
  return boundedMap(run, {
    concurrency: options.concurrency ?? 1,
    policy: options.policy ?? "conflate",
    capacity: options.capacity ?? 4,
    keyOf: () => topic,
    stampOf: (f) => f.stampNs,
    stage: "decide",
    ...(options.onDrop ? { onDrop: options.onDrop } : {}),
  });
}
