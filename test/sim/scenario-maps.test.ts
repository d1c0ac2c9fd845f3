/**
 * Issue #20: a dataset drive on a seed outside the suite (fusiond sim --seed S --out: what eval:fresh's open-loop
 * drives are) draws random episodes, `dataset-S-i`, whose road maps no scenario name gives back. They were scored
 * with no GNSS map context (no stop line, crosswalk or limit ahead) while every model had trained with it. The
 * recording now stores each episode's map, and open loop and training read it.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeDataset } from "../../bin/commands/sim.ts";
import { evalModelOf } from "../../eval/run/decider.ts";
import { runOpenLoop } from "../../eval/run/open-loop.ts";
import { FakeModelRunner, makeInputSpec } from "../../fusion/index.ts";
import { fileSource, McapRecording } from "../../replay/index.ts";
import { MODALITIES } from "../../schemas/index.ts";
import { datasetEpisodeSeed } from "../../sim/dataset.ts";
import { randomScenario, buildScenario } from "../../sim/scenario.ts";
import { SCENARIO_MAPS_RECORD, scenarioMaps } from "../../sim/scenario-maps.ts";
import { scenariosOf } from "../../sim/scenarios.ts";
import { loadAll } from "../../train/data.ts";

/** gnss input: [valid, quality, std, map context known, stop line ahead, …] (fusion/features/gnss.ts). */
const MAP_KNOWN = 3;

describe("sim/scenario-maps: the road maps of a recording's episodes", function () {
  this.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), "fusiond-maps-"));
  const file = join(dir, "drive-42.mcap");
  after(() => rmSync(dir, { recursive: true, force: true }));
  before(async () => {
    await writeDataset(file, 42, 8, { vehicle: "sim", sensors: ["camera", "radar", "gnss", "ego", "voice"], cameraFormat: "jpeg", episodeS: 4, compression: "zstd" });
  });

  it("a dataset drive stores each random episode's map, the one the episode drove", async () => {
    const rec = await McapRecording.open(await fileSource(file));
    const meta = await rec.metadata();
    await rec.close();
    const stored = meta.get(SCENARIO_MAPS_RECORD);
    assert.deepEqual([...(stored?.keys() ?? [])], ["dataset-42-0", "dataset-42-1"]);
    const spec = randomScenario(datasetEpisodeSeed(42, 0), 4, "dataset-42-0");
    assert.deepEqual(scenarioMaps(meta, file, (m) => m)("dataset-42-0"), buildScenario(spec).map);
  });

  it("without a stored map: a suite name gives the suite's, the empty name none, any other name fails loudly", () => {
    const maps = scenarioMaps(undefined, "old.mcap", (m) => m);
    const suite = scenariosOf("test")[0]!;
    assert.deepEqual(maps(suite.name), buildScenario(suite).map);
    assert.equal(maps(""), undefined);
    assert.throws(() => maps("dataset-42-0"), /old\.mcap: scenario dataset-42-0 is not in the suite and the recording holds no road map/);
  });

  it("open loop decides the drive with map context (it had none), and training reads the same", async () => {
    const runner = new FakeModelRunner(makeInputSpec([...MODALITIES]), () => [1, 0, 0, 0, 0, 0, 0, 0], { now: () => performance.now() });
    const r = await runOpenLoop([file], evalModelOf(runner), { mask: [] });
    const withFix = runner.seen.filter((x) => x["gnss"]![0] === 1);
    assert.ok(r.report.data.decisions > 100 && withFix.length > 100, `decisions ${r.report.data.decisions}, with a fix ${withFix.length}`);
    const known = withFix.filter((x) => x["gnss"]![MAP_KNOWN] === 1).length;
    // Not every one: the simulated GNSS has bias jumps (here ~11 m sideways for a second) that put a fix off the
    // road, where the map gives no context, and a fix worse than 15 m is not trusted. Without the stored maps: none.
    assert.ok(known >= 0.8 * withFix.length, `map context in ${known} of ${withFix.length} frames with a fix`);
    runner.close();
    const samples = await loadAll([file], 1, false, () => {}, makeInputSpec([...MODALITIES]).config);
    const fixed = samples.filter((s) => s.inputs.gnss[0] === 1);
    const trained = fixed.filter((s) => s.inputs.gnss[MAP_KNOWN] === 1).length;
    assert.ok(fixed.length > 100 && trained >= 0.8 * fixed.length, `map context in ${trained} of ${fixed.length} samples with a fix`);
  });
});
