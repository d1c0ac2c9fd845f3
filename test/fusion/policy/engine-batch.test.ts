/**
 * DecisionEngine.decide called for B frames at once (replay and open loop batch the model that way) decides
 * exactly what it decides frame by frame: the per-frame state — TTC confirmation across radar scans, the
 * voice request heard by the recogniser, seq — advances in frame order, and only the model calls are batched.
 */
import assert from "node:assert/strict";
import { ACTIONS } from "../../../fusion/actions.ts";
import { DEFAULT_FEATURE_CONFIG, makeInputSpec } from "../../../fusion/features/config.ts";
import { COMMAND_VOCAB } from "../../../fusion/features/intent.ts";
import { FakeModelRunner } from "../../../fusion/inference/runner.ts";
import { DecisionEngine } from "../../../fusion/policy/engine.ts";
import { mulberry32 } from "../../../domain/random.ts";
import type { FusedFrame, Modality } from "../../../schemas/index.ts";
import { sceneFrame, type Scene } from "../synthetic.ts";

const ALL: Modality[] = ["camera", "radar", "gnss", "ego", "voice"];

/** Probabilities that follow every input value, so a frame with other features or intent gets another answer. */
function inputDependent(inputs: Record<string, Float32Array>): number[] {
  let h = 0;
  for (const name of Object.keys(inputs).sort()) for (const v of inputs[name]!) h = (h * 31 + Math.round(v * 1e4)) % 1_000_003;
  return ACTIONS.map((_, i) => (i === h % ACTIONS.length ? 0.6 : 0.4 / (ACTIONS.length - 1)));
}

/**
 * A drive toward an obstacle closing at 12 m/s (its radar return moves scan to scan as a real one does, so the
 * TTC confirmation and the envelope rules change from frame to frame), with spoken commands now and then.
 */
function drive(n: number, voice: boolean): FusedFrame[] {
  const rand = mulberry32(17);
  return Array.from({ length: n }, (_, i) => {
    const command = voice && i % 23 >= 20 ? (i % 2 ? "stop" : "pull over") : "";
    const s: Scene = { weather: "CLEAR", obstacleM: 45 - 12 * 0.05 * i, closingMps: 12, command, speedMps: 12, limitMps: 25 };
    return sceneFrame(s, i, rand);
  });
}

function engineOf(maxBatch: number): { engine: DecisionEngine; primary: FakeModelRunner; recogniser: FakeModelRunner } {
  const heard = COMMAND_VOCAB.map((c) => (c === "stop" ? 0.9 : 0.1 / (COMMAND_VOCAB.length - 1)));
  const recogniser = new FakeModelRunner(makeInputSpec(["voice"], { ...DEFAULT_FEATURE_CONFIG, intent: false }), () => heard, { now: () => 0, id: "rec", classes: COMMAND_VOCAB.length });
  const primary = new FakeModelRunner(makeInputSpec(ALL), inputDependent, { now: () => 0, commands: recogniser, maxBatch, maxQueue: 2 * maxBatch });
  let t = 0n;
  return { engine: new DecisionEngine({ primary, nowNs: () => (t += 1_000_000n) }), primary, recogniser };
}

/** Decides `frames` B at a time (all B calls made before the first is awaited), each at the instant `atNs(i)`. */
async function decideInBatches(engine: DecisionEngine, frames: FusedFrame[], b: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < frames.length; i += b) {
    const batch = frames.slice(i, i + b).map((f, k) => engine.decide(f, { nowNs: f.stampNs + BigInt(i + k) * 1000n }));
    for (const d of await Promise.all(batch)) out.push(JSON.stringify({ ...d, inference_ms: 0 }));
  }
  return out;
}

describe("fusion/policy/engine: batched decisions", () => {
  const frames = drive(96, true);

  it("B frames decided at once give byte-identical decisions to one at a time, for B in {1, 7, 32}", async () => {
    const one = engineOf(1);
    const reference = await decideInBatches(one.engine, frames, 1);
    assert.ok(one.primary.batchSizes.every((s) => s === 1));
    const actions = new Set(reference.map((d) => (JSON.parse(d) as { action: string }).action));
    const overrides = new Set(reference.map((d) => (JSON.parse(d) as { override_reason: string }).override_reason));
    // The drive must exercise what batching could get wrong: TTC rules and the voice request.
    assert.ok(overrides.has("OVERRIDE_TTC") && overrides.has("OVERRIDE_NONE"), [...overrides].join());
    assert.ok(actions.size >= 3, [...actions].join());
    assert.ok(one.recogniser.seen.length > 0, "the recogniser heard the commands");
    for (const b of [1, 7, 32]) {
      const e = engineOf(b);
      const got = await decideInBatches(e.engine, frames, b);
      assert.equal(got.length, reference.length);
      got.forEach((d, i) => assert.equal(d, reference[i], `B=${b}, frame ${i}`));
      assert.equal(e.recogniser.seen.length, one.recogniser.seen.length, `B=${b}: each utterance heard once`);
      // An utterance is heard before its frame's model call, so a batch holding one runs in two parts.
      assert.ok(Math.max(...e.primary.batchSizes) <= b && (b === 1 || e.primary.batchSizes.length < frames.length / 2), `B=${b}: batch sizes ${e.primary.batchSizes.join(",")}`);
    }
  });

  it("without utterances to hear first, the B frames run as one model call", async () => {
    for (const b of [7, 32]) {
      const e = engineOf(b);
      await decideInBatches(e.engine, drive(64, false), b);
      const expected = Array.from({ length: Math.ceil(64 / b) }, (_, i) => Math.min(b, 64 - i * b));
      assert.deepEqual(e.primary.batchSizes, expected);
    }
  });

  it("a frame whose features fail is rejected alone: the frames after it are still decided", async () => {
    const primary = new FakeModelRunner(makeInputSpec(ALL), inputDependent, { now: () => 0, maxBatch: 8, maxQueue: 16 });
    let calls = 0;
    const engine = new DecisionEngine({
      primary,
      nowNs: () => 0n,
      cameraFeatures: () => (calls++ === 0 ? Promise.reject(new Error("camera worker died")) : Promise.resolve(undefined)),
    });
    const [a, b] = await Promise.allSettled([engine.decide(frames[0]!), engine.decide(frames[1]!)]);
    assert.equal(a.status, "rejected");
    assert.equal(b.status, "fulfilled");
    assert.equal(b.status === "fulfilled" && b.value.seq, 0, "seq counts decisions made");
  });
});
