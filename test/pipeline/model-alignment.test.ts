/** The radar scan a model was trained on is the one it is served (pipeline/model-alignment.ts, issue 16). */
import { strict as assert } from "node:assert";
import { parseDaemonConfig } from "../../pipeline/daemon-config.ts";
import { alignerConfigFrom } from "../../pipeline/daemon-aligner.ts";
import { resolveAlignerConfig } from "../../pipeline/frame-aligner.ts";
import { daemonModelRadarScan, withModelRadarScan } from "../../pipeline/model-alignment.ts";
import { evalAligner } from "../../eval/run/model-cameras.ts";
import { EVAL_ALIGNER } from "../../eval/run/harness.ts";
import { makeInputSpec, DEFAULT_FEATURE_CONFIG, servedRadarScan, specMismatches, type InputSpec } from "../../fusion/index.ts";
import { checkCameras } from "../../bin/commands/train-flags.ts";

const base = { vehicle: "ego1", mqtt: { url: "mqtt://127.0.0.1:1883" }, model: { dir: "models/x" } };

describe("model alignment: the radar scan a model was trained on", () => {
  it("a model trained on the nearest scan leaves the daemon's config and the aligners as they are", () => {
    const c = parseDaemonConfig(base);
    assert.equal(daemonModelRadarScan(c, undefined).config, c);
    assert.equal(withModelRadarScan(EVAL_ALIGNER, undefined), EVAL_ALIGNER);
  });

  it("the daemon serves a latest-scan model the latest scan, extrapolated, never waiting for radar", () => {
    const { config, conflict } = daemonModelRadarScan(parseDaemonConfig(base), "latest");
    assert.equal(conflict, undefined);
    assert.equal(config.aligner.radarScan, "latest");
    assert.deepEqual(config.aligner.extrapolate, ["gnss", "ego", "radar"]);
    const resolved = resolveAlignerConfig(alignerConfigFrom(config.aligner, config.vehicle));
    assert.equal(resolved.radarScan, "latest");
    assert.ok(resolved.noWaitFor.includes("radar"));
    assert.ok(resolved.extrapolate.includes("radar"));
  });

  it("a config that names the radar scan or the extrapolated list wins; nearest for a latest-scan model is a warning", () => {
    const named = daemonModelRadarScan(parseDaemonConfig({ ...base, aligner: { extrapolate: ["gnss"] } }), "latest").config;
    assert.deepEqual(named.aligner.extrapolate, ["gnss"]);
    assert.equal(named.aligner.radarScan, "latest");
    const c = parseDaemonConfig({ ...base, aligner: { radarScan: "nearest" } });
    const r = daemonModelRadarScan(c, "latest");
    assert.equal(r.config, c);
    assert.match(r.conflict!, /trained on the latest scan.*remove aligner\.radarScan/);
    assert.throws(() => parseDaemonConfig({ ...base, aligner: { radarScan: "newest" } }));
  });

  it("evaluation and training's flags carry it: --radar-scan latest in the spec, evaluation aligned so", () => {
    const flags = { radarScan: "latest" } as Parameters<typeof checkCameras>[0];
    const cfg = checkCameras(flags);
    assert.equal(cfg.radarScan, "latest");
    assert.equal(checkCameras({} as Parameters<typeof checkCameras>[0]).radarScan, undefined);
    const spec = makeInputSpec(["camera", "radar", "gnss", "ego", "voice"], cfg);
    const a = evalAligner(spec, "sim");
    assert.equal(a.radarScan, "latest");
    assert.deepEqual(a.extrapolate, ["radar"], "the evaluation's own list (none) plus radar");
    assert.equal(evalAligner(makeInputSpec(["camera", "radar"], DEFAULT_FEATURE_CONFIG), "sim"), EVAL_ALIGNER);
  });

  it("a model chosen to be served on the latest scan (input spec serving.radarScan) is served and evaluated so; training's config is untouched", () => {
    const trained = makeInputSpec(["camera", "radar", "gnss", "ego", "voice"], DEFAULT_FEATURE_CONFIG);
    const spec: InputSpec = { ...trained, serving: { radarScan: "latest", chosen: "validation" } };
    assert.equal(servedRadarScan(trained), undefined);
    assert.equal(servedRadarScan(spec), "latest");
    assert.equal(spec.config.radarScan, undefined, "the features it was trained on are still the nearest scan's");
    assert.deepEqual(specMismatches(spec), []);
    const a = evalAligner(spec, "sim");
    assert.equal(a.radarScan, "latest");
    assert.deepEqual(a.extrapolate, ["radar"]);
    const { config } = daemonModelRadarScan(parseDaemonConfig(base), servedRadarScan(spec), "models/x", "chosen to be served");
    assert.equal(config.aligner.radarScan, "latest");
    const r = daemonModelRadarScan(parseDaemonConfig({ ...base, aligner: { radarScan: "nearest" } }), servedRadarScan(spec), "models/x", "chosen to be served");
    assert.match(r.conflict!, /chosen to be served on the latest scan.*wait for the scan after the camera.*remove aligner\.radarScan/);
  });

  it("a serving choice other than the latest scan is refused when the model is loaded, saying what is allowed", () => {
    const trained = makeInputSpec(["camera", "radar"], DEFAULT_FEATURE_CONFIG);
    assert.match(specMismatches({ ...trained, serving: { radarScan: "nearest" } } as unknown as InputSpec).join("; "), /serving\.radarScan is "nearest": the only serving choice is "latest"/);
    assert.match(specMismatches({ ...trained, serving: "latest" } as unknown as InputSpec).join("; "), /serving is "latest", not an object/);
  });
});
