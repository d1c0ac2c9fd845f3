/**
 * `alignFrames`: SensorMessage stream → FusedFrame stream (see frame-aligner.ts for the rules).
 * Time-based: a frame waits at most `maxDelayNs` of the injected scheduler's time for late data.
 * Live, bin/ passes the async scheduler; replay passes a virtual-time scheduler on which each
 * message arrives at its recorded receive stamp, so the deadlines fall at the same logical instants.
 */
import { Observable, type OperatorFunction, type SchedulerLike, type Subscription } from "rxjs";
import type { FusedFrame, SensorMessage } from "../schemas/types.ts";
import { delayMs, schedulerNowNs } from "../schemas/scheduler-time.ts";
import type { DropEvent } from "./drops.ts";
import { FrameAligner, type AlignerConfig } from "./frame-aligner.ts";

export interface AlignOptions extends AlignerConfig {
  scheduler: SchedulerLike;
  /** Every message the aligner drops (late, duplicate, overflow). */
  onDrop?: (drop: DropEvent) => void;
  /** Receives the aligner when subscribed, for its stats and watermark. */
  onStart?: (aligner: FrameAligner) => void;
}

export function alignFrames(options: AlignOptions): OperatorFunction<SensorMessage, FusedFrame> {
  const { scheduler, onDrop, onStart, ...config } = options;
  return (source) =>
    new Observable<FusedFrame>((subscriber) => {
      const aligner = new FrameAligner(config, onDrop);
      onStart?.(aligner);
      let timer: Subscription | undefined;
      let timerAt: bigint | undefined;
      const emit = (frames: FusedFrame[]): void => {
        for (const f of frames) subscriber.next(f);
      };
      const arm = (): void => {
        const due = aligner.nextDeadlineNs();
        if (due === timerAt) return;
        timer?.unsubscribe();
        timer = undefined;
        timerAt = due;
        if (due === undefined) return;
        timer = scheduler.schedule(() => {
          // Expire by the deadline itself, not by now(): ms↔ns rounding must not skip a frame.
          timer = undefined;
          timerAt = undefined;
          emit(aligner.expire(due, schedulerNowNs(scheduler)));
          arm();
        }, delayMs(due - schedulerNowNs(scheduler)));
      };
      const sub = source.subscribe({
        next: (msg) => {
          emit(aligner.push(msg, schedulerNowNs(scheduler)));
          arm();
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          timer?.unsubscribe();
          emit(aligner.flush(schedulerNowNs(scheduler)));
          subscriber.complete();
        },
      });
      return () => {
        sub.unsubscribe();
        timer?.unsubscribe();
      };
    });
}
