import assert from "node:assert/strict";
import { msToNs, type Modality } from "../../../schemas/index.ts";
import { ACTIONS, type ActionName } from "../../../fusion/actions.ts";
import { DEFAULT_FEATURE_CONFIG, makeInputSpec } from "../../../fusion/features/config.ts";
import { COMMAND_VOCAB } from "../../../fusion/features/intent.ts";
import { FakeModelRunner } from "../../../fusion/inference/runner.ts";
import { DecisionEngine } from "../../../fusion/policy/engine.ts";
import { syntheticFrame, WARMUP_FRAMES, warmUpDecisions } from "../../../fusion/policy/warmup.ts";
import { extractFeatures } from "../../../fusion/features/frame.ts";
import { mulberry32 } from "../../../domain/random.ts";
import { sceneFrame, type Scene } from "../synthetic.ts";

const ALL: Modality[] = ["camera", "radar", "gnss", "ego", "voice"];
const MODALITIES_ALL = ALL;
const onehot = (a: ActionName): number[] => ACTIONS.map((x) => (x === a ? 0.9 : 0.1 / 7));
const runner = (a: ActionName, modalities = ALL, id = "primary") => new FakeModelRunner(makeInputSpec(modalities), () => onehot(a), { now: () => 0, id });
const scene = (o: Partial<Scene> = {}): Scene => ({ weather: "CLEAR", obstacleM: undefined, closingMps: 0, command: "", speedMps: 20, limitMps: 25, ...o });

describe("fusion/policy/engine and supervisor", () => {
  it("hears each utterance once through the model's recogniser and gives every later frame the standing request", async () => {
    const stop = COMMAND_VOCAB.map((c) => (c === "stop" ? 0.93 : 0.01));
    const recogniser = new FakeModelRunner(makeInputSpec(["voice"], { ...DEFAULT_FEATURE_CONFIG, intent: false }), () => stop, { now: () => 0, id: "rec", classes: COMMAND_VOCAB.length });
    const primary = new FakeModelRunner(makeInputSpec(ALL), () => onehot("STOP"), { now: () => 0, commands: recogniser });
    assert.ok(primary.spec.inputs.some((i) => i.name === "intent"));
    const engine = new DecisionEngine({ primary, nowNs: () => 0n });
    const rand = mulberry32(3);
    const spoken = sceneFrame(scene({ command: "stop" }), 0, rand);
    const again = { ...sceneFrame(scene({ command: "stop" }), 1, rand), slots: { ...sceneFrame(scene(), 1, rand).slots, voice: spoken.slots.voice! } };
    again.present.voice = true;
    await engine.decide(spoken);
    await engine.decide(again); // the same utterance, still in the voice window
    await engine.decide(sceneFrame(scene(), 400, rand)); // 20 s later, no voice at all
    assert.equal(recogniser.seen.length, 1, "the recogniser runs once per utterance");
    assert.equal(recogniser.seen[0]!["intent"], undefined, "the recogniser reads voice alone");
    const intents = primary.seen.map((r) => [...r["intent"]!.slice(0, 3)]);
    assert.deepEqual(intents, [[1, 1, 0], [1, 1, 0], [1, 1, 0]], "hold stop stands after the utterance has gone");
    primary.close();
    recogniser.close();
  });

  it("warm-up decides synthetic frames whose every modality is usable, on a throwaway engine", async () => {
    const primary = runner("KEEP");
    let made = 0;
    await warmUpDecisions(() => (made++, new DecisionEngine({ primary, nowNs: () => 0n })));
    assert.equal(made, 1);
    assert.equal(primary.seen.length, WARMUP_FRAMES);
    const f = extractFeatures(syntheticFrame(1, true));
    assert.deepEqual(f.problems, []);
    assert.ok(MODALITIES_ALL.every((m) => f.present[m]), JSON.stringify(f.present));
    primary.close();
  });

  it("an utterance the recogniser is unsure of changes nothing", async () => {
    const unsure = COMMAND_VOCAB.map(() => 1 / COMMAND_VOCAB.length);
    const recogniser = new FakeModelRunner(makeInputSpec(["voice"], { ...DEFAULT_FEATURE_CONFIG, intent: false }), () => unsure, { now: () => 0, classes: COMMAND_VOCAB.length });
    const primary = new FakeModelRunner(makeInputSpec(ALL), () => onehot("KEEP"), { now: () => 0, commands: recogniser });
    const engine = new DecisionEngine({ primary, nowNs: () => 0n });
    await engine.decide(sceneFrame(scene({ command: "stop" }), 0, mulberry32(4)));
    assert.deepEqual([...primary.seen[0]!["intent"]!.slice(0, 3)], [1, 0, 0]);
    primary.close();
    recogniser.close();
  });

  it("passes the model's action through with provenance when nothing is wrong", async () => {
    const primary = runner("KEEP");
    const engine = new DecisionEngine({ primary, nowNs: () => msToNs(1_003), vehicleId: "v1" });
    const d = await engine.decide(sceneFrame(scene({ command: "stop" }), 0, mulberry32(1)));
    assert.equal(d.action, "KEEP");
    assert.equal(d.model_action, "KEEP");
    assert.equal(d.overridden, false);
    assert.equal(d.override_reason, "OVERRIDE_NONE");
    assert.equal(d.model_id, "primary");
    assert.equal(d.backend, "fake");
    assert.deepEqual(d.modalities_used, ALL);
    assert.equal(d.latency_ms, 3);
    assert.equal(d.probabilities.length, 8);
    assert.deepEqual(d.frame_stamp, { seconds: 1, nanos: 0 });
    assert.equal(d.vehicle_id, "v1");
    primary.close();
  });

  it("radar TTC below the threshold: never KEEP/ACCELERATE, and says why (once the return is confirmed by two earlier scans)", async () => {
    for (const [closing, expected] of [[10, "DECELERATE"], [25, "BRAKE_HARD"]] as const) {
      const primary = runner("ACCELERATE");
      const engine = new DecisionEngine({ primary, nowNs: () => 0n });
      for (const k of [0, 1]) {
        const early = await engine.decide(sceneFrame(scene({ obstacleM: 25 - closing * 0.05 * k, closingMps: closing }), k, mulberry32(1)));
        assert.equal(early.action, "ACCELERATE", `${k + 1} scan(s) alone are not enough`);
      }
      const d = await engine.decide(sceneFrame(scene({ obstacleM: 25 - closing * 0.1, closingMps: closing }), 2, mulberry32(1)));
      assert.equal(d.model_action, "ACCELERATE");
      assert.equal(d.action, expected);
      assert.equal(d.override_reason, "OVERRIDE_TTC");
      assert.match(d.override_detail, /TTC/);
      primary.close();
    }
  });

  it("rule 3: brakes hard when a confirmed closing return needs more than 4 m/s², and caps every target speed by what it needs", async () => {
    // 14 m ahead closing at 10 m/s: TTC 1.4 s and 5 m/s² needed.
    const primary = runner("DECELERATE");
    const engine = new DecisionEngine({ primary, nowNs: () => 0n });
    await engine.decide(sceneFrame(scene({ obstacleM: 15, closingMps: 10 }), 0, mulberry32(1)));
    await engine.decide(sceneFrame(scene({ obstacleM: 14.5, closingMps: 10 }), 1, mulberry32(1)));
    const d = await engine.decide(sceneFrame(scene({ obstacleM: 14, closingMps: 10 }), 2, mulberry32(1)));
    assert.equal(d.model_action, "DECELERATE");
    assert.equal(d.action, "BRAKE_HARD");
    assert.equal(d.override_reason, "OVERRIDE_TTC");
    assert.match(d.override_detail, /needs 5\.0 m\/s²/);
    // 30 m ahead closing at 6 m/s: 0.69 m/s² needed — the model's KEEP stands, its target speed is capped.
    const keep = runner("KEEP");
    const e2 = new DecisionEngine({ primary: keep, nowNs: () => 0n });
    await e2.decide(sceneFrame(scene({ obstacleM: 30.6, closingMps: 6 }), 0, mulberry32(2)));
    await e2.decide(sceneFrame(scene({ obstacleM: 30.3, closingMps: 6 }), 1, mulberry32(2)));
    const k = await e2.decide(sceneFrame(scene({ obstacleM: 30, closingMps: 6 }), 2, mulberry32(2)));
    assert.equal(k.action, "KEEP");
    assert.ok(Math.abs(k.target_speed_mps - (20 - 36 / 52)) < 1e-6, `target ${k.target_speed_mps}`);
    primary.close();
    keep.close();
  });

  it("rule 4: no KEEP/ACCELERATE toward a confirmed closing return inside the 5 m standstill gap, however slow", async () => {
    // Creeping at 0.5 m/s toward a return 4.8 m ahead (rule 3 would ask only 0.16 m/s²).
    const primary = runner("ACCELERATE");
    const engine = new DecisionEngine({ primary, nowNs: () => 0n });
    for (const k of [0, 1]) await engine.decide(sceneFrame(scene({ obstacleM: 4.9 - 0.025 * k, closingMps: 0.5 }), k, mulberry32(3)));
    const d = await engine.decide(sceneFrame(scene({ obstacleM: 4.85, closingMps: 0.5 }), 2, mulberry32(3)));
    assert.equal(d.model_action, "ACCELERATE");
    assert.equal(d.action, "STOP");
    assert.match(d.override_detail, /standstill gap/);
    primary.close();
  });

  it("camera and radar both stale or missing: STOP without asking the model", async () => {
    const primary = runner("ACCELERATE");
    const engine = new DecisionEngine({ primary, nowNs: () => 0n });
    const d = await engine.decide(sceneFrame(scene(), 0, mulberry32(1), ["camera", "radar"]));
    assert.equal(d.action, "STOP");
    assert.equal(d.override_reason, "OVERRIDE_SENSORS_STALE");
    assert.equal(d.model_action, "ACTION_UNSPECIFIED");
    assert.equal(primary.stats().calls, 0);
    const frame = sceneFrame(scene(), 1, mulberry32(1));
    frame.ageNs.camera = msToNs(900);
    frame.ageNs.radar = msToNs(800);
    assert.equal((await engine.decide(frame)).override_reason, "OVERRIDE_SENSORS_STALE");
    assert.equal(engine.counts.overrides.OVERRIDE_SENSORS_STALE, 2);
    primary.close();
  });

  it("a missing critical sensor: the fallback model trained without it decides, and the decision says so", async () => {
    const primary = runner("ACCELERATE");
    const noCamera = runner("KEEP", ["radar", "gnss", "ego", "voice"], "no-camera");
    const engine = new DecisionEngine({ primary, fallbacks: [noCamera], nowNs: () => 0n });
    const d = await engine.decide(sceneFrame(scene(), 0, mulberry32(1), ["camera"]));
    assert.equal(d.action, "KEEP");
    assert.equal(d.model_id, "no-camera");
    assert.equal(d.override_reason, "OVERRIDE_FALLBACK");
    assert.match(d.override_detail, /camera missing.*no-camera/);
    assert.deepEqual(d.modalities_used, ["radar", "gnss", "ego"]);
    assert.equal(primary.stats().calls, 0);
    primary.close();
    noCamera.close();
  });

  it("a fallback made with an older feature config gets features in its own config", async () => {
    const primary = runner("ACCELERATE");
    const old = { ...DEFAULT_FEATURE_CONFIG, intent: false, egoManeuver: false, mapAhead: false, egoVsMap: false, stopServed: false };
    const noCamera = new FakeModelRunner(makeInputSpec(["radar", "gnss", "ego", "voice"], old), () => onehot("KEEP"), { now: () => 0, id: "old-no-camera" });
    const engine = new DecisionEngine({ primary, fallbacks: [noCamera], nowNs: () => 0n });
    const d = await engine.decide(sceneFrame(scene(), 0, mulberry32(1), ["camera"]));
    assert.equal(d.model_id, "old-no-camera");
    assert.equal(d.override_reason, "OVERRIDE_FALLBACK");
    assert.equal(noCamera.seen[0]!["ego"]!.length, 8, "the old model's 8 ego values");
    assert.equal(noCamera.seen[0]!["gnss"]!.length, 12);
    assert.equal(noCamera.seen[0]!["intent"], undefined);
    primary.close();
    noCamera.close();
  });

  it("a model that fails: a rule decides (DECELERATE), the failure replaces the fallback's reason and is counted", async () => {
    const primary = runner("ACCELERATE");
    const broken = new FakeModelRunner(makeInputSpec(["radar", "gnss", "ego", "voice"]), () => { throw new Error("out of memory"); }, { now: () => 0, id: "no-camera" });
    const engine = new DecisionEngine({ primary, fallbacks: [broken], nowNs: () => 0n });
    const d = await engine.decide(sceneFrame(scene(), 0, mulberry32(1), ["camera"]));
    assert.equal(d.action, "DECELERATE");
    assert.equal(d.model_id, "no-camera");
    assert.equal(d.model_action, "ACTION_UNSPECIFIED");
    assert.deepEqual(d.probabilities, []);
    assert.equal(d.override_reason, "OVERRIDE_OTHER");
    assert.match(d.override_detail, /^model no-camera failed \(.*out of memory.*\): rule DECELERATE$/);
    assert.equal(engine.counts.modelErrors, 1);
    primary.close();
    broken.close();
  });

  it("a fallback's decision is supervised too: the TTC override comes first in the detail, the fallback's after it", async () => {
    const primary = runner("ACCELERATE");
    const noCamera = runner("KEEP", ["radar", "gnss", "ego", "voice"], "no-camera");
    const engine = new DecisionEngine({ primary, fallbacks: [noCamera], nowNs: () => 0n });
    let d;
    for (const k of [0, 1, 2]) d = await engine.decide(sceneFrame(scene({ obstacleM: 25 - 0.5 * k, closingMps: 10 }), k, mulberry32(1), ["camera"]));
    assert.equal(d!.model_id, "no-camera");
    assert.equal(d!.model_action, "KEEP");
    assert.equal(d!.action, "DECELERATE");
    assert.equal(d!.override_reason, "OVERRIDE_TTC");
    assert.match(d!.override_detail, /^radar TTC 2\.\d\d s < 3 s: KEEP → DECELERATE; camera missing or stale: fallback model no-camera \(trained without it\)$/);
    primary.close();
    noCamera.close();
  });

  it("a missing critical sensor and no fallback: a rule decides (DECELERATE) and says so", async () => {
    const primary = runner("ACCELERATE");
    const engine = new DecisionEngine({ primary, nowNs: () => 0n });
    const d = await engine.decide(sceneFrame(scene(), 0, mulberry32(1), ["radar"]));
    assert.equal(d.action, "DECELERATE");
    assert.equal(d.model_id, "rules");
    assert.equal(d.override_reason, "OVERRIDE_FALLBACK");
    primary.close();
  });
});
