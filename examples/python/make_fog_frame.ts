/**
 * Makes fog_stopped_vehicle.jpg, the fixed camera frame scripted_scenario.py publishes: fusiond's own camera
 * model (64×64, fog with 30 m visibility) looking at a stopped vehicle 60 m ahead in the ego's lane — the
 * camera is nearly blind there, which is the point of the scenario (radar still sees the vehicle).
 *   npx tsx examples/python/make_fog_frame.ts
 */
import { writeFileSync } from "node:fs";
import { Rng } from "../../sim/rng.ts";
import { CameraRenderer, encodeJpeg } from "../../sim/sensors/camera.ts";
import { newVehicle } from "../../sim/world/traffic.ts";
import { createWorld } from "../../sim/world/world.ts";

const w = createWorld({ name: "fog-frame", seed: 5, durationS: 60, laneCount: 2, weather: ["fog"], events: [], density: 0.001 });
w.map.weather = w.map.weather.map((s) => ({ ...s, visibilityM: 30 }));
w.vehicles = [newVehicle(w, w.ego.s + 60, w.ego.lane, 0, true)];
const cam = new CameraRenderer();
const rgba = cam.render(w, new Rng(1));
const jpeg = encodeJpeg(rgba, cam.cfg.width, cam.cfg.height, 75);
writeFileSync(new URL("./fog_stopped_vehicle.jpg", import.meta.url), jpeg);
console.log(`fog_stopped_vehicle.jpg: ${jpeg.length} bytes`);
