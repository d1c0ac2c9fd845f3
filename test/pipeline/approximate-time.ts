/**
 * `approximateTime`: N input streams → sets of one message per input, with the exact semantics of
 * ROS 2 message_filters' ApproximateTime policy (see approximate-time-policy.ts). It is not
 * time-based (it never waits on a clock), so it takes no scheduler.
 *
 * Under test/ because only its own tests use it: no stage of the daemon synchronises this way (the
 * fused-frame aligner, pipeline/frame-aligner.ts, does); it moved here from pipeline/ (#15).
 */
import { Observable, Subject, share, filter, map } from "rxjs";
import { ApproximateTimePolicy, type ApproxDrop, type ApproxDropReason, type ApproximateTimeOptions } from "./approximate-time-policy.ts";

export type { ApproxDrop, ApproxDropReason, ApproximateTimeOptions } from "./approximate-time-policy.ts";
export { ApproximateTimePolicy } from "./approximate-time-policy.ts";

/** Options of the operator: the policy's, plus a callback for every dropped message. */
export interface ApproximateTimeOperatorOptions<T> extends ApproximateTimeOptions<T> {
  onDrop?: (drop: ApproxDrop<T>) => void;
}

/** What the synchroniser emits: a set, or a message it dropped. */
export type ApproxEvent<T> = { kind: "set"; set: T[] } | { kind: "drop"; drop: ApproxDrop<T> };

/** Drops counted per input and reason, since subscription. */
export type ApproxDropCounts = Record<ApproxDropReason, number[]>;

/**
 * Sets and drops in one stream, in the order they happened. Completes when every input has
 * completed (messages still queued then are not published: upstream has no flush either);
 * errors when any input errors.
 */
export function approximateTimeEvents<T>(inputs: Observable<T>[], options: ApproximateTimeOptions<T>): Observable<ApproxEvent<T>> {
  return new Observable<ApproxEvent<T>>((subscriber) => {
    const policy = new ApproximateTimePolicy<T>(
      inputs.length,
      options,
      (set) => subscriber.next({ kind: "set", set }),
      (drop) => subscriber.next({ kind: "drop", drop }),
    );
    let open = inputs.length;
    inputs.forEach((input, i) => {
      subscriber.add(
        input.subscribe({
          next: (msg) => {
            try {
              policy.add(i, msg);
            } catch (err) {
              subscriber.error(err); // e.g. a stamp() callback that threw
            }
          },
          error: (err) => subscriber.error(err),
          complete: () => {
            if (--open === 0) subscriber.complete();
          },
        }),
      );
    });
  });
}

/**
 * The ApproximateTime operator, in the signature of issue 3: emits one array per set, with the
 * message of input i at index i. Dropped messages go to `options.onDrop` when given.
 */
export function approximateTime<T>(inputs: Observable<T>[], options: ApproximateTimeOperatorOptions<T>): Observable<T[]> {
  return approximateTimeEvents(inputs, options).pipe(
    filter((e): e is { kind: "set"; set: T[] } => {
      if (e.kind === "drop") options.onDrop?.(e.drop);
      return e.kind === "set";
    }),
    map((e) => e.set),
  );
}

export interface ApproximateTimeStreams<T> {
  /** The sets; subscribing starts the synchroniser (shared with drops$). */
  sets$: Observable<T[]>;
  /** Every dropped message, as it is dropped; hot: subscribe before (or with) sets$. */
  drops$: Observable<ApproxDrop<T>>;
  /** Drops counted per reason and input since the last (re)start. */
  counts(): ApproxDropCounts;
}

/** The same synchroniser with sets and drops as two streams, and the drop counts. */
export function approximateTimeWithDrops<T>(inputs: Observable<T>[], options: ApproximateTimeOptions<T>): ApproximateTimeStreams<T> {
  const zero = (): ApproxDropCounts => ({
    queue_overflow: new Array<number>(inputs.length).fill(0),
    max_interval: new Array<number>(inputs.length).fill(0),
    superseded: new Array<number>(inputs.length).fill(0),
  });
  let counts = zero();
  const drops = new Subject<ApproxDrop<T>>();
  const sets$ = new Observable<T[]>((subscriber) => {
    counts = zero();
    return approximateTimeEvents(inputs, options).subscribe({
      next: (e) => {
        if (e.kind === "set") subscriber.next(e.set);
        else {
          counts[e.drop.reason][e.drop.input]!++;
          drops.next(e.drop);
        }
      },
      error: (err) => subscriber.error(err),
      complete: () => subscriber.complete(),
    });
  }).pipe(share());
  return {
    sets$,
    drops$: drops.asObservable(),
    counts: () => ({
      queue_overflow: [...counts.queue_overflow],
      max_interval: [...counts.max_interval],
      superseded: [...counts.superseded],
    }),
  };
}
