import assert from "node:assert/strict";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { cameraFeatures, decodeCameraMessage, resizeArea, toPatches } from "../../../fusion/features/camera.ts";
import { DEFAULT_FEATURE_CONFIG } from "../../../fusion/features/config.ts";

const W = 64;
const H = 48;
/** Left half red, right half blue. */
function rgb(): Uint8Array {
  const d = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) d.set(x < W / 2 ? [220, 20, 20] : [20, 20, 220], (y * W + x) * 3);
  return d;
}
function rgba(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(W * H * 4);
  for (let i = 0; i < W * H; i++) out.set([src[i * 3]!, src[i * 3 + 1]!, src[i * 3 + 2]!, 255], i * 4);
  return out;
}

describe("fusion/features/camera", () => {
  const raw = { encoding: "rgb8", width: W, height: H, step: W * 3, data: rgb() };
  const jpg = { format: "jpeg", data: new Uint8Array(jpeg.encode({ width: W, height: H, data: Buffer.from(rgba(rgb())) }, 95).data) };
  const png = new PNG({ width: W, height: H });
  Buffer.from(rgba(rgb())).copy(png.data);
  const pngMsg = { format: "png", data: new Uint8Array(PNG.sync.write(png)) };

  it("decodes raw, JPEG and PNG of the same picture to nearly the same patches", () => {
    const a = cameraFeatures(raw, DEFAULT_FEATURE_CONFIG);
    const b = cameraFeatures(jpg, DEFAULT_FEATURE_CONFIG);
    const c = cameraFeatures(pngMsg, DEFAULT_FEATURE_CONFIG);
    assert.ok(a.present && b.present && c.present);
    assert.deepEqual(Array.from(c.patches), Array.from(a.patches)); // PNG is lossless
    let maxDiff = 0;
    a.patches.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - b.patches[i]!))));
    assert.ok(maxDiff < 0.4, `jpeg vs raw max diff ${maxDiff}`);
  });

  it("gives a frame whose sides are whole multiples of the input the patches of resizeArea then toPatches, to the bit", () => {
    const { size, patch } = DEFAULT_FEATURE_CONFIG.camera;
    let seed = 7;
    const noise = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff);
    const cases = [
      { encoding: "rgb8", width: 2 * size, height: 2 * size, step: 6 * size, data: noise(12 * size * size) },
      { encoding: "bgra8", width: 3 * size, height: size, step: 12 * size, data: noise(12 * size * size) },
      { encoding: "mono8", width: size, height: 4 * size, step: size, data: noise(4 * size * size) },
      { format: "jpeg", data: new Uint8Array(jpeg.encode({ width: 2 * size, height: 2 * size, data: Buffer.from(noise(16 * size * size)) }, 90).data) },
    ];
    for (const msg of cases) {
      const decoded = decodeCameraMessage(msg);
      assert.ok(decoded.ok);
      const expected = toPatches(resizeArea(decoded.image, size), size, patch);
      const got = cameraFeatures(msg, DEFAULT_FEATURE_CONFIG);
      assert.ok(got.present);
      assert.deepEqual(Array.from(got.patches), Array.from(expected), "encoding" in msg ? msg.encoding : msg.format);
    }
  });

  it("accepts bgr8 and mono8 raw images", () => {
    const bgr = rgb().slice();
    for (let i = 0; i < W * H; i++) [bgr[i * 3], bgr[i * 3 + 2]] = [bgr[i * 3 + 2]!, bgr[i * 3]!];
    const a = cameraFeatures(raw, DEFAULT_FEATURE_CONFIG);
    const b = cameraFeatures({ ...raw, encoding: "bgr8", data: bgr }, DEFAULT_FEATURE_CONFIG);
    assert.deepEqual(Array.from(b.patches), Array.from(a.patches));
    const mono = cameraFeatures({ encoding: "mono8", width: 4, height: 4, step: 4, data: new Uint8Array(16).fill(128) }, DEFAULT_FEATURE_CONFIG);
    assert.ok(mono.present);
  });

  it("lays patches out row-major: the first patch is top-left (red), the last bottom-right (blue)", () => {
    const { size, patch } = DEFAULT_FEATURE_CONFIG.camera;
    const p = cameraFeatures(raw, DEFAULT_FEATURE_CONFIG).patches;
    const per = patch * patch * 3;
    assert.ok(p[0]! > 1 && p[2]! < -1, "top-left is red");
    const last = ((size / patch) ** 2 - 1) * per;
    assert.ok(p[last]! < -1 && p[last + 2]! > 1, "bottom-right is blue");
  });

  it("box-filters a uniform image to the same value", () => {
    const img = { width: 7, height: 5, data: new Uint8Array(7 * 5 * 3).fill(100) };
    assert.ok(resizeArea(img, 32).every((v) => v === 100));
    assert.equal(toPatches(new Float32Array(4 * 4 * 3).fill(127.5), 4, 2)[0], 0);
  });

  it("an undecodable image is missing with a reason, never zeros marked present", () => {
    for (const msg of [{ format: "jpeg", data: new Uint8Array([1, 2, 3]) }, { format: "gif", data: new Uint8Array([1]) }, { format: "png", data: new Uint8Array() }]) {
      const f = cameraFeatures(msg, DEFAULT_FEATURE_CONFIG);
      assert.equal(f.present, false);
      assert.ok(f.problem);
    }
    assert.equal(decodeCameraMessage({ encoding: "rgb8", width: 10, height: 10, step: 30, data: new Uint8Array(10) }).ok, false);
  });
});
