import assert from "node:assert/strict";
import { recordDaggerEpisode } from "../../../eval/run/dagger.ts";
import { loadEvalModel, type EvalModel } from "../../../eval/run/decider.ts";
import { scenariosForSeeds } from "../../../eval/run/scenarios.ts";
import { datasetMessages } from "../../../sim/dataset.ts";
import type { DatasetRecorder } from "../../../sim/dataset-writer.ts";
import { defaultCodec } from "../../../schemas/codec.ts";
import { buildScenario } from "../../../sim/scenario.ts";
import { SCENARIO_MAPS_RECORD } from "../../../sim/scenario-maps.ts";

interface Recorded {
  topic: string;
  type: string;
  bytes: Uint8Array;
}

/** A recorder in memory (the part of McapRecorder the round uses). */
function memoryRecorder(): DatasetRecorder & { messages: Recorded[]; metadata: Map<string, Record<string, string>>; closed: boolean } {
  const r = {
    messages: [] as Recorded[],
    metadata: new Map<string, Record<string, string>>(),
    closed: false,
    addMessage: (m: Recorded) => void r.messages.push(m),
    addMetadata: (name: string, values: Record<string, string>) => void r.metadata.set(name, values),
    flush: async () => {},
    close: async () => void (r.closed = true),
    stats: () => ({ queuedBytes: 0, dropped: {} }),
  };
  return r;
}

const truths = (ms: readonly Recorded[]): string[] => ms.filter((m) => m.type === "fusiond.GroundTruth").map((m) => Buffer.from(m.bytes).toString("hex"));

describe("eval/run/dagger: a DAgger round's episode (the model drives, the expert labels the states it reaches)", function () {
  this.timeout(180_000);
  const [spec] = scenariosForSeeds([7], 12);
  let classic: EvalModel;
  before(async () => (classic = await loadEvalModel("classic", "wasm")));
  after(() => classic.close());

  it("with the expert's share 1 it records the expert's own drive: the dataset fusiond sim writes of that scenario", async () => {
    const rec = memoryRecorder();
    const r = await recordDaggerEpisode(spec!, classic, rec, { expertShare: 1, seed: 1 });
    assert.ok(rec.closed);
    const codec = defaultCodec();
    const expert = [...datasetMessages(0, spec!.durationS, { vehicle: "sim", scenarios: [spec!] })].map((m) => ({ topic: m.topic, type: m.type, bytes: codec.encode(m.type, m.message) }));
    const got = truths(rec.messages);
    assert.ok(got.length >= 12 * 20, `a GroundTruth (the expert's label) every step: ${got.length}`);
    assert.deepEqual(got, truths(expert));
    assert.equal(r.row.collisions, 0);
    // The scenario is no suite's (seed 7, 12 s): its road map travels in the recording, as training reads it.
    const maps = rec.metadata.get(SCENARIO_MAPS_RECORD);
    assert.deepEqual(Object.keys(maps ?? {}), [spec!.name]);
    assert.deepEqual(JSON.parse(maps![spec!.name]!), JSON.parse(JSON.stringify(buildScenario(spec!).map)));
  });

  it("with the model driving, the states (and so the labels recorded) are the model's, not the expert's drive; the draws are seeded", async () => {
    const alone = memoryRecorder();
    await recordDaggerEpisode(spec!, classic, alone, { expertShare: 0, seed: 1 });
    const half = memoryRecorder();
    await recordDaggerEpisode(spec!, classic, half, { expertShare: 0.5, seed: 1 });
    const again = memoryRecorder();
    await recordDaggerEpisode(spec!, classic, again, { expertShare: 0.5, seed: 1 });
    const expert = memoryRecorder();
    await recordDaggerEpisode(spec!, classic, expert, { expertShare: 1, seed: 1 });
    const [a, h, e] = [truths(alone.messages), truths(half.messages), truths(expert.messages)];
    assert.equal(a.length, e.length, "every step labelled");
    assert.notDeepEqual(a, e, "the model's drive reaches other states than the expert's");
    assert.notDeepEqual(h, a);
    assert.notDeepEqual(h, e);
    assert.deepEqual(truths(again.messages), h, "same seed, same drive");
    await assert.rejects(recordDaggerEpisode(spec!, classic, memoryRecorder(), { expertShare: 1.5, seed: 1 }), /expert's share takes 0 to 1/);
  });
});
