import assert from "node:assert/strict";
import { expert } from "../../sim/expert.ts";
import { scenariosOf, scenarioSuite } from "../../sim/scenarios.ts";
import { EpisodeScorer, type EpisodeScore } from "../../sim/score.ts";
import { laneCentre } from "../../domain/road-map.ts";
import type { EgoCommand, VoiceCommand, World } from "../../sim/world/types.ts";
import { createWorld, stepWorld } from "../../sim/world/world.ts";

type Driver = (w: World) => EgoCommand;
const expertDriver: Driver = (w) => expert(w);

/** Runs a world to its end under a driver (decisions every 50 ms, like the episode), scoring every tick. */
function drive(w: World, driver: Driver): EpisodeScore {
  const scorer = new EpisodeScorer();
  let cmd = driver(w);
  while (!w.done) {
    if (w.tick % 5 === 0) cmd = driver(w);
    stepWorld(w, cmd);
    scorer.observe(w);
  }
  return scorer.result();
}

/** A quiet road (no traffic) with the given voice commands at the given times. */
function quietWorld(commands: [number, VoiceCommand][], laneCount = 3, durationS = 150): World {
  const w = createWorld({ name: "voice", seed: 77, durationS, laneCount, weather: ["clear"], events: [], density: 0 });
  for (const [atS, command] of commands) w.events.push({ kind: "voice", atS, command, fired: false });
  return w;
}

describe("sim voice compliance (judged against the expert)", function () {
  this.timeout(300_000);

  it("the expert complies with every command it can carry out: none failed on the held-out and urban training scenarios", () => {
    const specs = [...scenariosOf("test"), ...scenarioSuite().filter((s) => s.split === "train" && s.name.includes("urban"))];
    let complied = 0;
    for (const spec of specs) {
      const s = drive(createWorld(spec), expertDriver);
      const failed = s.voice.filter((v) => v.outcome === "failed");
      assert.deepEqual(failed, [], `${spec.name}: ${JSON.stringify(failed)}`);
      assert.equal(s.voiceCompliance, 1, spec.name);
      complied += s.voiceComplied;
    }
    assert.ok(complied >= specs.length, `commands complied with: ${complied}`);
  });

  it("each utterance is heard once (one check per command spoken)", () => {
    const w = quietWorld([[3, "slow down"], [20, "speed up"], [37, "change lane left"]]);
    const s = drive(w, expertDriver);
    assert.deepEqual(s.voice.map((v) => v.command), ["slow down", "speed up", "change lane left"]);
    assert.deepEqual(s.voice.map((v) => v.outcome), ["complied", "complied", "complied"]);
    assert.equal(w.utterances.filter((u) => u.heard).length, 3);
  });

  it("a driver that ignores the passenger fails the commands it could safely have carried out", () => {
    const ignore = (w: World): Driver => {
      const v0 = w.ego.v;
      return () => ({ action: "KEEP", targetSpeedMps: v0 });
    };
    const stop = quietWorld([[3, "stop"]]);
    const lane = quietWorld([[3, "change lane left"]]);
    lane.ego.lane = 0;
    lane.ego.d = laneCentre(lane.map, 0);
    const s1 = drive(stop, ignore(stop));
    const s2 = drive(lane, ignore(lane));
    assert.deepEqual(s1.voice.map((v) => [v.command, v.outcome]), [["stop", "failed"]]);
    assert.deepEqual(s2.voice.map((v) => [v.command, v.outcome]), [["change lane left", "failed"]]);
    assert.equal(s1.voiceCompliance, 0);
    // While "stop" is in force the expert would not change lanes: a later lane request is then excused.
    const both = quietWorld([[3, "stop"], [20, "change lane left"]]);
    assert.deepEqual(drive(both, ignore(both)).voice.map((v) => v.outcome), ["failed", "excused"]);
  });

  it("a request that cannot be carried out is excused, not failed (no lane to the left)", () => {
    const w = quietWorld([[3, "change lane left"]], 2, 60);
    w.ego.lane = 1;
    w.ego.d = laneCentre(w.map, 1);
    const s = drive(w, expertDriver);
    assert.deepEqual(s.voice.map((v) => [v.command, v.outcome, v.feasibleS]), [["change lane left", "excused", 0]]);
    assert.equal(s.voiceCompliance, 1, "nothing judged: compliance 1");
  });

  it("pull over: the expert reaches the shoulder, the passenger says continue, and the ego rejoins the lane", () => {
    const w = quietWorld([[3, "pull over"]], 3, 80);
    const s = drive(w, expertDriver);
    assert.deepEqual(s.voice.map((v) => [v.command, v.outcome]), [["pull over", "complied"], ["continue", "complied"]]);
    assert.equal(s.collisions, 0);
    assert.ok(w.ego.d > 1, "back in lane 0 after continue");
  });
});
