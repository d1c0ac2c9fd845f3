import assert from "node:assert/strict";
import fc from "fast-check";
import jpeg from "jpeg-js";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Rng } from "../../../sim/rng.ts";
import { CameraRenderer } from "../../../sim/sensors/camera.ts";
import { JpegEncoder } from "../../../sim/sensors/jpeg.ts";
import { createWorld } from "../../../sim/world/world.ts";

type RefEncoder = { encode(image: { data: Uint8Array; width: number; height: number }, quality: number): Uint8Array };
let RefCtor: (new (quality: number) => RefEncoder) | undefined;
const refs = new Map<number, RefEncoder>();

/**
 * jpeg-js's own encoder: the reference our fast one must reproduce byte for byte. jpeg.encode() builds a new
 * encoder per call (tens of ms of table setup) and the module does not export the class, so the test
 * evaluates the module once to keep one encoder per quality.
 */
function reference(rgba: Uint8Array, width: number, height: number, quality: number): Uint8Array {
  if (!RefCtor) {
    const path = createRequire(import.meta.url).resolve("jpeg-js/lib/encoder.js");
    RefCtor = new Function("module", "Buffer", `${readFileSync(path, "utf8")}\n;return JPEGEncoder;`)({ exports: {} }, Buffer) as typeof RefCtor;
  }
  let enc = refs.get(quality);
  if (!enc) refs.set(quality, (enc = new RefCtor!(quality)));
  return new Uint8Array(enc.encode({ data: rgba, width, height }, quality));
}

describe("sim/sensors/jpeg", function () {
  this.timeout(60_000);
  it("gives jpeg-js's bytes for any image size and quality (edge blocks, 0xFF stuffing, the final fill)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.constantFrom(1, 10, 49, 50, 75, 85, 100), fc.integer(), fc.constantFrom("noise", "smooth", "flat"), (w, h, q, seed, kind) => {
        const rng = new Rng(seed);
        const rgba = new Uint8Array(w * h * 4);
        // Noise exercises long codes and stuffing; smooth gradients long zero runs and EOBs; flat patches
        // (constant 8×8 blocks and beyond) the uniform-block shortcut.
        const patch = [rng.int(0, 255), rng.int(0, 255), rng.int(0, 255)];
        for (let i = 0; i < rgba.length; i++) {
          const px = i >> 2;
          const x = px % w;
          const y = Math.floor(px / w);
          rgba[i] = kind === "noise" ? rng.int(0, 255) : kind === "smooth" ? x * 6 + rng.int(0, 3) : y < 12 ? ((i & 3) === 3 ? 255 : patch[i & 3]!) : ((x >> 3) * 40 + (y >> 3) * 25) & 0xff;
        }
        assert.deepEqual(new JpegEncoder(q).encode(rgba, w, h), reference(rgba, w, h, q));
      }),
      { numRuns: 150 },
    );
    // The one check through the public jpeg-js API too.
    const rgba = new Uint8Array(24 * 16 * 4).map((_, i) => (i * 37) & 0xff);
    assert.deepEqual(new JpegEncoder(85).encode(rgba, 24, 16), new Uint8Array(jpeg.encode({ data: rgba, width: 24, height: 16 }, 85).data));
  });

  it("gives jpeg-js's bytes for camera frames in every weather, and can be reused", () => {
    const enc = new JpegEncoder(85);
    for (const weather of ["clear", "rain", "fog", "night"] as const) {
      const w = createWorld({ name: "jpeg", seed: 8, durationS: 30, weather: [weather], events: ["tunnel"] });
      const cam = new CameraRenderer(undefined, new Rng(2));
      const rgba = cam.render(w, new Rng(3));
      const ours = enc.encode(rgba, 64, 64);
      assert.deepEqual(ours, reference(rgba, 64, 64, 85), weather);
      const decoded = jpeg.decode(ours, { useTArray: true });
      assert.equal(decoded.width, 64);
    }
  });
});
