/**
 * scripts/pair-reports.ts: a model run on its own, paired by episode with an earlier run's rows on the same seeds
 * (README's fresh figures for the KEEP rule and the latest-scan serving choice come from it).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";

const run = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", "scripts/pair-reports.ts", ...args], { encoding: "utf8" });

describe("scripts/pair-reports.ts", function () {
  this.timeout(60_000);
  it("pairs the first model of one report with the named models of another, by episode, as eval:fresh prints it", () => {
    const r = run("docs/reports/keep-standstill-fresh-closed-loop.json", "docs/reports/fresh-closed-loop.json", "classic", "default=default-0734");
    assert.equal(r.status, 0, r.stderr);
    // The KEEP rule's run: 4 collisions in 36.87 km against classic's 91 in 37.76 on the same 100 episodes.
    assert.match(r.stdout, /\| default +\| 100 +\| 36\.87 +\| 4 /);
    assert.match(r.stdout, /\| classic +\| 100 +\| 37\.76 +\| 91 /);
    // first − other: far fewer collisions than classic, 1.9 points of route completion under it.
    assert.match(r.stdout, /default vs classic +\| -230\.1 \[-29\d\.\d, -17\d\.\d\] +\| -0\.019 \[/);
    assert.match(r.stdout, /default vs default-0734 \| -9\.1 /);
  });

  it("says what is wrong: a model the earlier report does not have, or one named as the new report's model", () => {
    const missing = run("docs/reports/keep-standstill-fresh-closed-loop.json", "docs/reports/fresh-closed-loop.json", "attention");
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /no model attention with a closed loop \(it has default, classic, camera-ego, expert\)/);
    const clash = run("docs/reports/keep-standstill-fresh-closed-loop.json", "docs/reports/fresh-closed-loop.json", "default");
    assert.notEqual(clash.status, 0);
    assert.match(clash.stderr, /rename it \(default=default-before\)/);
    assert.equal(run("only-one.json").status, 2);
  });
});
