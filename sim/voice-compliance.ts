/**
 * Voice-command compliance, judged against the expert. A command is heard when its speech ends. From then on,
 * while it is in force, the scorer asks the expert (privileged truth: traffic, gaps, rules) whether the
 * command could be carried out safely at that moment, and counts that time. The driver complied when the
 * command's effect shows (standstill, the next lane, the slower or faster speed...) before `BOUND_S` of such
 * time has passed; it failed when the bound ran out first. A command withdrawn before that (superseded by a
 * later one, a lane request that lapsed, a passenger who gave up) with no full bound of safe opportunity is
 * excused: a driver is never blamed for not doing what was unsafe. Commands still open when the episode ends
 * stay pending and count neither way.
 *
 * The expert itself therefore complies with every command it can carry out, and the scorer agrees with it by
 * construction: the same safety predicates decide both.
 */
import { expert, expertCruise, type ExpertLabel } from "./expert.ts";
import { STANDSTILL_MPS } from "./world/rules.ts";
import type { VoiceCommand, World } from "./world/types.ts";
import { LANE_REQUEST_S } from "./world/world.ts";

export type VoiceOutcome = "pending" | "complied" | "failed" | "excused";

export interface VoiceCheck {
  command: VoiceCommand;
  heardAtS: number;
  outcome: VoiceOutcome;
  /** Seconds during which the expert judged the command executable (the clock the bound runs on). */
  feasibleS: number;
}

/** Seconds of safe opportunity a driver gets to carry each command out. */
export const BOUND_S: Record<VoiceCommand, number> = {
  stop: 12,
  "pull over": 30,
  "slow down": 12,
  "speed up": 12,
  "change lane left": 6,
  "change lane right": 6,
  continue: 8,
};

interface Open extends VoiceCheck {
  v0: number;
  lane0: number;
}

/** Expert labels are needed at most once per decision step (every 5 physics ticks). */
const FEASIBILITY_EVERY = 5;

export class VoiceCompliance {
  private readonly checks: Open[] = [];
  private lastHeard = -Infinity;

  /** Feed the world after every physics step. */
  observe(w: World): void {
    const vi = w.voice;
    if (vi.last && vi.heardAtS > this.lastHeard) {
      this.lastHeard = vi.heardAtS;
      this.checks.push({ command: vi.last, heardAtS: vi.heardAtS, outcome: "pending", feasibleS: 0, v0: w.ego.v, lane0: w.ego.lane });
    }
    let label: ExpertLabel | undefined;
    const sample = w.tick % FEASIBILITY_EVERY === 0;
    for (const c of this.checks) {
      if (c.outcome !== "pending") continue;
      if (this.done(w, c)) {
        c.outcome = "complied";
        continue;
      }
      if (!this.inForce(w, c)) {
        c.outcome = c.feasibleS >= BOUND_S[c.command] ? "failed" : "excused";
        continue;
      }
      if (!sample) continue;
      label ??= expert(w);
      if (this.feasible(w, c, label)) c.feasibleS += FEASIBILITY_EVERY * w.dtS;
      if (c.feasibleS > BOUND_S[c.command]) c.outcome = "failed";
    }
  }

  result(): VoiceCheck[] {
    return this.checks.map(({ command, heardAtS, outcome, feasibleS }) => ({ command, heardAtS, outcome, feasibleS: Math.round(feasibleS * 100) / 100 }));
  }

  /** The command's effect shows. */
  private done(w: World, c: Open): boolean {
    const e = w.ego;
    switch (c.command) {
      case "stop":
        return e.v < STANDSTILL_MPS;
      case "pull over":
        return e.lane === 0 && e.v < STANDSTILL_MPS && e.pulledOver;
      case "slow down":
        // Down by 2 m/s, nearly stopped, or at the lowered cruise speed the request asks for.
        return e.v <= c.v0 - 2 || e.v < 3 || e.v <= expertCruise(w) + 0.5;
      case "speed up":
        return e.v >= Math.min(c.v0 + 1.5, expertCruise(w) - 0.5) && e.v > c.v0 + 0.3;
      case "change lane left":
        return e.lane > c.lane0;
      case "change lane right":
        return e.lane < c.lane0;
      case "continue":
        return e.v > 1;
    }
  }

  /** The request still stands (not superseded, not lapsed). */
  private inForce(w: World, c: Open): boolean {
    const vi = w.voice;
    const since = w.t - c.heardAtS;
    switch (c.command) {
      case "stop":
        return vi.hold === "stop" && vi.holdSinceS === c.heardAtS;
      case "pull over":
        return vi.hold === "pull_over" && vi.holdSinceS === c.heardAtS;
      case "change lane left":
      case "change lane right":
        return vi.laneRequest !== 0 && vi.laneRequestUntilS === c.heardAtS + LANE_REQUEST_S;
      case "slow down":
      case "speed up":
        // Until the next speed request (or a stop) replaces it.
        return since <= 2 * BOUND_S[c.command] && !this.laterThan(c, ["slow down", "speed up", "stop", "pull over"]);
      case "continue":
        return vi.hold === "none" && since <= 2 * BOUND_S.continue;
    }
  }

  private laterThan(c: Open, commands: VoiceCommand[]): boolean {
    return this.checks.some((o) => o.heardAtS > c.heardAtS && commands.includes(o.command));
  }

  /** Would the expert, knowing everything, be carrying the command out now? */
  private feasible(w: World, c: Open, label: ExpertLabel): boolean {
    const e = w.ego;
    switch (c.command) {
      case "stop":
      case "slow down":
        return true; // braking gently is always safe
      case "pull over":
        return e.lane === 0 || label.action === "PULL_OVER" || (e.change !== undefined && e.change.toD < e.change.fromD);
      case "change lane left":
      case "change lane right": {
        const dir = c.command === "change lane left" ? 1 : -1;
        const moving = e.change !== undefined && Math.sign(e.change.toD - e.change.fromD) === dir;
        return moving || (label.reason === "voice_lane" && label.action === (dir > 0 ? "LANE_LEFT" : "LANE_RIGHT"));
      }
      case "speed up":
        // Nothing ahead binds and the limits leave room to go faster.
        return label.reason === "cruise" && expertCruise(w) - 0.5 >= c.v0 + 0.5;
      case "continue":
        return label.targetSpeedMps > 1.5;
    }
  }
}
