/**
 * `fusiond replay` end to end, in-process: a simulator dataset, an (untrained) model of the fusion
 * strategies, the daemon's pipeline on the virtual clock. Replaying twice must give byte-identical
 * recordings (decisions included), and replaying a replayed session must reproduce its decisions.
 */
import { recordToFile } from "../../replay/index.ts";
import { MessageDecoder } from "../../schemas/index.ts";
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MODALITIES } from "../../schemas/index.ts";
import { makeInputSpec } from "../../fusion/features/config.ts";
import { renderCard } from "../../fusion/model/card.ts";
import { saveModelDir } from "../../fusion/model/model-dir.ts";
import { strategyByName } from "../../fusion/model/strategies.ts";
import { runReplay, type ReplayOpts } from "../../eval/run/replay.ts";
import { useBackend } from "../fusion/tf-setup.ts";
import { saveRecogniserFor } from "../fusion/recogniser.ts";

const FUSIOND = fileURLToPath(new URL("../../bin/fusiond.js", import.meta.url));

describe("fusiond replay (virtual-time pipeline with a model)", function () {
  this.timeout(180_000);
  let dir: string;
  let drive: string;
  let model: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "fusiond-replay-"));
    drive = join(dir, "sim.mcap");
    model = join(dir, "model");
    const sim = spawnSync(process.execPath, [FUSIOND, "sim", "--seed", "5", "--duration", "6", "--out", drive], { encoding: "utf8" });
    assert.equal(sim.status, 0, sim.stderr);
    await useBackend("wasm");
    const spec = makeInputSpec([...MODALITIES]);
    const card = { name: "replay-test", strategy: "late", description: "untrained", command: "test", data: { files: [], samples: 0, train: 0, val: 0 }, training: {}, metrics: {}, inputSpec: spec };
    await saveRecogniserFor(model, spec);
    await saveModelDir(model, strategyByName("late").build(spec, { seed: 7 }), card, renderCard);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const opts = (record: string): ReplayOpts => ({ model, record, backend: "wasm", ignore: "latency_ms,sensor_to_decision_ms,inference_ms,backend,seq", tolerance: "1e-6" });

  it("a road map that cannot be read is a clear error naming it, before anything is replayed", async () => {
    await assert.rejects(runReplay(drive, { ...opts(join(dir, "m.mcap")), map: join(dir, "no-such-map.json") }), (e: Error & { code?: string }) => e.code === "bad_map" && /no-such-map\.json/.test(e.message));
  });

  it("decides with the road map stored in the recording (the daemon stores the map it ran with); a bad one is a clear error", async () => {
    const file = join(dir, "with-map.mcap");
    const rec = await recordToFile(file, { metadata: { vehicle: "sim", map: "{not json" } });
    const codec = new MessageDecoder().codec;
    rec.addMessage({ topic: "vehicles/sim/ego", type: "fusiond.EgoState", bytes: codec.encode("fusiond.EgoState", { timestamp: { seconds: 1, nanos: 0 }, speed_mps: 3 }), receiveNs: 1_000_000_000n, stampNs: 1_000_000_000n });
    await rec.close();
    await assert.rejects(runReplay(file, opts(join(dir, "wm.mcap"))), (e: Error & { code?: string }) => e.code === "bad_map" && /stored in the recording/.test(e.message));
    // --map wins over what the recording holds.
    await assert.rejects(runReplay(file, { ...opts(join(dir, "wm2.mcap")), map: join(dir, "nope.json") }), (e: Error & { code?: string }) => e.code === "bad_map" && /nope\.json/.test(e.message));
  });

  it("replaying one recording twice gives byte-identical sessions (decisions included), and a replay of the replay agrees with it", async () => {
    const a = await runReplay(drive, opts(join(dir, "a.mcap")));
    const b = await runReplay(drive, opts(join(dir, "b.mcap")));
    assert.ok(a.decisions > 50, `${a.decisions} decisions`);
    assert.equal(a.decisions, b.decisions);
    assert.ok(readFileSync(join(dir, "a.mcap")).equals(readFileSync(join(dir, "b.mcap"))), "the two replayed sessions differ");
    assert.equal(a.comparison, undefined, "a simulator dataset has no live decisions");
    const again = await runReplay(join(dir, "a.mcap"), opts(join(dir, "c.mcap")));
    assert.ok(again.comparison);
    assert.equal(again.comparison.live, a.decisions);
    assert.equal(again.comparison.identical, a.decisions, JSON.stringify(again.comparison.diffs.slice(0, 3)));
    console.log(`      ${a.decisions} decisions; ${a.recordedS.toFixed(1)} s replayed at ${a.speedX.toFixed(1)}× real time (wasm, this machine)`);
  });
});
