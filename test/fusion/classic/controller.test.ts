import assert from "node:assert/strict";
import { classicDecide, INITIAL_CLASSIC_STATE, type ClassicFacts, type ClassicState } from "../../../fusion/classic/controller.ts";

const facts = (o: Partial<ClassicFacts> = {}): ClassicFacts => ({
  speedMps: 10,
  lead: undefined,
  occupiedLeft: false,
  occupiedRight: false,
  map: { stopLineM: undefined, advisoryMps: 13.9, laneCount: 3 },
  lane: 1,
  changing: 0,
  voice: { holdStop: false, holdPullOver: false, speedOffsetMps: 0, laneRequest: 0 },
  ...o,
});
const decide = (o: Partial<ClassicFacts> = {}, s: ClassicState = INITIAL_CLASSIC_STATE) => classicDecide(facts(o), s);

describe("classic controller (the non-learned baseline)", () => {
  it("cruises up to the advisory speed less the margin, and holds it", () => {
    assert.equal(decide({ speedMps: 5 }).action, "ACCELERATE");
    assert.equal(decide({ speedMps: 11.9 }).action, "KEEP");
    assert.equal(decide({ speedMps: 16 }).action, "DECELERATE");
    // "speed up" moves the cruise speed.
    assert.equal(decide({ speedMps: 11.9, voice: { holdStop: false, holdPullOver: false, speedOffsetMps: 2, laneRequest: 0 } }).action, "ACCELERATE");
  });

  it("follows a lead, and brakes hard for a stopped one close ahead (AEB)", () => {
    const follow = decide({ speedMps: 10, lead: { rangeM: 25, speedMps: 8 } });
    assert.equal(follow.reason, "follow");
    assert.ok(follow.accelMps2 < 0);
    const aeb = decide({ speedMps: 15, lead: { rangeM: 12, speedMps: 0 }, occupiedLeft: true, occupiedRight: true });
    assert.equal(aeb.action, "BRAKE_HARD");
    assert.ok(aeb.accelMps2 < -4);
  });

  it("keeps a lead that radar missed for a scan or two, then forgets it", () => {
    let s = decide({ lead: { rangeM: 15, speedMps: 0 }, occupiedLeft: true, occupiedRight: true }).state;
    for (let i = 0; i < 3; i++) {
      const d = decide({ occupiedLeft: true, occupiedRight: true }, s);
      assert.equal(d.reason, "follow", `miss ${i + 1}`);
      s = d.state;
    }
    assert.equal(decide({ occupiedLeft: true, occupiedRight: true }, s).reason, "cruise");
  });

  it("stops at a stop line, then goes on once stopped, and ignores that line until it is passed", () => {
    const approach = decide({ speedMps: 8, map: { stopLineM: 30, advisoryMps: 13.9, laneCount: 3 } });
    assert.equal(approach.reason, "stop_line");
    assert.equal(approach.action, "STOP");
    const stopped = decide({ speedMps: 0.1, map: { stopLineM: 5, advisoryMps: 13.9, laneCount: 3 } });
    assert.notEqual(stopped.state.clearedLineM, undefined);
    const go = decide({ speedMps: 1, map: { stopLineM: 4, advisoryMps: 13.9, laneCount: 3 } }, stopped.state);
    assert.equal(go.action, "ACCELERATE");
    // The next line (further than the cleared one) counts again.
    const next = decide({ speedMps: 8, map: { stopLineM: 40, advisoryMps: 13.9, laneCount: 3 } }, go.state);
    assert.equal(next.reason, "stop_line");
  });

  it("obeys spoken commands: stop, pull over to the rightmost lane, change lanes only into a free side", () => {
    const voice = (v: Partial<ClassicFacts["voice"]>) => ({ holdStop: false, holdPullOver: false, speedOffsetMps: 0, laneRequest: 0, ...v });
    assert.equal(decide({ voice: voice({ holdStop: true }) }).action, "STOP");
    assert.equal(decide({ lane: 2, voice: voice({ holdPullOver: true }) }).action, "PULL_OVER");
    assert.equal(decide({ lane: 0, voice: voice({ holdPullOver: true }) }).action, "PULL_OVER");
    assert.equal(decide({ voice: voice({ laneRequest: 1 }) }).action, "LANE_LEFT");
    assert.equal(decide({ voice: voice({ laneRequest: -1 }) }).action, "LANE_RIGHT");
    assert.notEqual(decide({ voice: voice({ laneRequest: 1 }), occupiedLeft: true }).action, "LANE_LEFT");
    assert.notEqual(decide({ lane: 2, voice: voice({ laneRequest: 1 }) }).action, "LANE_LEFT", "no lane left of the leftmost");
  });

  it("overtakes a stopped obstacle when the side is free and no stop line is near, not otherwise", () => {
    const blocked = { speedMps: 8, lead: { rangeM: 40, speedMps: 0 } };
    assert.equal(decide(blocked).reason, "overtake");
    assert.match(decide(blocked).action, /^LANE_/);
    assert.equal(decide({ ...blocked, occupiedLeft: true, occupiedRight: true }).reason, "follow");
    assert.doesNotMatch(decide({ ...blocked, map: { stopLineM: 30, advisoryMps: 13.9, laneCount: 3 } }).action, /^LANE_/);
  });

  it("a lane change under way that has to slow or stop says so (LANE_* would keep the speed)", () => {
    assert.equal(decide({ changing: 1, speedMps: 8, lead: { rangeM: 14, speedMps: 3 } }).action, "DECELERATE");
    assert.equal(decide({ changing: 1, speedMps: 3, map: { stopLineM: 8, advisoryMps: 13.9, laneCount: 3 } }).action, "STOP");
    assert.equal(decide({ changing: 1, speedMps: 11.9 }).action, "LANE_LEFT");
  });
});
