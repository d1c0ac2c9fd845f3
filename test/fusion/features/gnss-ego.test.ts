import { DEFAULT_FEATURE_CONFIG, makeInputSpec } from "../../../fusion/features/config.ts";
import type { Modality } from "../../../schemas/index.ts";
import { buildScenario } from "../../../sim/scenario.ts";
import { scenariosOf } from "../../../sim/scenarios.ts";
import { advisorySpeedAt, conditionsSpeedAt, speedLimitAt, stationToGeo, weatherAt } from "../../../domain/road-map.ts";
import { roadMapView } from "../../../fusion/features/map-view.ts";
import assert from "node:assert/strict";
import { egoFeatures } from "../../../fusion/features/ego.ts";
import { fixQuality, gnssFeatures, toLocalMetric, type MapView } from "../../../fusion/features/gnss.ts";

const fix = (std: number) => ({ latitude: 48.1, longitude: 11.5, altitude: 500, position_covariance: [std * std, 0, 0, 0, std * std, 0, 0, 0, 1], position_covariance_type: 2 });
const map: MapView = { id: "stub", contextAt: () => ({ stopLineDistanceM: 42, speedLimitMps: 13.9, inTunnel: true }) };

describe("fusion/features/gnss and ego", () => {
  it("a fix without position is masked, not placed at (0, 0)", () => {
    assert.equal(gnssFeatures({ latitude: Number.NaN, longitude: Number.NaN }, map).present, false);
    assert.equal(gnssFeatures({ latitude: 0, longitude: 0 }, map).present, false);
    assert.equal(gnssFeatures(undefined, map).present, false);
  });

  it("fix quality falls with the covariance; map context only for a trusted fix", () => {
    assert.ok(fixQuality(1) > fixQuality(10) && fixQuality(10) > fixQuality(100));
    const good = gnssFeatures(fix(1), map);
    assert.deepEqual(good.context, { stopLineDistanceM: 42, speedLimitMps: 13.9, inTunnel: true });
    assert.ok(Math.abs(good.values[5]! - 0.42) < 1e-6);
    assert.equal(good.values[7], 1);
    const bad = gnssFeatures(fix(40), map);
    assert.ok(bad.present);
    assert.equal(bad.context, undefined);
  });

  it("projects to a local metric frame", () => {
    const p = toLocalMetric(48.101, 11.5, 48.1, 11.5);
    assert.ok(Math.abs(p.north - 111.3) < 0.5 && Math.abs(p.east) < 1e-9);
  });

  it("gnss with mapAhead: the map's advisory speed, lowered ahead of a lower limit and in rain or fog as the simulator's driver does", () => {
    const road = buildScenario(scenariosOf("test").find((s) => s.name === "test-urban-rain-0")!).map;
    // Its zones: 19.4 m/s from 300 m, 13.9 m/s from 400 m. 50 m before the lower one:
    const zone = road.speedLimits.find((z) => z.startM === 400 && z.limitMps === 13.9);
    assert.ok(zone, "the scenario has a lower limit ahead");
    const before = zone.startM - 50;
    assert.equal(speedLimitAt(road, before), 19.4);
    assert.ok(Math.abs(advisorySpeedAt(road, before) - Math.sqrt(13.9 ** 2 + 2 * 1.5 * 50)) < 1e-9);
    assert.equal(advisorySpeedAt(road, 200), speedLimitAt(road, 200), "no lower limit within reach: the limit");
    const pos = stationToGeo(road, before, road.laneWidthM / 2);
    const view = roadMapView(road);
    const f = gnssFeatures({ latitude: pos.latitude, longitude: pos.longitude, position_covariance: [1, 0, 0, 0, 1, 0, 0, 0, 1], position_covariance_type: 2 }, view, true);
    assert.equal(f.values.length, 13);
    // The map context reports the speed for today's conditions: this stretch is in rain (0.9 × the limit).
    assert.equal(weatherAt(road, before).weather, "rain");
    assert.equal(conditionsSpeedAt(road, before), Math.min(advisorySpeedAt(road, before), 0.9 * 19.4));
    assert.ok(Math.abs(f.values[12]! - conditionsSpeedAt(road, before) / 30) < 0.01);
    assert.equal(gnssFeatures({ latitude: pos.latitude, longitude: pos.longitude }, view).values.length, 12, "older models: 12 values");
  });

  it("ego: speed, yaw rate; with the manoeuvre features, the lane when known and the lane change in progress", () => {
    const msg = { speed_mps: 15, yaw_rate_rps: 0.1, steering_rad: 0, accel_mps2: 1, lane_index: 0, lane_change: -1 };
    const e = egoFeatures(msg, true);
    assert.equal(e.values.length, 10);
    assert.equal(e.values[0], 0.5);
    assert.equal(e.values[4], 1);
    assert.deepEqual([...e.values.slice(8)], [0, 1]);
    assert.equal(egoFeatures({ speed_mps: 15 }, true).values[4], 0);
    assert.equal(egoFeatures(undefined).present, false);
  });

  it("ego with the manoeuvre features leaves out the measured acceleration (the previous decision's echo)", () => {
    assert.equal(egoFeatures({ speed_mps: 10, accel_mps2: 2.5 }, true).values[3], 0);
    assert.equal(egoFeatures({ speed_mps: 10, accel_mps2: 2.5 }).values[3], 0.5, "older models keep it");
    assert.equal(egoFeatures({ speed_mps: 10, accel_mps2: 2.5 }, true, undefined, true).values[3], 0.5, "egoAccel models (trained on perturbed drives) keep it");
  });

  it("ego with egoVsMap: the speed against the map's advisory speed, only for models that read GNSS", () => {
    const ctx = { stopLineDistanceM: undefined, speedLimitMps: 20, advisorySpeedMps: 15, inTunnel: false };
    const e = egoFeatures({ speed_mps: 10 }, true, { map: ctx });
    assert.equal(e.values.length, 13);
    assert.deepEqual([...e.values.slice(10)].map((v) => Math.round(v * 1000) / 1000), [1, 0.5, 0.667]);
    assert.deepEqual([...egoFeatures({ speed_mps: 10 }, true, { map: undefined }).values.slice(10)], [0, 0, 0], "no map context: known 0");
    const ego = (mods: Modality[]) => makeInputSpec(mods).inputs.find((i) => i.name === "ego")!.shape[0];
    assert.equal(ego(["ego", "gnss"]), 13);
    assert.equal(makeInputSpec(["ego", "gnss"], { ...DEFAULT_FEATURE_CONFIG, stopServed: true }).inputs.find((i) => i.name === "ego")!.shape[0], 17, "and the stop-line state (stop-line.ts, opt-in), which needs the map too");
    assert.equal(ego(["ego"]), 10, "ego alone does not learn from GNSS through ego");
  });

  it("ego without the manoeuvre features (models made before them): 8 values, the lane unknown as they were trained", () => {
    const e = egoFeatures({ speed_mps: 15, lane_index: 2, lane_change: 1 });
    assert.equal(e.values.length, 8);
    assert.equal(e.values[4], 0);
  });
});
