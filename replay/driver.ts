/**
 * The replay driver: feeds a recording, in log_time order, into a pipeline built by an injected
 * function, on a virtual clock driven by the recorded receive stamps. The output is a function of the
 * recording alone: replaying it twice gives the same outputs at the same virtual instants.
 */
import { Subject, type Observable, type SchedulerLike, type Subscription } from "rxjs";
import { MessageDecoder, schedulerNowNs, type Rejection, type SensorMessage } from "../schemas/index.ts";
import { ReplayClock } from "./replay-clock.ts";
import type { McapRecording, ReadOptions } from "./reader.ts";
import { decodeRecording } from "./source.ts";

/** Builds the pipeline under test: sensor messages in, outputs (e.g. decisions) out. */
export type BuildPipeline<T> = (input: Observable<SensorMessage>, scheduler: SchedulerLike) => Observable<T>;

export interface TimedOutput<T> {
  /** Virtual time the output was emitted at, ns (ms precision of the scheduler). */
  atNs: bigint;
  value: T;
}

export interface DriveResult<T> {
  outputs: TimedOutput<T>[];
  messages: number;
  rejections: Rejection[];
  rejectionsByReason: Record<string, number>;
  /** First and last log_time fed, ns. */
  startNs?: bigint;
  endNs?: bigint;
  /** Wall time is not ours to read here; bin/ measures speed. */
}

export interface DriveOptions<T> {
  recording: McapRecording;
  build: BuildPipeline<T>;
  read?: ReadOptions;
  decoder?: MessageDecoder;
  /** After the last message, let timers run this much longer (ns, default 1 s) before completing the input. */
  tailNs?: bigint;
  /** Called for each output as it happens (e.g. to record it); outputs are still collected unless `collect` is false. */
  onOutput?: (output: TimedOutput<T>) => void;
  collect?: boolean;
  /**
   * Awaited after each message, before virtual time moves on: lets asynchronous work the message
   * started (e.g. model inference) finish at this virtual instant, so results do not depend on how
   * fast the host is. Without it, async outputs land at whatever virtual time they happen to resolve.
   */
  settle?: () => Promise<void>;
  /**
   * Paces the feed in real time (`--rate 1`, `--rate N`): awaited with each message's receive stamp
   * before it is emitted. Virtual time is unaffected; without it the replay runs as fast as it can.
   */
  pacer?: { wait(recordedNs: bigint): Promise<void> };
  /** Keep at most this many rejections (counts are kept for all; default 1000). */
  maxRejections?: number;
}

export async function driveReplay<T>(options: DriveOptions<T>): Promise<DriveResult<T>> {
  const clock = new ReplayClock();
  const input = new Subject<SensorMessage>();
  const result: DriveResult<T> = { outputs: [], messages: 0, rejections: [], rejectionsByReason: {} };
  const collect = options.collect ?? true;
  let failure: unknown;
  let completed = false;
  let sub: Subscription | undefined;
  // Subscribed at the first message's instant, so periodic timers start there and not at time zero.
  const start = (): void => {
    sub = options.build(input.asObservable(), clock.scheduler).subscribe({
      next: (value) => {
        const out = { atNs: schedulerNowNs(clock.scheduler), value };
        options.onOutput?.(out);
        if (collect) result.outputs.push(out);
      },
      error: (err: unknown) => (failure = err),
      complete: () => (completed = true),
    });
  };
  const tail = options.tailNs ?? 1_000_000_000n;
  try {
    for await (const d of decodeRecording(options.recording, options.read, options.decoder)) {
      if (failure) break;
      const at = d.recorded.receiveNs;
      if (options.pacer) await options.pacer.wait(at);
      clock.advanceTo(at);
      if (!sub) start();
      result.startNs ??= at;
      result.endNs = at;
      if (d.message) {
        result.messages++;
        input.next(d.message);
        if (options.settle) await options.settle();
      } else if (d.rejection) {
        const reason = d.rejection.reason;
        result.rejectionsByReason[reason] = (result.rejectionsByReason[reason] ?? 0) + 1;
        if (result.rejections.length < (options.maxRejections ?? 1000)) result.rejections.push(d.rejection);
      }
    }
    if (!sub) start();
    if (!failure && result.endNs !== undefined) clock.advanceTo(result.endNs + tail);
    if (options.settle) await options.settle();
    input.complete();
    // Whatever completing left scheduled (a final buffer flush, a pending debounce) runs, up to one more
    // tail; asynchronous stages get a few turns to finish what they hold.
    for (let turn = 0; turn < 100 && !completed && !failure; turn++) {
      if (result.endNs !== undefined) clock.drain(result.endNs + 2n * tail);
      if (options.settle) await options.settle();
      if (!completed) await new Promise<void>((r) => setImmediate(r));
    }
  } finally {
    sub?.unsubscribe();
  }
  if (failure) throw failure;
  return result;
}
