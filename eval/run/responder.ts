/**
 * The decider's half of the lockstep protocol (docs/simulator.md): the pipeline decides on camera frames,
 * but the simulator waits for one decision per SimStep whose frame_stamp is that step's stamp. When SimStep
 * k has passed through the pipeline (so every sensor message of step k has too), and every frame emitted so
 * far is decided, the answer is the newest decision, re-stamped with t_k. Before the first decision there
 * is no answer (the simulator's timeout policy holds the last command).
 */
import type { DrivingDecision } from "../../fusion/index.ts";
import type { Decided } from "../../pipeline/index.ts";
import { nsToTimestamp } from "../../schemas/index.ts";
import type { DecisionLike } from "../../sim/lockstep.ts";

export class StepResponder {
  latest: Decided<DrivingDecision> | undefined;

  /** Keeps the decision on the newest frame (decisions may complete out of frame order when batched). */
  onDecision(d: Decided<DrivingDecision>): void {
    if (!this.latest || d.frame.stampNs >= this.latest.frame.stampNs) this.latest = d;
  }

  /** The answer to the step stamped `stepNs`, or undefined before any decision. */
  answer(stepNs: bigint): (DecisionLike & { frame_stamp: { seconds: number; nanos: number } }) | undefined {
    const d = this.latest?.decision;
    if (!d) return undefined;
    return { ...d, frame_stamp: nsToTimestamp(stepNs) } as DecisionLike & { frame_stamp: { seconds: number; nanos: number } };
  }
}
