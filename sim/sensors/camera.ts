/**
 * The forward camera: a small perspective rendering of the road (asphalt, lane markings, stop lines,
 * crosswalks, tunnel portals), vehicles (with tail lights), pedestrians and signs, with its failure modes:
 * fog blends each pixel toward the fog colour by exp(-3 z / visibility) (z = the pixel's depth), so contrast
 * falls with distance; night darkens everything outside the headlights and adds sensor noise; rain adds
 * streaks and a light veil. The road is drawn as if straight ahead (curvature is not rendered).
 *
 * Output is RGBA (what jpeg-js encodes); `toRgb` strips alpha for foxglove.RawImage rgb8.
 */
import { inTunnel, weatherAt } from "../../domain/road-map.ts";
import type { Rng } from "../rng.ts";
import type { World } from "../world/types.ts";
import { JpegEncoder } from "./jpeg.ts";

export interface CameraConfig {
  width: number;
  height: number;
  /** Focal length, pixels. */
  focalPx: number;
  /** Horizon row. */
  horizonRow: number;
  /** Camera height above the road, m; mounted at the ego's front. */
  heightM: number;
  /** Farthest depth drawn, m. */
  farM: number;
  /**
   * Column of the optical axis (default width / 2). Off centre, the view is that of a camera turned to
   * that side (a shifted sensor): the side cameras of a multi-camera set.
   */
  centerCol?: number;
  /** Which way the camera looks along the road (default forward). A rear camera draws the road and vehicles behind. */
  facing?: "forward" | "backward";
}

export const DEFAULT_CAMERA: CameraConfig = { width: 64, height: 64, focalPx: 40, horizonRow: 26, heightM: 1.3, farM: 250 };

type Rgb = [number, number, number];
const ASPHALT: Rgb = [95, 95, 100];
const ASPHALT_TUNNEL: Rgb = [70, 70, 74];
const GRASS: Rgb = [70, 120, 55];
const WALL: Rgb = [120, 115, 110];
const PAINT: Rgb = [235, 235, 235];
const SKY: Record<string, Rgb> = { clear: [120, 170, 230], rain: [140, 145, 155], fog: [190, 190, 195], night: [10, 12, 25] };
const FOG_COLOUR: Rgb = [190, 190, 195];
const RAIN_VEIL: Rgb = [150, 155, 165];
const NOISE_TABLE = 8192;
const POST: Rgb = [110, 110, 110];
const SIGN_RING: Rgb = [210, 20, 20];
const REAR_WINDOW: Rgb = [35, 40, 50];
const TAIL: Rgb = [190, 20, 20];
const TAIL_LIT: Rgb = [255, 40, 30];
const SKIN: Rgb = [220, 180, 150];
const TROUSERS: Rgb = [40, 40, 90];
const OPENING: Rgb = [15, 15, 18];

/** A billboard: a coloured rectangle standing on the road at some depth. */
interface Sprite {
  z: number;
  /** Lateral offset relative to the camera, m (left positive). */
  x: number;
  widthM: number;
  /** Bottom and top above the road, m. */
  bottomM: number;
  topM: number;
  rgb: Rgb;
  kind: "vehicle" | "pedestrian" | "sign" | "stop_sign" | "portal";
}

export class CameraRenderer {
  readonly rgba: Uint8Array;
  private readonly depth: Float32Array;
  private readonly rowZ: Float64Array;
  private readonly colK: Float64Array;
  private readonly noise: Int8Array;

  constructor(readonly cfg: CameraConfig = DEFAULT_CAMERA, noiseRng?: Rng) {
    const { width, height } = cfg;
    this.rgba = new Uint8Array(width * height * 4);
    this.depth = new Float32Array(width * height);
    this.rowZ = new Float64Array(height);
    this.colK = new Float64Array(width);
    for (let y = 0; y < height; y++) this.rowZ[y] = y > cfg.horizonRow ? (cfg.heightM * cfg.focalPx) / (y - cfg.horizonRow) : Infinity;
    const cx = cfg.centerCol ?? width / 2;
    // Looking backward, the image's left is the vehicle's right: lateral offsets change sign.
    for (let x = 0; x < width; x++) this.colK[x] = cfg.facing === "backward" ? (x + 0.5 - cx) / cfg.focalPx : -(x + 0.5 - cx) / cfg.focalPx;
    // Gaussian sensor noise (σ = 1), drawn once; frames index it at a random offset.
    this.noise = new Int8Array(NOISE_TABLE);
    for (let i = 0; i < NOISE_TABLE; i++) this.noise[i] = Math.max(-127, Math.min(127, Math.round((noiseRng ? noiseRng.normal() : 0) * 16)));
  }

  /** Renders the world as seen from the ego into `this.rgba` (and per-pixel depth); returns the buffer. */
  render(w: World, rng: Rng): Uint8Array {
    const { width, height, horizonRow, focalPx, heightM, farM } = this.cfg;
    const e = w.ego;
    const map = w.map;
    const back = this.cfg.facing === "backward";
    const camS = back ? e.s - e.lengthM / 2 : e.s + e.lengthM / 2;
    const wx = weatherAt(map, camS);
    const night = wx.weather === "night";
    const egoInTunnel = inTunnel(map, camS);
    const roadW = map.laneCount * map.laneWidthM;
    const lw = map.laneWidthM;
    const img = this.rgba;
    const depth = this.depth;
    const sky: Rgb = egoInTunnel ? [40, 38, 36] : SKY[wx.weather]!;
    const lines = back ? [] : map.stopLines.filter((l) => l.stationM > camS && l.stationM < camS + farM);
    const walks = back ? [] : map.crosswalks.filter((c) => c.stationM + 3 > camS && c.stationM < camS + farM);
    const tunnels = back ? map.tunnels.filter((t) => t.startM < camS && t.endM > camS - farM) : map.tunnels.filter((t) => t.endM > camS && t.startM < camS + farM);

    const colK = this.colK;
    const laneCount = map.laneCount;
    // Background: sky (or tunnel ceiling) above the horizon, ground below. Everything that depends only on
    // the row (depth, marking widths, stop lines, crosswalks) is worked out once per row.
    for (let y = 0; y < height; y++) {
      const z = this.rowZ[y]!;
      const rowPx = y * width;
      if (y <= horizonRow) {
        const lamps = egoInTunnel && y > horizonRow - 8;
        for (let x = 0; x < width; x++) {
          const lamp = lamps && x % 16 === 8; // ceiling lamps
          const i = (rowPx + x) * 4;
          img[i] = lamp ? 230 : sky[0];
          img[i + 1] = lamp ? 200 : sky[1];
          img[i + 2] = lamp ? 140 : sky[2];
          img[i + 3] = 255;
          depth[rowPx + x] = Infinity;
        }
        continue;
      }
      const foot = z / focalPx; // metres per pixel across, at this depth
      const zFoot = (z * z) / (heightM * focalPx); // metres per pixel along the road
      const s = back ? camS - z : camS + z;
      let tunnelHere = false;
      for (const t of tunnels) if (s >= t.startM && s < t.endM) tunnelHere = true;
      const halfMark = Math.max(0.075, foot / 2);
      const markCover = Math.min(1, 0.15 / Math.max(foot, 0.15));
      const dashOn = ((s % 12) + 12) % 12 < 3;
      let linePaint = 0;
      for (const l of lines) if (Math.abs(s - l.stationM) < Math.max(0.25, zFoot / 2)) linePaint = Math.min(1, 0.5 / Math.max(zFoot, 0.5));
      let walkRow = false;
      for (const c of walks) if (Math.abs(s - c.stationM) < c.widthM / 2) walkRow = true;
      const walkPaint = Math.min(1, 0.6 / Math.max(foot, 0.6));
      const off = tunnelHere ? WALL : GRASS;
      const on = tunnelHere ? ASPHALT_TUNNEL : ASPHALT;
      for (let x = 0; x < width; x++) {
        const i = (rowPx + x) * 4;
        let r: number;
        let g: number;
        let b: number;
        const d = e.d + colK[x]! * z;
        if (d < -0.6 || d > roadW + 0.6) {
          r = off[0];
          g = off[1];
          b = off[2];
        } else {
          r = on[0];
          g = on[1];
          b = on[2];
          let paint = 0;
          // Lane markings: solid road edges, dashed lane boundaries (3 m of every 12 m).
          const k = Math.round(d / lw);
          const dist = Math.abs(d - k * lw);
          if (dist < halfMark && (k === 0 || k === laneCount || dashOn)) paint = markCover;
          if (linePaint > paint) paint = linePaint;
          if (walkRow && Math.floor(d / 0.6) % 2 === 0 && walkPaint > paint) paint = walkPaint;
          if (paint > 0) {
            r += (PAINT[0] - r) * paint;
            g += (PAINT[1] - g) * paint;
            b += (PAINT[2] - b) * paint;
          }
        }
        depth[rowPx + x] = z;
        img[i] = r;
        img[i + 1] = g;
        img[i + 2] = b;
        img[i + 3] = 255;
      }
    }

    // Sprites, far to near.
    const sprites: Sprite[] = [];
    if (back) {
      // Vehicles behind, seen from the front (no tail lights); signs face the other way and are not drawn.
      for (const v of w.vehicles) {
        const z = camS - (v.s + v.lengthM / 2);
        if (z < 0.5 || z > farM) continue;
        sprites.push({ z, x: e.d - v.d, widthM: v.widthM, bottomM: 0.25, topM: v.lengthM > 7 ? 3.2 : 1.5, rgb: v.rgb, kind: "vehicle" });
      }
    }
    for (const v of back ? [] : w.vehicles) {
      const z = v.s - v.lengthM / 2 - camS;
      if (z < 0.5 || z > farM) continue;
      sprites.push({ z, x: v.d - e.d, widthM: v.widthM, bottomM: 0.25, topM: v.lengthM > 7 ? 3.2 : 1.5, rgb: v.rgb, kind: "vehicle" });
    }
    for (const p of back ? [] : w.pedestrians) {
      const z = p.s - camS;
      if (p.state !== "crossing" || z < 0.5 || z > farM) continue;
      sprites.push({ z, x: p.d - e.d, widthM: 0.5, bottomM: 0, topM: 1.75, rgb: [200, 60, 160], kind: "pedestrian" });
    }
    for (const zone of back ? [] : map.speedLimits) {
      const z = zone.startM - camS;
      if (z > 0.5 && z < farM) sprites.push({ z, x: -1.2 - e.d, widthM: 0.75, bottomM: 1.6, topM: 2.35, rgb: [240, 240, 240], kind: "sign" });
    }
    for (const l of lines) sprites.push({ z: l.stationM - camS, x: -1.0 - e.d, widthM: 0.75, bottomM: 1.5, topM: 2.25, rgb: [200, 20, 20], kind: "stop_sign" });
    for (const t of back ? [] : tunnels) {
      const z = t.startM - camS;
      if (z > 0.5) sprites.push({ z, x: roadW / 2 - e.d, widthM: roadW + 6, bottomM: 0, topM: 9, rgb: WALL, kind: "portal" });
    }
    sprites.sort((a, b) => b.z - a.z);
    for (const sp of sprites) this.drawSprite(sp, night);

    // Weather and light.
    const fogVis = wx.weather === "fog" ? wx.visibilityM : wx.weather === "rain" ? wx.visibilityM : 0;
    const veil = wx.weather === "fog" ? FOG_COLOUR : RAIN_VEIL;
    const noisy = night || egoInTunnel;
    const gain = night ? 0.22 : egoInTunnel ? 0.75 : 1;
    let nIdx = rng.int(0, NOISE_TABLE - 1);
    const n = width * height;
    if (!night && gain === 1 && fogVis === 0 && !noisy && wx.weather !== "rain") {
      // Clear daylight: the colours stand as drawn; only light-source marks (alpha 254) are reset.
      for (let i = 3; i < img.length; i += 4) img[i] = 255;
      return img;
    }
    // Fog transmittance by depth: rows of road and whole sprites share a depth, so consecutive pixels reuse it.
    let lastZ = NaN;
    let lastT = 0;
    for (let p = 0; p < n; p++) {
      const i = p * 4;
      let r = img[i]!;
      let g = img[i + 1]!;
      let b = img[i + 2]!;
      const z = depth[p]!;
      if (night && img[i + 3] !== 254) {
        // Headlights light the road ahead of the ego; everything else sits at ambient level.
        const y = (p / width) | 0;
        const x = p - y * width;
        const lit = y > horizonRow && z < 45 && Math.abs(this.colK[x]! * z) < 5 ? 0.85 * (1 - z / 45) : 0;
        const k = gain + lit;
        r *= k;
        g *= k;
        b *= k;
      } else if (gain !== 1 && img[i + 3] !== 254) {
        r *= gain;
        g *= gain;
        b *= gain;
      }
      if (fogVis > 0) {
        if (z !== lastZ) {
          lastZ = z;
          lastT = z === Infinity ? 0 : Math.exp((-3 * z) / fogVis);
        }
        const t = lastT;
        r = veil[0] + (r - veil[0]) * t;
        g = veil[1] + (g - veil[1]) * t;
        b = veil[2] + (b - veil[2]) * t;
        if (night) {
          r *= z === Infinity ? gain : 1;
          g *= z === Infinity ? gain : 1;
          b *= z === Infinity ? gain : 1;
        }
      }
      if (noisy) {
        const amp = night ? 0.8 : 0.35;
        r += this.noise[nIdx]! * amp;
        g += this.noise[(nIdx + 1) & (NOISE_TABLE - 1)]! * amp;
        b += this.noise[(nIdx + 2) & (NOISE_TABLE - 1)]! * amp;
        nIdx = (nIdx + 3) & (NOISE_TABLE - 1);
      }
      img[i] = r < 0 ? 0 : r > 255 ? 255 : r;
      img[i + 1] = g < 0 ? 0 : g > 255 ? 255 : g;
      img[i + 2] = b < 0 ? 0 : b > 255 ? 255 : b;
      img[i + 3] = 255;
    }
    if (wx.weather === "rain") this.rainStreaks(rng);
    return img;
  }

  private drawSprite(sp: Sprite, night: boolean): void {
    const { width, height, horizonRow, focalPx, heightM } = this.cfg;
    const f = focalPx / sp.z;
    const cx = (this.cfg.centerCol ?? width / 2) - sp.x * f;
    const x0 = Math.round(cx - (sp.widthM / 2) * f);
    const x1 = Math.max(x0 + 1, Math.round(cx + (sp.widthM / 2) * f));
    const y1 = Math.round(horizonRow + (heightM - sp.bottomM) * f);
    const y0 = Math.min(y1 - 1, Math.round(horizonRow + (heightM - sp.topM) * f));
    const img = this.rgba;
    const pole = sp.kind === "sign" || sp.kind === "stop_sign";
    for (let y = Math.max(0, y0); y < Math.min(height, pole ? Math.round(horizonRow + heightM * f) : y1); y++) {
      for (let x = Math.max(0, x0); x < Math.min(width, x1); x++) {
        const p = y * width + x;
        const i = p * 4;
        let c: Rgb = sp.rgb;
        let emissive = false;
        const u = (x - x0) / Math.max(1, x1 - x0);
        const v = (y - y0) / Math.max(1, y1 - y0);
        if (pole && y >= y1) {
          if (Math.abs(x - (x0 + x1) / 2) > Math.max(0.5, 0.04 * f)) continue; // the post
          c = POST;
        } else if (sp.kind === "sign") {
          if (u < 0.2 || u > 0.8 || v < 0.2 || v > 0.8) c = SIGN_RING;
        } else if (sp.kind === "vehicle") {
          if (v < 0.35 && u > 0.12 && u < 0.88) c = REAR_WINDOW;
          else if (v > 0.55 && v < 0.75 && (u < 0.2 || u > 0.8)) {
            c = night ? TAIL_LIT : TAIL;
            emissive = night;
          }
        } else if (sp.kind === "pedestrian") {
          if (v < 0.15) c = SKIN;
          else if (v > 0.55) c = TROUSERS;
        } else if (sp.kind === "portal") {
          const inner = sp.widthM > 0 ? 3 / sp.widthM : 0;
          if (u > inner && u < 1 - inner && v > 0.35) c = OPENING;
        }
        const r = c[0];
        const g = c[1];
        const b = c[2];
        img[i] = r;
        img[i + 1] = g;
        img[i + 2] = b;
        // Alpha 254 marks light sources, which night and tunnel gain do not darken.
        img[i + 3] = emissive ? 254 : 255;
        this.depth[p] = sp.z;
      }
    }
  }

  private rainStreaks(rng: Rng): void {
    const { width, height } = this.cfg;
    const img = this.rgba;
    const count = 14 + rng.int(0, 10);
    for (let k = 0; k < count; k++) {
      let x = rng.int(0, width - 1);
      let y = rng.int(0, height - 1);
      const len = rng.int(3, 7);
      for (let j = 0; j < len && y < height && x >= 0; j++, y++, x -= j & 1) {
        const i = (y * width + x) * 4;
        img[i] = Math.min(255, img[i]! + 45);
        img[i + 1] = Math.min(255, img[i + 1]! + 45);
        img[i + 2] = Math.min(255, img[i + 2]! + 50);
      }
    }
  }

  /** Per-pixel depth of the last frame, m (Infinity: sky). For tests and training masks. */
  get depthMap(): Float32Array {
    return this.depth;
  }
}

/** RGBA → rgb8 rows (foxglove.RawImage). */
export function toRgb(rgba: Uint8Array): Uint8Array {
  const out = new Uint8Array((rgba.length / 4) * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    out[j] = rgba[i]!;
    out[j + 1] = rgba[i + 1]!;
    out[j + 2] = rgba[i + 2]!;
  }
  return out;
}

const encoders = new Map<number, JpegEncoder>();

/**
 * JPEG-encodes an RGBA frame: jpeg-js's output byte for byte (deterministic), from our faster port of its
 * encoder (sim/sensors/jpeg.ts, which says why), one encoder kept per quality.
 */
export function encodeJpeg(rgba: Uint8Array, width: number, height: number, quality = 85): Uint8Array {
  let enc = encoders.get(quality);
  if (!enc) encoders.set(quality, (enc = new JpegEncoder(quality)));
  return enc.encode(rgba, width, height);
}
