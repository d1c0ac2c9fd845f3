/**
 * `boundedMap`: runs an asynchronous stage (the model, a slow sink) with at most `concurrency`
 * items in flight, and a bounded buffer per stream in front of it, with a policy per stream:
 * - `conflate`: keep only the latest waiting item (camera frames when the model is slower than the
 *   camera): each replaced item is dropped as `conflated`;
 * - `drop_oldest`: keep the latest `capacity`, dropping the oldest as `queue_overflow`;
 * - `hold`: keep the first `capacity`, dropping newcomers as `queue_overflow` until room frees up.
 * Every drop is reported by stream key (the topic) and reason. Waiting items start in arrival
 * order across streams. Nothing here is timed, so it needs no scheduler.
 */
import { from, Observable, type ObservableInput, type OperatorFunction, type Subscription } from "rxjs";
import type { DropEvent } from "./drops.ts";

export type BufferPolicy = "conflate" | "drop_oldest" | "hold";

export interface BoundedOptions<T> {
  /** Items in flight at once (default 1). */
  concurrency?: number;
  /** Policy per stream key (default "drop_oldest"). */
  policy?: BufferPolicy | ((key: string) => BufferPolicy);
  /** Waiting items per stream key for drop_oldest/hold (default 16; conflate keeps 1). */
  capacity?: number | ((key: string) => number);
  /** The stream an item belongs to, e.g. its topic (default "*"). */
  keyOf?: (item: T) => string;
  /** Event stamp of an item, for drop reports. */
  stampOf?: (item: T) => bigint | undefined;
  /** Name of the stage in drop reports (default "backpressure"). */
  stage?: string;
  onDrop?: (drop: DropEvent) => void;
}

interface Waiting<T> {
  item: T;
  seq: number;
}

export function boundedMap<T, R>(work: (item: T) => ObservableInput<R>, options: BoundedOptions<T> = {}): OperatorFunction<T, R> {
  const concurrency = options.concurrency ?? 1;
  if (!(concurrency >= 1)) throw new RangeError(`concurrency must be ≥ 1, got ${concurrency}`);
  const policyOf = typeof options.policy === "function" ? options.policy : () => (options.policy as BufferPolicy | undefined) ?? "drop_oldest";
  const capacityOf = typeof options.capacity === "function" ? options.capacity : () => (options.capacity as number | undefined) ?? 16;
  const keyOf = options.keyOf ?? (() => "*");
  const stage = options.stage ?? "backpressure";

  return (source) =>
    new Observable<R>((subscriber) => {
      const queues = new Map<string, Waiting<T>[]>();
      let waiting = 0;
      let seq = 0;
      let active = 0;
      let sourceDone = false;
      const inFlight = new Set<Subscription>();

      const drop = (item: T, key: string, reason: DropEvent["reason"]): void => {
        const stampNs = options.stampOf?.(item);
        options.onDrop?.({ stage, topic: key, reason, ...(stampNs === undefined ? {} : { stampNs }) });
      };
      const maybeComplete = (): void => {
        if (sourceDone && active === 0 && waiting === 0) subscriber.complete();
      };
      const nextWaiting = (): T | undefined => {
        let best: [string, Waiting<T>[]] | undefined;
        for (const entry of queues) if (entry[1].length && (!best || entry[1][0]!.seq < best[1][0]!.seq)) best = entry;
        if (!best) return undefined;
        waiting--;
        const w = best[1].shift()!;
        if (!best[1].length) queues.delete(best[0]);
        return w.item;
      };
      const start = (item: T): void => {
        active++;
        let done = false;
        let sub: Subscription | undefined;
        const finish = (): void => {
          if (done) return;
          done = true;
          if (sub) inFlight.delete(sub);
          active--;
          const next = nextWaiting();
          if (next !== undefined) start(next);
          else maybeComplete();
        };
        try {
          sub = from(work(item)).subscribe({
            next: (r) => subscriber.next(r),
            error: (err) => subscriber.error(err),
            complete: finish,
          });
        } catch (err) {
          subscriber.error(err);
          return;
        }
        if (!done) inFlight.add(sub);
      };

      const upstream = source.subscribe({
        next: (item) => {
          if (active < concurrency) {
            start(item);
            return;
          }
          const key = keyOf(item);
          const policy = policyOf(key);
          let q = queues.get(key);
          if (!q) queues.set(key, (q = []));
          const capacity = policy === "conflate" ? 1 : Math.max(1, capacityOf(key));
          if (q.length >= capacity) {
            if (policy === "hold") {
              drop(item, key, "queue_overflow");
              return;
            }
            drop(q.shift()!.item, key, policy === "conflate" ? "conflated" : "queue_overflow");
            waiting--;
          }
          q.push({ item, seq: seq++ });
          waiting++;
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          sourceDone = true;
          maybeComplete();
        },
      });
      return () => {
        upstream.unsubscribe();
        for (const s of inFlight) s.unsubscribe();
      };
    });
}
