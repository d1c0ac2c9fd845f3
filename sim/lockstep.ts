/**
 * Lockstep (like CARLA's synchronous mode): publish a step's messages, ending with its SimStep; wait for the
 * decision answering that step; apply it for the next step. The transport is a two-method port, so the same
 * bridge runs over MQTT, ZeroMQ or in memory. The protocol is specified in docs/simulator.md.
 */
import type { TimestampLike } from "../schemas/time.ts";
import { timestampToNs } from "../schemas/time.ts";
import type { Episode, SimMessage } from "./episode.ts";
import type { EpisodeScore } from "./score.ts";
import { DRIVING_ACTIONS, type DrivingAction, type EgoCommand } from "./world/types.ts";

/** The fields of a fusiond.DrivingDecision the bridge reads (a decoded message has them). */
export interface DecisionLike {
  action?: DrivingAction | number | string | null;
  target_speed_mps?: number | null;
  frame_stamp?: TimestampLike | null;
}

export interface StepRef {
  step: number;
  stampNs: bigint;
}

export interface LockstepPort {
  /** Publishes one message; resolves when the transport has taken it. */
  publish(message: SimMessage): Promise<void>;
  /** The decision answering `step`, or undefined after `timeoutMs`. */
  awaitDecision(step: StepRef, timeoutMs: number): Promise<DecisionLike | undefined>;
}

export type TimeoutPolicy = "hold" | "stop" | "abort";

export interface LockstepOptions {
  /** How long to wait for each decision, ms (default 1000). */
  timeoutMs?: number;
  /** On a timeout: keep the last command (hold), brake to a stop (stop), or end the episode (abort). Default hold. */
  onTimeout?: TimeoutPolicy;
  /** Abort after this many timeouts in a row whatever the policy (default 10). */
  maxConsecutiveTimeouts?: number;
  /** Called after each step (progress). */
  onStep?: (step: StepRef, decided: boolean) => void;
  /** Polled before each wait and after each decision: true ends the episode early (SIGINT, the demo closing). */
  stopped?: () => boolean;
}

export interface LockstepResult {
  steps: number;
  decisions: number;
  timeouts: number;
  aborted: boolean;
  /** Ended early because `stopped()` said so. */
  stopped: boolean;
  published: number;
  score: EpisodeScore;
}

const ACTION_BY_NUMBER: readonly DrivingAction[] = ["KEEP", ...DRIVING_ACTIONS];

/** DrivingDecision → the command the ego follows. Unknown actions read as KEEP; a missing target speed as none. */
export function decisionToCommand(d: DecisionLike): EgoCommand {
  let action: DrivingAction = "KEEP";
  if (typeof d.action === "number") action = d.action >= 1 && d.action <= 8 ? ACTION_BY_NUMBER[d.action]! : "KEEP";
  else if (typeof d.action === "string" && (DRIVING_ACTIONS as readonly string[]).includes(d.action)) action = d.action as DrivingAction;
  const v = d.target_speed_mps;
  return { action, targetSpeedMps: typeof v === "number" && Number.isFinite(v) && v > 0 ? v : action === "STOP" || action === "PULL_OVER" ? 0 : NaN };
}

export async function runLockstep(ep: Episode, port: LockstepPort, options: LockstepOptions = {}): Promise<LockstepResult> {
  const timeoutMs = options.timeoutMs ?? 1000;
  const policy = options.onTimeout ?? "hold";
  const maxTimeouts = options.maxConsecutiveTimeouts ?? 10;
  let published = 0;
  const publishAll = async (msgs: SimMessage[]): Promise<void> => {
    for (const m of msgs) {
      await port.publish(m);
      published++;
    }
  };
  await publishAll(ep.start());
  let command: EgoCommand = { action: "KEEP", targetSpeedMps: NaN };
  let decisions = 0;
  let timeouts = 0;
  let inARow = 0;
  let aborted = false;
  let stopped = false;
  while (!ep.done) {
    const ref: StepRef = { step: ep.step, stampNs: ep.stampNs };
    if (options.stopped?.()) {
      stopped = true;
      break;
    }
    const d = await port.awaitDecision(ref, timeoutMs);
    if (options.stopped?.()) {
      stopped = true;
      break;
    }
    if (d) {
      command = decisionToCommand(d);
      decisions++;
      inARow = 0;
    } else {
      timeouts++;
      inARow++;
      if (policy === "abort" || inARow >= maxTimeouts) {
        aborted = true;
        break;
      }
      if (policy === "stop") command = { action: "STOP", targetSpeedMps: 0 };
    }
    options.onStep?.(ref, d !== undefined);
    await publishAll(ep.advance(command));
  }
  return { steps: ep.step + 1, decisions, timeouts, aborted, stopped, published, score: ep.score() };
}

export type MatchPolicy = "stamp" | "arrival";

/** Timers, injected (bin/ passes the real ones; tests pass fakes or real ones). */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Matches incoming decisions to the step being waited for. "stamp": a decision answers the step whose stamp
 * equals its frame_stamp; "arrival": the first decision offered while a step is outstanding answers it.
 * Anything else is stale (counted, dropped). Holds at most `capacity` early decisions.
 */
export class DecisionMailbox {
  stale = 0;
  accepted = 0;
  private readonly early = new Map<bigint, DecisionLike>();
  private waiting: { ref: StepRef; resolve: (d: DecisionLike | undefined) => void; timer: unknown } | undefined;
  private lastAnsweredNs = -1n;

  constructor(private readonly timers: Timers, private readonly policy: MatchPolicy = "stamp", private readonly capacity = 16) {}

  /** A decision arrived from the transport. */
  offer(d: DecisionLike): void {
    const stamp = d.frame_stamp ? timestampToNs(d.frame_stamp) : -1n;
    const w = this.waiting;
    if (w && (this.policy === "arrival" || stamp === w.ref.stampNs)) {
      this.waiting = undefined;
      this.timers.clearTimeout(w.timer);
      this.lastAnsweredNs = w.ref.stampNs;
      this.accepted++;
      w.resolve(d);
      return;
    }
    // A decision for a step not yet waited for (the decider was quick): keep it, bounded.
    if (this.policy === "stamp" && stamp > this.lastAnsweredNs && this.early.size < this.capacity) this.early.set(stamp, d);
    else this.stale++;
  }

  /** Ends the current wait at once with no decision (the simulator is stopping). */
  cancel(): void {
    const w = this.waiting;
    if (!w) return;
    this.waiting = undefined;
    this.timers.clearTimeout(w.timer);
    w.resolve(undefined);
  }

  /** Waits for the decision answering `ref` (see the class comment), or undefined after timeoutMs. */
  take(ref: StepRef, timeoutMs: number): Promise<DecisionLike | undefined> {
    if (this.waiting) throw new Error("DecisionMailbox.take: one step at a time");
    for (const k of [...this.early.keys()]) if (k < ref.stampNs) (this.early.delete(k), this.stale++);
    const ready = this.early.get(ref.stampNs);
    if (ready) {
      this.early.delete(ref.stampNs);
      this.lastAnsweredNs = ref.stampNs;
      this.accepted++;
      return Promise.resolve(ready);
    }
    return new Promise((resolve) => {
      const timer = this.timers.setTimeout(() => {
        this.waiting = undefined;
        this.lastAnsweredNs = ref.stampNs;
        resolve(undefined);
      }, timeoutMs);
      this.waiting = { ref, resolve, timer };
    });
  }
}
