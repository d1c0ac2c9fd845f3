/**
 * GNSS receiver: WGS84 fixes with white noise and a slowly wandering bias, multipath jumps (metres to tens of
 * metres, for seconds, with the reported covariance unchanged: the receiver does not know), no fix inside
 * tunnels and for a reacquisition time after leaving one.
 *
 * No-fix convention (docs/simulator.md): latitude, longitude and altitude are NaN, position_covariance is nine
 * zeros, position_covariance_type is UNKNOWN, and metadata has `fix` = `none`. A fix has `fix` = `3d`.
 */
import { headingAt, inTunnel, toLocal, localToGeo } from "../../domain/road-map.ts";
import type { Rng } from "../rng.ts";
import type { World } from "../world/types.ts";

export interface GnssFix {
  latitude: number;
  longitude: number;
  altitude: number;
  position_covariance: number[];
  position_covariance_type: "UNKNOWN" | "DIAGONAL_KNOWN";
  heading?: number;
  metadata: { key: string; value: string }[];
}

export const GNSS_SIGMA_M = 1.2;

export class GnssModel {
  private biasE = 0;
  private biasN = 0;
  private jumpE = 0;
  private jumpN = 0;
  private jumpLeftS = 0;
  private outageLeftS = 0;
  private wasInTunnel = false;
  private sinceTunnelS = Infinity;

  constructor(private readonly rng: Rng, private readonly periodS = 0.1) {}

  /** One fix for the world's current state. */
  sample(w: World): GnssFix {
    const rng = this.rng;
    const e = w.ego;
    const tunnel = inTunnel(w.map, e.s);
    if (this.wasInTunnel && !tunnel) {
      this.outageLeftS = rng.uniform(1, 3); // reacquisition
      this.sinceTunnelS = 0;
    }
    this.wasInTunnel = tunnel;
    this.sinceTunnelS += this.periodS;
    // Bias: first-order Gauss–Markov, 30 s correlation time.
    const a = Math.exp(-this.periodS / 30);
    const q = 1.0 * Math.sqrt(1 - a * a);
    this.biasE = a * this.biasE + rng.normal(0, q);
    this.biasN = a * this.biasN + rng.normal(0, q);
    if (tunnel || this.outageLeftS > 0) {
      this.outageLeftS -= this.periodS;
      return {
        latitude: NaN,
        longitude: NaN,
        altitude: NaN,
        position_covariance: [0, 0, 0, 0, 0, 0, 0, 0, 0],
        position_covariance_type: "UNKNOWN",
        metadata: [{ key: "fix", value: "none" }],
      };
    }
    if (this.jumpLeftS > 0) this.jumpLeftS -= this.periodS;
    else {
      this.jumpE = this.jumpN = 0;
      // Multipath: more likely just after a tunnel (walls, portals) — once per ~30 s in the open.
      const p = this.sinceTunnelS < 10 ? 0.03 : 0.0035;
      if (rng.chance(p)) {
        const mag = rng.uniform(5, 25);
        const dir = rng.uniform(0, 2 * Math.PI);
        this.jumpE = mag * Math.cos(dir);
        this.jumpN = mag * Math.sin(dir);
        this.jumpLeftS = rng.uniform(1, 6);
      }
    }
    const p = toLocal(w.map, e.s, e.d);
    const geo = localToGeo(w.map.origin, {
      east: p.east + this.biasE + this.jumpE + rng.normal(0, GNSS_SIGMA_M * 0.6),
      north: p.north + this.biasN + this.jumpN + rng.normal(0, GNSS_SIGMA_M * 0.6),
    }, w.map.origin.altitude + rng.normal(0, 2.5));
    const h2 = GNSS_SIGMA_M * GNSS_SIGMA_M;
    const fix: GnssFix = {
      latitude: geo.latitude,
      longitude: geo.longitude,
      altitude: geo.altitude,
      position_covariance: [h2, 0, 0, 0, h2, 0, 0, 0, 6.25],
      position_covariance_type: "DIAGONAL_KNOWN",
      metadata: [{ key: "fix", value: "3d" }, { key: "satellites", value: String(rng.int(7, 14)) }],
    };
    if (e.v > 2) {
      // Heading: clockwise from north (foxglove convention); the route heading is counter-clockwise from east.
      const h = Math.PI / 2 - (headingAt(w.map, e.s) + e.heading) + rng.normal(0, 0.02);
      fix.heading = ((h % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI);
    }
    return fix;
  }
}
