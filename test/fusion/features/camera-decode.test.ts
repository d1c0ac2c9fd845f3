import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { PNG } from "pngjs";
import { cameraPixels, DEFAULT_CAMERA_LIMITS, shrinkFactor, toRgbImage } from "../../../fusion/features/camera-decode.ts";
import { cameraFeatures, resizeArea, toPatches } from "../../../fusion/features/camera.ts";
import { DEFAULT_FEATURE_CONFIG } from "../../../fusion/features/config.ts";
import { readJpegHeader } from "../../../fusion/features/image-header.ts";
import { decodeJpegRgb, decodeJpegRgbScaled } from "../../../fusion/features/jpeg-decode.ts";
import { Rng } from "../../../sim/rng.ts";
import { JpegEncoder } from "../../../sim/sensors/jpeg.ts";

const FIXTURES = new URL("../../fixtures/jpeg/", import.meta.url);
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, FIXTURES)));
const CFG = DEFAULT_FEATURE_CONFIG;
const SIZE = CFG.camera.size;

/** A 4:4:4 frame from our deterministic encoder (sim/sensors/jpeg.ts): smooth bands, edges and noise. */
function syntheticJpeg(width: number, height: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const band = y < height * 0.4 ? 0 : (x + y) % 97 < 40 ? 1 : 2;
      const n = rng.int(0, 12);
      rgba[i] = band === 0 ? 120 + n : band === 1 ? 95 + n : 200 + (x & 31);
      rgba[i + 1] = band === 0 ? 170 + n : band === 1 ? 95 + n : 60 + n;
      rgba[i + 2] = band === 0 ? 230 - n : band === 1 ? 100 + n : (x * y) & 255;
      rgba[i + 3] = 255;
    }
  }
  return new JpegEncoder(85).encode(rgba, width, height).slice();
}

const sha = (a: ArrayBufferView): string => createHash("sha256").update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest("hex").slice(0, 16);
const jpegMsg = (data: Uint8Array) => ({ format: "jpeg", data });

/** Full decode, averaged over s×s squares: what a reduced decode approximates. */
function meanAbsToBoxedFull(file: Uint8Array, s: 2 | 4 | 8): number {
  const full = decodeJpegRgb(file)!;
  const r = decodeJpegRgbScaled(file, s)!;
  assert.equal(r.width, Math.ceil(full.width / s));
  assert.equal(r.height, Math.ceil(full.height / s));
  let sum = 0;
  let n = 0;
  for (let y = 0; y < Math.floor(full.height / s); y++) {
    for (let x = 0; x < Math.floor(full.width / s); x++) {
      for (let c = 0; c < 3; c++) {
        let a = 0;
        for (let dy = 0; dy < s; dy++) for (let dx = 0; dx < s; dx++) a += full.data[((y * s + dy) * full.width + x * s + dx) * 3 + c]!;
        sum += Math.abs(a / (s * s) - r.data[(y * r.width + x) * 3 + c]!);
        n++;
      }
    }
  }
  return sum / n;
}

/** Rewrites a JPEG's SOF: marker byte and/or size, keeping everything else. */
function withSof(file: Uint8Array, edit: { marker?: number; width?: number; height?: number }): Uint8Array {
  const out = file.slice();
  for (let p = 2; p + 4 < out.length; ) {
    const m = out[p + 1]!;
    const len = (out[p + 2]! << 8) | out[p + 3]!;
    if (m === 0xc0 || m === 0xc1) {
      if (edit.marker !== undefined) out[p + 1] = edit.marker;
      if (edit.height !== undefined) [out[p + 5], out[p + 6]] = [edit.height >> 8, edit.height & 255];
      if (edit.width !== undefined) [out[p + 7], out[p + 8]] = [edit.width >> 8, edit.width & 255];
      return out;
    }
    p += 2 + len;
  }
  throw new Error("no SOF0/SOF1");
}

describe("fusion/features/camera-decode: shrink-on-load and bad input", function () {
  this.timeout(60_000);
  const big = syntheticJpeg(1920, 1080, 1);
  const hd420 = fixture("camera-1280x720-420.jpg");

  it("shrinks by the largest power of two that leaves at least twice the model input on each side", () => {
    assert.equal(shrinkFactor(64, 64, 32), 1, "the simulator's 64×64 frames stay on the full-size path");
    assert.equal(shrinkFactor(126, 126, 32), 1);
    assert.equal(shrinkFactor(127, 127, 32), 2);
    assert.equal(shrinkFactor(128, 128, 32), 2);
    assert.equal(shrinkFactor(320, 240, 32), 2);
    assert.equal(shrinkFactor(640, 480, 32), 4);
    assert.equal(shrinkFactor(1280, 720, 32), 8);
    assert.equal(shrinkFactor(1920, 1080, 32), 8);
    assert.equal(shrinkFactor(1920, 1080, 96), 4);
  });

  it("a reduced decode is the full decode averaged over s×s squares, within rounding (4:4:4) and chroma detail (4:2:0)", () => {
    for (const s of [2, 4, 8] as const) {
      const e444 = meanAbsToBoxedFull(big, s);
      assert.ok(e444 < 1, `4:4:4 1/${s}: mean |error| ${e444.toFixed(2)}`);
      const e420 = meanAbsToBoxedFull(hd420, s);
      assert.ok(e420 < 1.5, `4:2:0 1/${s}: mean |error| ${e420.toFixed(2)}`);
    }
    // Greyscale and odd sizes (the cjpeg fixtures: 37×29, edge MCUs cut).
    for (const name of ["grey.jpg", "grey-restart3b.jpg", "sof1-dqt16.jpg"]) {
      for (const s of [2, 4, 8] as const) assert.ok(meanAbsToBoxedFull(fixture(name), s) < 2, `${name} 1/${s}`);
    }
  });

  it("features of a large frame from the reduced decode match those of a full decode to within a few grey levels", () => {
    for (const file of [big, hd420]) {
      const fast = cameraFeatures(jpegMsg(file), CFG);
      assert.ok(fast.present);
      const full = toPatches(resizeArea(decodeJpegRgb(file)!, SIZE), SIZE, CFG.camera.patch);
      let max = 0;
      fast.patches.forEach((v, i) => (max = Math.max(max, Math.abs(v - full[i]!))));
      // Patches are (v/255 − 0.5)/0.25: 0.1 is 6.4 grey levels.
      assert.ok(max < 0.1, `max patch difference ${max}`);
    }
  });

  // PRINT_PINS=1 prints the hashes (after a change meant to alter features: bump FEATURES_VERSION too).
  it("pins the features of fixture frames (golden: the same bytes give these features on every machine)", () => {
    const pins: [string, Uint8Array, string, string][] = [
      ["1280×720 4:2:0 (libjpeg-turbo)", hd420, "118f6856e352c4d4", "e8cedd82dc83be32"],
      ["1920×1080 4:4:4 (sim encoder)", big, "11a6f13f89e607c2", "6df2eb9cd0daee29"],
      ["37×29 4:2:0 (cjpeg)", fixture("s420.jpg"), "59e5b52d862c34cd", "be8dd44ef528317e"],
      ["37×29 grey (cjpeg)", fixture("grey.jpg"), "51e67545d212d778", "f1e136bb2eb818be"],
    ];
    const got = pins.map(([label, file]) => [label, sha(file), sha(cameraFeatures(jpegMsg(file), CFG).patches)]);
    if (process.env["PRINT_PINS"]) console.log(JSON.stringify(got));
    for (const [i, [label, , inHash, outHash]] of pins.entries()) {
      assert.equal(got[i]![1], inHash, `${label}: input bytes changed`);
      assert.equal(got[i]![2], outHash, `${label}: features changed`);
    }
  });

  it("raw frames are resized in place (no RGB copy) to exactly the features of their RGB conversion", () => {
    const w = 1280;
    const h = 720;
    const rng = new Rng(4);
    const bgr = new Uint8Array(w * h * 3).map(() => rng.int(0, 255));
    const px = cameraPixels({ encoding: "bgr8", width: w, height: h, step: w * 3, data: bgr }, SIZE);
    assert.ok(px.ok);
    assert.equal(px.pixels.data, bgr, "the message's bytes, not a copy");
    assert.deepEqual(resizeArea(px.pixels, SIZE), resizeArea(toRgbImage(px.pixels), SIZE));
  });

  describe("bad input: a typed rejection with a reason, never a throw", () => {
    it("truncated JPEG", () => {
      for (const file of [big.subarray(0, big.length >> 1), hd420.subarray(0, 20_000)]) {
        const f = cameraFeatures(jpegMsg(file), CFG);
        assert.equal(f.present, false);
        assert.equal(f.rejection?.code, "truncated", f.problem);
      }
      assert.equal(cameraFeatures(jpegMsg(big.subarray(0, 100)), CFG).rejection?.code, "truncated", "cut inside the headers");
    });

    it("corrupt JPEG: a marker inside the scan, garbage instead of a JPEG", () => {
      const file = hd420.slice();
      file.set([0xff, 0xd9], file.length >> 1);
      const f = cameraFeatures(jpegMsg(file), CFG);
      assert.equal(f.rejection?.code, "corrupt", f.problem);
      assert.equal(cameraFeatures(jpegMsg(new Uint8Array([1, 2, 3, 4, 5])), CFG).rejection?.code, "corrupt");
    });

    it("any damage to a frame gives features or a typed rejection (fuzz)", () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 8 }), fc.nat(), (edits, cut) => {
          const file = hd420.slice(0, hd420.length - (cut % 2000));
          for (const [at, v] of edits) file[at % file.length] = v;
          const f = cameraFeatures(jpegMsg(file), CFG);
          assert.ok(f.present || (f.rejection && f.problem), "present, or rejected with a reason");
          assert.ok(f.patches.every(Number.isFinite));
        }),
        { numRuns: 60, seed: 16 },
      );
    });

    it("a 50-megapixel JPEG is rejected from its header, before any decoding", () => {
      const file = withSof(hd420, { width: 8660, height: 5774 });
      assert.equal(readJpegHeader(file).ok, true);
      const t0 = performance.now();
      const f = cameraFeatures(jpegMsg(file), CFG);
      assert.equal(f.rejection?.code, "too_large", f.problem);
      assert.match(f.problem!, /50\.0 Mpx.*16\.8 Mpx budget/);
      assert.ok(performance.now() - t0 < 50, "no decoding was attempted");
    });

    it("a JPEG too elongated to reduce is decoded at full size only up to its budget", () => {
      const file = withSof(hd420, { width: 60000, height: 100 });
      const f = cameraFeatures(jpegMsg(file), CFG);
      assert.equal(f.rejection?.code, "too_large", f.problem);
      assert.match(f.problem!, /cannot be reduced/);
    });

    it("a raw frame whose data is not step × height bytes, or is over the budget", () => {
      const w = 640;
      const h = 480;
      for (const data of [new Uint8Array(w * h * 3 - 1), new Uint8Array(w * h * 3 + 7), new Uint8Array(w * h)]) {
        const f = cameraFeatures({ encoding: "rgb8", width: w, height: h, step: w * 3, data }, CFG);
        assert.equal(f.rejection?.code, "bad_raw_size", f.problem);
      }
      assert.equal(cameraFeatures({ encoding: "rgb8", width: w, height: h, step: w * 2, data: new Uint8Array(w * h * 2) }, CFG).rejection?.code, "bad_raw_size", "step shorter than a row");
      assert.equal(cameraFeatures({ encoding: "yuv422", width: 2, height: 2, step: 4, data: new Uint8Array(8) }, CFG).rejection?.code, "unsupported_encoding");
      const huge = cameraFeatures({ encoding: "mono8", width: 10_000, height: 5_000, step: 10_000, data: new Uint8Array(16) }, CFG);
      assert.equal(huge.rejection?.code, "too_large", huge.problem);
    });

    it("a progressive JPEG: small ones through jpeg-js as before, large ones rejected with what to send instead", () => {
      assert.equal(cameraFeatures(jpegMsg(fixture("progressive.jpg")), CFG).present, true);
      const f = cameraFeatures(jpegMsg(withSof(hd420, { marker: 0xc2 })), CFG);
      assert.equal(f.rejection?.code, "unsupported_jpeg", f.problem);
      assert.match(f.problem!, /progressive JPEG.*1280×720.*baseline/);
      assert.equal(cameraFeatures(jpegMsg(withSof(hd420, { marker: 0xc9 })), CFG).rejection?.code, "unsupported_jpeg");
    });

    it("a PNG: small ones decoded, large ones rejected from the header", () => {
      const small = new PNG({ width: 40, height: 30 });
      small.data.fill(200);
      assert.equal(cameraFeatures({ format: "png", data: new Uint8Array(PNG.sync.write(small)) }, CFG).present, true);
      const head = new Uint8Array(PNG.sync.write(small));
      new DataView(head.buffer, head.byteOffset).setUint32(16, 1920);
      new DataView(head.buffer, head.byteOffset).setUint32(20, 1080);
      const f = cameraFeatures({ format: "png", data: head }, CFG);
      assert.equal(f.rejection?.code, "too_large", f.problem);
      assert.match(f.problem!, /send JPEG or a RawImage/);
      assert.equal(cameraFeatures({ format: "png", data: new Uint8Array([0x89, 1, 2]) }, CFG).rejection?.code, "corrupt");
    });

    it("an unknown format and an empty frame", () => {
      assert.equal(cameraFeatures({ format: "gif", data: new Uint8Array([1]) }, CFG).rejection?.code, "unsupported_format");
      assert.equal(cameraFeatures({ format: "jpeg", data: new Uint8Array() }, CFG).rejection?.code, "no_data");
    });

    it("limits are the caller's to set", () => {
      const f = cameraFeatures(jpegMsg(hd420), CFG, { ...DEFAULT_CAMERA_LIMITS, maxPixels: 1280 * 720 - 1 });
      assert.equal(f.rejection?.code, "too_large");
    });
  });
});
