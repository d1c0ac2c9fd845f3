/**
 * The voice intent tracker keeps the request a command makes for as long as it stands, and agrees with the
 * simulator's world (whose voice state the expert labels from) tick by tick: both apply
 * domain/voice-intent.ts, and this checks that the tracker, fed only what a vehicle hears, ends up there.
 */
import assert from "node:assert/strict";
import { INTENT_FEATURES, VoiceIntentTracker } from "../../../fusion/features/intent.ts";
import { LANE_REQUEST_S } from "../../../domain/voice-intent.ts";
import { expert } from "../../../sim/expert.ts";
import { scenariosOf } from "../../../sim/scenarios.ts";
import type { VoiceCommand, World } from "../../../sim/world/types.ts";
import { createWorld, stepWorld } from "../../../sim/world/world.ts";

const S = 1_000_000_000n;

describe("fusion/features/intent (VoiceIntentTracker)", () => {
  it("holds after stop until continue, long after the utterance left the voice window", () => {
    const t = new VoiceIntentTracker();
    t.hear(1n * S, "stop", 2n * S);
    assert.equal(t.request(60n * S).hold, "stop");
    const f = t.features(60n * S);
    assert.equal(f.length, INTENT_FEATURES);
    assert.deepEqual([...f.slice(0, 3)], [1, 1, 0]);
    t.hear(61n * S, "continue", 62n * S);
    assert.equal(t.request(62n * S).hold, "none");
  });

  it("hears each utterance once, ignores what it did not understand, and lapses a lane request", () => {
    const t = new VoiceIntentTracker();
    t.hear(1n * S, "slow down", 2n * S);
    t.hear(1n * S, "slow down", 3n * S); // the same utterance in the next frame
    assert.equal(t.request(3n * S).speedOffsetMps, -4);
    t.hear(5n * S, "", 6n * S);
    t.hear(7n * S, "open the window", 8n * S);
    assert.equal(t.heard, 1);
    t.hear(9n * S, "change lane left", 10n * S);
    assert.equal(t.request(10n * S + BigInt(LANE_REQUEST_S) * S).laneRequest, 1);
    assert.equal(t.request(11n * S + BigInt(LANE_REQUEST_S) * S).laneRequest, 0);
  });

  it("agrees with the world's voice request at every step of the held-out voice scenarios and a scripted drive", function () {
    this.timeout(60_000);
    const worlds: World[] = scenariosOf("test").filter((s) => s.events.includes("voice")).map((s) => createWorld(s));
    const scripted = createWorld({ name: "voice", seed: 5, durationS: 120, laneCount: 3, weather: ["clear"], events: [], density: 0 });
    const script: [number, VoiceCommand][] = [[3, "slow down"], [12, "slow down"], [20, "change lane left"], [40, "stop"], [60, "speed up"], [70, "pull over"]];
    for (const [atS, command] of script) scripted.events.push({ kind: "voice", atS, command, fired: false });
    worlds.push(scripted);
    let compared = 0;
    let commands = 0;
    for (const w of worlds) {
      const t = new VoiceIntentTracker();
      let cmd = expert(w);
      while (!w.done) {
        if (w.tick % 5 === 0) cmd = expert(w);
        stepWorld(w, cmd);
        const nowNs = BigInt(Math.round(w.t * 1e9));
        for (const u of w.utterances) {
          if (u.heard && t.isNew(BigInt(Math.round(u.startS * 1e9)))) t.hear(BigInt(Math.round(u.startS * 1e9)), u.command, nowNs);
        }
        const r = t.request(nowNs);
        // The lapse instant itself may differ by a tick (float seconds vs integer nanoseconds).
        if (r.laneRequest !== w.voice.laneRequest && Math.abs(w.t - w.voice.laneRequestUntilS) < 0.015) continue;
        assert.deepEqual(
          { hold: r.hold, speed: r.speedOffsetMps, lane: r.laneRequest },
          { hold: w.voice.hold, speed: w.voice.speedOffsetMps, lane: w.voice.laneRequest },
          `${w.episodeId} at ${w.t.toFixed(2)} s`,
        );
        compared++;
      }
      commands += t.heard;
    }
    assert.ok(commands >= 8, `commands heard: ${commands}`);
    assert.ok(compared > 10_000);
  });
});
