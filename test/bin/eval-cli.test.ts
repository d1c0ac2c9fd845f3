import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkReport } from "../../eval/score/report.ts";
import { scenariosOf } from "../../sim/scenarios.ts";
import { recordDrive, tinyModelDir } from "./eval-helpers.ts";

const BIN = new URL("../../bin/fusiond.js", import.meta.url).pathname;
const fusiond = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 240_000 });

describe("fusiond eval: the command", function () {
  this.timeout(300_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), "fusiond-eval-cli-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("usage errors exit 2 and say what is missing", () => {
    const none = fusiond(["eval"]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /--model/);
    const noData = fusiond(["eval", "--model", "x"]);
    assert.equal(noData.status, 2);
    assert.match(noData.stderr, /--data .*--closed-loop/);
    const help = fusiond(["eval", "--help"]);
    assert.equal(help.status, 0);
    for (const o of ["--compare", "--closed-loop", "--suite", "--seeds", "--ablation", "--mqtt", "--out", "--html"]) assert.ok(help.stdout.includes(o), o);
  });

  it("open and closed loop with a TF.js model end to end: report.json with the documented keys, and report.html", async () => {
    const model = await tinyModelDir("tiny", ["camera", "radar", "gnss", "ego", "voice"], "late", 2, dir);
    const data = join(dir, "drive.mcap");
    writeFileSync(data, await recordDrive([{ ...scenariosOf("test")[1]!, durationS: 3 }], 3));
    const out = join(dir, "r.json");
    const html = join(dir, "r.html");
    const r = fusiond(["eval", "--model", model, "--data", data, "--closed-loop", "--seeds", "3003-3003", "--duration", "2", "--out", out, "--html", html, "--backend", "cpu"]);
    assert.equal(r.status, 0, r.stderr.slice(-3000));
    const report = checkReport(JSON.parse(readFileSync(out, "utf8")));
    assert.ok(report.openLoop!.n > 40);
    assert.equal(typeof report.openLoop!.accuracy, "number");
    assert.equal(typeof report.openLoop!.macroF1, "number");
    assert.deepEqual(Object.keys(report.openLoop!.perClass), ["KEEP", "ACCELERATE", "DECELERATE", "BRAKE_HARD", "LANE_LEFT", "LANE_RIGHT", "STOP", "PULL_OVER"]);
    assert.ok(report.openLoop!.byCondition["weather"]);
    assert.equal(report.closedLoop!.episodes, 1);
    assert.ok(report.closedLoop!.km > 0);
    assert.equal(typeof report.closedLoop!.collisions, "number");
    assert.ok("collisionsPer100km" in report.closedLoop!);
    assert.equal(report.closedLoop!.suite, "seeds 3003-3003");
    assert.match(r.stdout, /Open loop[\s\S]*Closed loop/);
    assert.ok(existsSync(html) && readFileSync(html, "utf8").includes('<svg class="timeline"'));
  });
});
