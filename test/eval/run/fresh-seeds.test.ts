import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freshRecordings, recordingSeed } from "../../../eval/run/fresh-guard.ts";
import { FRESH_RESERVED, FRESH_SEEDS, RANDOM_DRIVES, SCREENED_SEEDS, parseSeeds, scenariosForSeeds, suiteSeeds } from "../../../eval/run/scenarios.ts";
import { datasetEpisodeSeed } from "../../../sim/dataset.ts";
import { scenarioSuite } from "../../../sim/scenarios.ts";

/** Far more episodes than a 300-s drive holds (3 at the default --episode 120; one ends early only when its route is done). */
const EPISODES_PER_DRIVE = 50;

describe("eval: fresh seeds are outside every suite (issue #20's protocol)", () => {
  const suite = suiteSeeds();
  const screened = new Set(parseSeeds(SCREENED_SEEDS));

  it("every suite seed (train, validation, test, stand-ins) lies below the reserved block", () => {
    assert.equal(suite.size, scenarioSuite().length);
    for (const s of suite) assert.ok(s < FRESH_RESERVED.from, `suite seed ${s} is in the reserved block`);
  });

  it("the closed-loop fresh range is in the reserved block, no suite's or screened, and runs random scenarios", () => {
    const seeds = parseSeeds("fresh");
    assert.deepEqual(seeds, parseSeeds(FRESH_SEEDS.closedLoop));
    assert.equal(seeds.length, 100);
    for (const s of seeds) {
      assert.ok(s >= FRESH_RESERVED.from && s <= FRESH_RESERVED.to, `${s} outside the reserved block`);
      assert.ok(!suite.has(s) && !screened.has(s), `${s} is a suite or screened seed`);
    }
    for (const spec of scenariosForSeeds(seeds)) assert.match(spec.name, /^seed-9\d{5}$/, "a fresh seed runs the random scenario, not a suite's");
  });

  it("the open-loop drives are in the reserved block, and none of their episodes is a suite, screened or closed-loop fresh seed", () => {
    const drives = parseSeeds(FRESH_SEEDS.openLoop);
    assert.ok(drives.length * FRESH_SEEDS.openLoopDurationS >= 6 * 3600, "at least 6 hours of open loop");
    const closed = new Set(parseSeeds(FRESH_SEEDS.closedLoop));
    for (const d of drives) {
      assert.ok(d >= FRESH_RESERVED.from && d <= FRESH_RESERVED.to && !closed.has(d));
      for (let i = 0; i < EPISODES_PER_DRIVE; i++) {
        const e = datasetEpisodeSeed(d, i);
        assert.ok(!suite.has(e) && !screened.has(e) && !closed.has(e), `drive ${d} episode ${i}: seed ${e} is not fresh`);
      }
    }
  });

  it("the random-episode training and validation drives are outside the reserved block, and none of their episodes is a fresh, suite or screened seed", () => {
    const train = parseSeeds(RANDOM_DRIVES.train);
    const validation = parseSeeds(RANDOM_DRIVES.validation);
    assert.equal(new Set([...train, ...validation]).size, train.length + validation.length, "training and validation drives overlap");
    const fresh = new Set([...parseSeeds(FRESH_SEEDS.closedLoop), ...parseSeeds(FRESH_SEEDS.openLoop)]);
    for (const d of parseSeeds(FRESH_SEEDS.openLoop)) for (let i = 0; i < EPISODES_PER_DRIVE; i++) fresh.add(datasetEpisodeSeed(d, i));
    const seen = new Set<number>();
    for (const d of [...train, ...validation]) {
      assert.ok(d < FRESH_RESERVED.from || d > FRESH_RESERVED.to, `drive ${d} is in the reserved block`);
      assert.ok(!suite.has(d) && !screened.has(d), `drive ${d} is a suite or screened seed`);
      for (let i = 0; i < EPISODES_PER_DRIVE; i++) {
        const e = datasetEpisodeSeed(d, i);
        assert.ok(!fresh.has(e) && !suite.has(e) && !screened.has(e), `drive ${d} episode ${i}: seed ${e} is fresh, a suite's or screened`);
        assert.ok(!seen.has(e), `drive ${d} episode ${i}: seed ${e} also in another training or validation drive`);
        seen.add(e);
      }
    }
  });

  describe("fusiond train refuses fresh-seed drives", function () {
    this.timeout(240_000);
    const BIN = new URL("../../../bin/fusiond.js", import.meta.url).pathname;
    const fusiond = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 200_000 });
    let dir: string;
    before(() => (dir = mkdtempSync(join(tmpdir(), "fusiond-fresh-"))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("finds a drive's seed in its metadata, and refuses the fresh one as training or validation data", async () => {
      const [fresh, old] = [join(dir, "fresh.mcap"), join(dir, "old.mcap")];
      for (const [seed, f] of [["900500", fresh], ["5", old]] as const) assert.equal(fusiond(["sim", "--seed", seed, "--duration", "2", "--out", f, "--quiet"]).status, 0);
      assert.equal(await recordingSeed(fresh), 900500);
      assert.deepEqual(await freshRecordings([old, fresh]), [fresh]);
      for (const args of [["--data", fresh], ["--data", old, "--val-data", fresh]]) {
        const r = fusiond(["train", ...args, "--epochs", "1", "--out", join(dir, "m")]);
        assert.equal(r.status, 2, r.stderr);
        assert.match(r.stderr, /fresh\.mcap: fresh-seed drives \(seeds 900000–999999\) are kept for figures nobody tuned on/);
      }
    });
  });
});
