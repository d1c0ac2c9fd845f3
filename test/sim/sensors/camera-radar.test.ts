import assert from "node:assert/strict";
import type { MapWeather } from "../../../domain/road-map.ts";
import { Rng } from "../../../sim/rng.ts";
import { CameraRenderer } from "../../../sim/sensors/camera.ts";
import { radarSweep } from "../../../sim/sensors/radar.ts";
import { newVehicle } from "../../../sim/world/traffic.ts";
import type { World } from "../../../sim/world/types.ts";
import { createWorld } from "../../../sim/world/world.ts";

function setWeather(w: World, weather: MapWeather, visibilityM = 40): void {
  w.map.weather = [{ startM: -1e6, endM: 1e9, weather, visibilityM: weather === "fog" ? visibilityM : 10_000 }];
}

/** An empty road with one stopped car `dist` metres ahead of the camera, in the ego's lane. */
function scene(dist: number | undefined, weather: MapWeather): World {
  const w = createWorld({ name: "cam", seed: 5, durationS: 30, laneCount: 3, weather: ["clear"], events: [], density: 0 });
  w.vehicles = [];
  w.pedestrians = [];
  setWeather(w, weather);
  if (dist !== undefined) {
    const v = newVehicle(w, 0, w.ego.lane, 0, true);
    v.s = w.ego.s + w.ego.lengthM / 2 + dist + v.lengthM / 2;
    v.rgb = [30, 60, 180];
    w.vehicles.push(v);
  }
  return w;
}

/** Mean luminance change the car causes over its own pixels (with vs without it). */
function contrast(dist: number, weather: MapWeather): number {
  const cam = new CameraRenderer(undefined, new Rng(1));
  const withCar = new Uint8Array(cam.render(scene(dist, weather), new Rng(9)));
  const depth = new Float32Array(cam.depthMap);
  const without = new Uint8Array(cam.render(scene(undefined, weather), new Rng(9)));
  let sum = 0;
  let n = 0;
  for (let p = 0; p < depth.length; p++) {
    if (Math.abs(depth[p]! - dist) > 0.01) continue;
    const l = (buf: Uint8Array): number => 0.299 * buf[4 * p]! + 0.587 * buf[4 * p + 1]! + 0.114 * buf[4 * p + 2]!;
    sum += Math.abs(l(withCar) - l(without));
    n++;
  }
  assert.ok(n > 0, `car at ${dist} m must cover some pixels`);
  return sum / n;
}

describe("sim sensors: camera and radar", () => {
  it("fog lowers camera contrast with distance; clear weather does not", () => {
    const clearNear = contrast(8, "clear");
    const clearFar = contrast(40, "clear");
    const fogNear = contrast(8, "fog");
    const fogFar = contrast(40, "fog");
    assert.ok(clearFar / clearNear > 0.7, `clear: ${clearNear.toFixed(1)} → ${clearFar.toFixed(1)}`);
    assert.ok(fogNear < clearNear, "fog lowers contrast even near");
    assert.ok(fogFar / fogNear < 0.2, `fog: ${fogNear.toFixed(1)} → ${fogFar.toFixed(1)}`);
    assert.ok(fogFar < 0.15 * clearFar);
  });

  it("night darkens the image and adds noise", () => {
    const cam = new CameraRenderer(undefined, new Rng(1));
    const mean = (buf: Uint8Array): number => buf.reduce((a, v, i) => (i % 4 === 3 ? a : a + v), 0) / ((buf.length * 3) / 4);
    const day = mean(new Uint8Array(cam.render(scene(20, "clear"), new Rng(2))));
    const a = new Uint8Array(cam.render(scene(20, "night"), new Rng(2)));
    const b = new Uint8Array(cam.render(scene(20, "night"), new Rng(3)));
    assert.ok(mean(a) < 0.5 * day);
    assert.ok(a.some((v, i) => v !== b[i]), "sensor noise differs frame to frame");
  });

  it("radar recall is the same in fog as in clear weather", () => {
    const w = createWorld({ name: "radar", seed: 8, durationS: 30, laneCount: 3, weather: ["clear"], events: [], density: 25 });
    const recall = (weather: MapWeather): number => {
      setWeather(w, weather);
      const rng = new Rng(77);
      let seen = 0;
      let found = 0;
      for (let i = 0; i < 300; i++) {
        const s = radarSweep(w, rng);
        seen += s.visibleIds.length;
        found += s.detectedIds.length;
      }
      assert.ok(seen > 300);
      return found / seen;
    };
    const clear = recall("clear");
    const fog = recall("fog");
    assert.ok(clear > 0.6);
    assert.equal(fog, clear);
  });
});
