import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { FakeModelRunner, makeInputSpec } from "../../fusion/index.ts";
import { renderHtml } from "../../eval/score/html.ts";
import { ACTION_CLASSES } from "../../eval/score/open-loop.ts";
import { MODALITIES, type Modality } from "../../schemas/index.ts";
import { scenariosOf } from "../../sim/scenarios.ts";
import { evalModelOf } from "../../eval/run/decider.ts";
import { evaluate } from "../../eval/run/evaluate.ts";
import { memoryOpener } from "../../eval/run/open-loop.ts";
import { recordDrive } from "./eval-helpers.ts";

const CHROMIUM = "/usr/bin/chromium";

/** Runs headless Debian chromium on a file; resolves with stdout. Fails (never skips) when it is not installed. */
function chromium(args: string[], timeoutMs = 60_000): Promise<string> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install the Debian package "chromium" (.ci/run does)`);
  const profile = mkdtempSync(join(tmpdir(), "fusiond-chromium-"));
  const base = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", `--user-data-dir=${profile}`];
  return new Promise((resolve, reject) => {
    const child = spawn(CHROMIUM, [...base, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      rmSync(profile, { recursive: true, force: true });
      if (code === 0) resolve(Buffer.concat(out).toString("utf8"));
      else reject(new Error(`chromium exited ${code}: ${Buffer.concat(err).toString().slice(-2000)}`));
    });
  });
}

describe("fusiond eval: the HTML report in headless chromium", function () {
  this.timeout(180_000);
  let dir: string;
  let file: string;
  let html: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "fusiond-eval-html-"));
    const spec = { ...scenariosOf("test")[4]!, durationS: 4 };
    const drive = await recordDrive([spec], 4);
    const RADAR = MODALITIES.indexOf("radar");
    const fake = (id: string, fn: (x: Record<string, Float32Array>) => string, mods: Modality[] = [...MODALITIES]) =>
      evalModelOf(new FakeModelRunner(makeInputSpec(mods), (x) => ACTION_CLASSES.map((a) => (a === fn(x) ? 0.9 : 0.1 / 7)), { id, now: () => performance.now(), maxBatch: 16 }));
    const models: Record<string, () => ReturnType<typeof fake>> = {
      camera: () => fake("camera", () => "KEEP", ["camera"]),
      fused: () => fake("fused", (x) => (x["presence"]![RADAR] === 1 ? "KEEP" : "DECELERATE")),
    };
    const { report } = await evaluate({
      models: ["camera", "fused"],
      data: ["drive.mcap"],
      scenarios: [spec],
      suiteName: "test",
      ablation: true,
      baselines: [],
      backend: "cpu",
      maskUnused: true,
      bootstrap: { iterations: 100, level: 0.95, seed: 1 },
      parallel: 1,
      transport: "in-process",
      command: "fusiond eval --model camera --compare fused <test>",
      version: "test",
      load: async (d) => models[d]!(),
      openLoopOptions: { open: memoryOpener({ "drive.mcap": drive }) },
    });
    html = renderHtml(report);
    file = join(dir, "report.html");
    writeFileSync(file, html);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("is self-contained: no scripts, no external assets", () => {
    assert.doesNotMatch(html, /<script|<link|src=|href="(?!#)|url\(/i); // links only within the page (the contents)
    assert.match(html, /^<!doctype html>/);
  });

  it("renders: the DOM has the tables, the confusion matrix, per-condition bars, the histogram and the timeline", async () => {
    const dom = await chromium(["--dump-dom", `file://${file}`]);
    for (const id of ["models", "comparisons", "open-loop-summary", "per-class-camera", "per-class-fused", "ablation-fused", "closed-loop-summary", "episodes"]) {
      assert.match(dom, new RegExp(`<table id="${id}"`), `table ${id}`);
    }
    assert.equal((dom.match(/<svg class="confusion"/g) ?? []).length, 2, "one confusion matrix per model");
    assert.ok((dom.match(/<svg class="chart"/g) ?? []).length >= 6, "per-condition bars and latency histograms");
    assert.ok((dom.match(/<svg class="timeline"/g) ?? []).length >= 2, "open- and closed-loop timelines");
    assert.ok((dom.match(/<rect class="cell"/g) ?? []).length >= 128, "8×8 cells per confusion matrix");
    assert.match(dom, /macro-F1 by weather/);
  });

  it("leads with its answer: contents, the verdict and its table first, then closed loop, open loop, plots, all comparisons", async () => {
    const dom = await chromium(["--dump-dom", `file://${file}`]);
    const at = (needle: string): number => {
      const i = dom.indexOf(needle);
      assert.ok(i >= 0, `${needle} missing`);
      return i;
    };
    const order = ['<nav aria-label="contents">', '<section id="verdict">', '<table id="headline"', '<section id="closed-loop">', '<section id="open-loop">', '<section id="plots">', '<section id="comparisons-section">'].map(at);
    assert.deepEqual(order, [...order].sort((a, b) => a - b), "sections in order");
    for (const id of ["verdict", "closed-loop", "open-loop", "plots", "comparisons-section", "models-section"]) assert.match(dom, new RegExp(`<a href="#${id}">`), `contents link to ${id}`);
    assert.match(dom, /<div class="verdict"><p>Fewest collisions in closed loop: (camera|fused) \(/);
    assert.match(dom, /<p>fused against camera: collisions \d+ vs \d+/);
    assert.ok(at('<table id="headline"') < at("<svg"), "no plot before the verdict's table");
    // Readable metric names in the comparison table, and the command line only at the end.
    const comparisons = dom.slice(at('<table id="comparisons"'));
    assert.match(comparisons, /<td>closed loop · collisions<\/td>/);
    assert.doesNotMatch(comparisons.slice(0, comparisons.indexOf("</table>")), /closedLoop\.|openLoop\./);
    assert.ok(at("fusiond eval --model camera") > at('<table id="comparisons"'));
    assert.doesNotMatch(html, /max-width:1100px/, "full page width");
  });

  it("renders: a screenshot is not blank", async () => {
    const png = join(dir, "shot.png");
    await chromium([`--screenshot=${png}`, "--window-size=1200,2400", `file://${file}`]);
    const img = PNG.sync.read(readFileSync(png));
    assert.equal(img.width, 1200);
    const colours = new Set<number>();
    let nonWhite = 0;
    for (let i = 0; i < img.data.length; i += 4) {
      const [r, g, b] = [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
      colours.add((r << 16) | (g << 8) | b);
      if (r < 240 || g < 240 || b < 240) nonWhite++;
    }
    assert.ok(colours.size > 50, `${colours.size} distinct colours`);
    assert.ok(nonWhite / (img.width * img.height) > 0.02, `non-white share ${nonWhite / (img.width * img.height)}`);
  });
});
