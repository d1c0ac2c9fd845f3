import assert from "node:assert/strict";
import fc from "fast-check";
import jpeg from "jpeg-js";
import { readFileSync } from "node:fs";
import { decodeJpegRgb, type DecodedRgb } from "../../../fusion/features/jpeg-decode.ts";
import { expert } from "../../../sim/expert.ts";
import { Rng } from "../../../sim/rng.ts";
import { WEATHERS } from "../../../sim/scenario.ts";
import { CameraRenderer, encodeJpeg } from "../../../sim/sensors/camera.ts";
import { JpegEncoder } from "../../../sim/sensors/jpeg.ts";
import { createWorld, stepWorld } from "../../../sim/world/world.ts";

const FIXTURES = new URL("../../fixtures/jpeg/", import.meta.url);
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, FIXTURES)));

/** jpeg-js as the camera path calls it (fusion/features/camera.ts): the reference. */
function jpegJs(file: Uint8Array): Uint8Array {
  return jpeg.decode(file, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 256 }).data;
}

function jpegJsImage(file: Uint8Array): DecodedRgb {
  const img = jpeg.decode(file, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 256 });
  return { width: img.width, height: img.height, data: img.data };
}

function jpegJsError(file: Uint8Array): string | undefined {
  try {
    jpegJs(file);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function assertSameBytes(ours: Uint8Array, ref: Uint8Array, label: string): void {
  assert.equal(ours.length, ref.length, `${label}: output length`);
  let i = 0;
  while (i < ref.length && ours[i] === ref[i]) i++;
  if (i < ref.length) assert.fail(`${label}: first mismatch at byte ${i} (pixel ${Math.floor(i / 3)}, channel ${i % 3}): ours ${ours[i]}, jpeg-js ${ref[i]}`);
}

/** Decodes with both; ours must not decline and must give jpeg-js's bytes. */
function assertLikeJpegJs(file: Uint8Array, label: string): DecodedRgb {
  const ref = jpegJsImage(file);
  const ours = decodeJpegRgb(file);
  assert.ok(ours, `${label}: declined a file jpeg-js decodes (${ref.width}×${ref.height})`);
  assert.equal(ours.width, ref.width, `${label}: width`);
  assert.equal(ours.height, ref.height, `${label}: height`);
  assertSameBytes(ours.data, ref.data, label);
  return ours;
}

type Kind = "noise" | "smooth" | "saturated" | "flat";

/** RGBA test content: noise (long codes, 0xFF stuffing), gradients (EOBs), saturated colours (clamping), flat blocks. */
function image(width: number, height: number, kind: Kind, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const rgba = new Uint8Array(width * height * 4);
  const palette = [0, 255, 128, 30, 220];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      for (let c = 0; c < 3; c++) {
        if (kind === "noise") rgba[i + c] = rng.int(0, 255);
        else if (kind === "smooth") rgba[i + c] = (x * (3 + c) + y * (5 - c) + rng.int(0, 2)) & 0xff;
        else if (kind === "saturated") rgba[i + c] = palette[(((x >> 2) * 7 + (y >> 2) * 3 + c * 5 + seed) >>> 0) % palette.length]!;
        else rgba[i + c] = ((x >> 3) * 40 + (y >> 3) * 25 + c * 60) & 0xff;
      }
      rgba[i + 3] = 255;
    }
  }
  return rgba;
}

const jpegJsEncode = (rgba: Uint8Array, width: number, height: number, quality: number): Uint8Array =>
  new Uint8Array(jpeg.encode({ data: rgba, width, height }, quality).data);

// ---- Minimal JPEG surgery for header variants --------------------------------------------------------

interface Segment {
  marker: number;
  /** Offset of the 0xFF of the marker. */
  at: number;
  /** Bytes from `at` to the next marker (marker, length field, payload, entropy-coded data after SOS). */
  size: number;
}

/** The file's markers in order, SOI and EOI included; entropy-coded data counts towards its SOS. */
function segments(file: Uint8Array): Segment[] {
  const out: Segment[] = [];
  let at = 0;
  while (at + 1 < file.length) {
    assert.equal(file[at], 0xff, `marker expected at ${at}`);
    const marker = file[at + 1]!;
    let end = at + 2;
    if (marker !== 0xd8 && marker !== 0xd9 && (marker < 0xd0 || marker > 0xd7)) end += (file[at + 2]! << 8) | file[at + 3]!;
    if (marker === 0xda || (marker >= 0xd0 && marker <= 0xd7)) {
      while (end + 1 < file.length && !(file[end] === 0xff && file[end + 1] !== 0 && (file[end + 1]! < 0xd0 || file[end + 1]! > 0xd7))) end++;
    }
    out.push({ marker, at, size: end - at });
    at = end;
  }
  return out;
}

function segmentOf(file: Uint8Array, marker: number): Segment {
  const s = segments(file).find((x) => x.marker === marker);
  assert.ok(s, `no 0xFF${marker.toString(16)} segment`);
  return s;
}

/** A marker segment: 0xFF, marker, length, payload. */
function segment(marker: number, payload: number[]): Uint8Array {
  return Uint8Array.from([0xff, marker, (payload.length + 2) >> 8, (payload.length + 2) & 0xff, ...payload]);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Inserts bytes right after SOI. */
const afterSoi = (file: Uint8Array, bytes: Uint8Array): Uint8Array => concat(file.subarray(0, 2), bytes, file.subarray(2));

function without(file: Uint8Array, marker: number): Uint8Array {
  const s = segmentOf(file, marker);
  return concat(file.subarray(0, s.at), file.subarray(s.at + s.size));
}

/** A copy with the frame header edited: `edit(copy, offsetOfPrecisionByte)`. */
function withFrame(file: Uint8Array, edit: (copy: Uint8Array, p: number) => void): Uint8Array {
  const copy = file.slice();
  const sof = segments(copy).find((s) => s.marker >= 0xc0 && s.marker <= 0xcf && s.marker !== 0xc4 && s.marker !== 0xc8 && s.marker !== 0xcc);
  assert.ok(sof, "no SOF");
  edit(copy, sof.at + 4);
  return copy;
}

/** SOF marker, precision, sampling factors ("22,11,11"), restart interval, number of scans. */
function describeFrame(file: Uint8Array): { sof: number; precision: number; sampling: string; restart: number; scans: number } {
  const segs = segments(file);
  const sof = segs.find((s) => s.marker >= 0xc0 && s.marker <= 0xcf && s.marker !== 0xc4 && s.marker !== 0xc8 && s.marker !== 0xcc)!;
  const p = sof.at + 4;
  const n = file[p + 5]!;
  const sampling = Array.from({ length: n }, (_, i) => file[p + 7 + 3 * i]!.toString(16)).join(",");
  const dri = segs.find((s) => s.marker === 0xdd);
  const restart = dri ? (file[dri.at + 4]! << 8) | file[dri.at + 5]! : 0;
  return { sof: 0xff00 | sof.marker, precision: file[p]!, sampling, restart, scans: segs.filter((s) => s.marker === 0xda).length };
}

// -------------------------------------------------------------------------------------------------------

describe("fusion/features/jpeg-decode", function () {
  this.timeout(120_000);

  it("gives jpeg-js's RGB for jpeg-js-encoded images of every listed size and quality", () => {
    const sizes = [
      [1, 1],
      [7, 9],
      [8, 8],
      [15, 17],
      [64, 64],
      [100, 37],
      [640, 480],
    ] as const;
    let checked = 0;
    for (const [w, h] of sizes) {
      for (const q of [1, 10, 50, 75, 90, 100]) {
        for (const kind of ["noise", "smooth"] as const) {
          const file = jpegJsEncode(image(w, h, kind, w * 1000 + q), w, h, q);
          assertLikeJpegJs(file, `${w}×${h} q${q} ${kind}`);
          checked++;
        }
      }
    }
    assert.equal(checked, 84);
  });

  it("gives jpeg-js's RGB for any size, quality and content (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 72 }),
        fc.integer({ min: 1, max: 72 }),
        fc.oneof(fc.constantFrom(1, 10, 50, 75, 90, 100), fc.integer({ min: 1, max: 100 })),
        fc.constantFrom<Kind>("noise", "smooth", "saturated", "flat"),
        fc.integer(),
        (w, h, q, kind, seed) => {
          // The repo's encoder writes jpeg-js's encoder's bytes (test/sim/sensors/jpeg.test.ts), much faster.
          const file = new JpegEncoder(q).encode(image(w, h, kind, seed), w, h);
          assertLikeJpegJs(file, `${w}×${h} q${q} ${kind} seed ${seed}`);
        },
      ),
      { numRuns: 250 },
    );
  });

  it("gives jpeg-js's RGB for flat (DC-only) blocks of every level and colour at every quality", () => {
    // 256 blocks of 8×8 in a row, each flat: grey levels 0..255, then hues (the closed-form DC-only path).
    const w = 256 * 8;
    const grey = new Uint8Array(w * 8 * 4);
    const colour = new Uint8Array(w * 8 * 4);
    for (let i = 0; i < w * 8; i++) {
      const level = (i % w) >> 3;
      grey.fill(level, i * 4, i * 4 + 3);
      colour[i * 4] = level;
      colour[i * 4 + 1] = (level * 7) & 0xff;
      colour[i * 4 + 2] = 255 - level;
    }
    for (const q of [1, 10, 50, 75, 90, 100]) {
      assertLikeJpegJs(new JpegEncoder(q).encode(grey, w, 8), `grey levels q${q}`);
      assertLikeJpegJs(new JpegEncoder(q).encode(colour, w, 8), `colour levels q${q}`);
    }
  });

  it("gives jpeg-js's RGB for simulator camera frames in every weather", () => {
    let frames = 0;
    for (const weather of WEATHERS) {
      const w = createWorld({ name: "jpeg-decode", seed: 11, durationS: 20, weather: [weather], events: ["tunnel", "stop_line", "pedestrian"] });
      const cam = new CameraRenderer(undefined, new Rng(4));
      const rng = new Rng(5);
      let label = expert(w);
      while (!w.done) {
        if (w.tick % 5 === 0) label = expert(w);
        stepWorld(w, { action: label.action, targetSpeedMps: label.targetSpeedMps });
        if (w.tick % 40 !== 0) continue;
        const rgba = cam.render(w, rng);
        for (const q of [50, 85]) {
          const ours = assertLikeJpegJs(encodeJpeg(rgba, cam.cfg.width, cam.cfg.height, q), `${weather} t=${w.t.toFixed(1)} q${q}`);
          assert.equal(ours.data.length, cam.cfg.width * cam.cfg.height * 3);
          frames++;
        }
      }
    }
    assert.ok(frames >= 40, `only ${frames} frames compared`);
  });

  describe("real-encoder fixtures (libjpeg-turbo cjpeg, see test/fixtures/jpeg/README.md)", () => {
    const cases: { file: string; sof: number; sampling: string; restart?: number; scans?: number }[] = [
      { file: "s420.jpg", sof: 0xffc0, sampling: "22,11,11" },
      { file: "s422.jpg", sof: 0xffc0, sampling: "21,11,11" },
      { file: "s440.jpg", sof: 0xffc0, sampling: "12,11,11" },
      { file: "s411.jpg", sof: 0xffc0, sampling: "41,11,11" },
      { file: "s3x2.jpg", sof: 0xffc0, sampling: "32,11,11" },
      { file: "chroma-hi.jpg", sof: 0xffc0, sampling: "11,22,11" },
      { file: "mixed.jpg", sof: 0xffc0, sampling: "22,21,12" },
      { file: "grey.jpg", sof: 0xffc0, sampling: "11" },
      { file: "grey-restart3b.jpg", sof: 0xffc0, sampling: "11", restart: 3 },
      { file: "s420-restart-row.jpg", sof: 0xffc0, sampling: "22,11,11", restart: 3 },
      { file: "s420-restart4b.jpg", sof: 0xffc0, sampling: "22,11,11", restart: 4 },
      { file: "s420-optimized.jpg", sof: 0xffc0, sampling: "22,11,11" },
      { file: "s420-multiscan.jpg", sof: 0xffc0, sampling: "22,11,11", scans: 3 },
      { file: "s420-multiscan-restart3b.jpg", sof: 0xffc0, sampling: "22,11,11", restart: 3, scans: 3 },
      { file: "sof1-dqt16.jpg", sof: 0xffc1, sampling: "11,11,11" },
      { file: "rgb-adobe.jpg", sof: 0xffc0, sampling: "11,11,11" },
    ];
    for (const c of cases) {
      it(`${c.file}: ${c.sampling}${c.restart ? `, restart ${c.restart}` : ""}${c.scans ? `, ${c.scans} scans` : ""}`, () => {
        const file = fixture(c.file);
        const frame = describeFrame(file);
        assert.equal(frame.sof, c.sof, "frame type");
        assert.equal(frame.precision, 8);
        assert.equal(frame.sampling, c.sampling, "sampling factors");
        assert.equal(frame.restart, c.restart ?? 0, "restart interval");
        assert.equal(frame.scans, c.scans ?? 1, "scans");
        assertLikeJpegJs(file, c.file);
      });
    }

    it("the fixtures carry what they are named for: 16-bit DQT, optimised Huffman tables, a comment, an Adobe marker", () => {
      const dqt16 = fixture("sof1-dqt16.jpg");
      assert.ok(segments(dqt16).some((s) => s.marker === 0xdb && dqt16[s.at + 4]! >> 4 === 1), "a 16-bit quantisation table");
      const optimized = fixture("s420-optimized.jpg");
      const standardAcLuma = fixture("s420.jpg");
      const dht = (f: Uint8Array): string =>
        segments(f)
          .filter((s) => s.marker === 0xc4)
          .map((s) => Buffer.from(f.subarray(s.at, s.at + s.size)).toString("hex"))
          .join();
      assert.notEqual(dht(optimized), dht(standardAcLuma), "optimised tables differ from the standard ones");
      assert.ok(segments(optimized).some((s) => s.marker === 0xfe), "a COM segment");
      const adobe = fixture("rgb-adobe.jpg");
      const app14 = segmentOf(adobe, 0xee);
      assert.equal(Buffer.from(adobe.subarray(app14.at + 4, app14.at + 9)).toString("latin1"), "Adobe");
      assert.equal(adobe[app14.at + 15], 0, "transform 0 (RGB coded)");
    });
  });

  describe("header variants", () => {
    const base = jpegJsEncode(image(21, 13, "saturated", 3), 21, 13, 80);
    const adobe = (transform: number): Uint8Array => segment(0xee, [0x41, 0x64, 0x6f, 0x62, 0x65, 0, 100, 0, 0, 0, 0, transform]);

    it("converts every 3-component image as YCbCr, as jpeg-js does whatever the Adobe transform flag says", () => {
      const plain = assertLikeJpegJs(base, "no Adobe marker");
      for (const t of [0, 1, 2]) {
        const ours = assertLikeJpegJs(afterSoi(base, adobe(t)), `Adobe transform ${t}`);
        assert.deepEqual(Buffer.from(ours.data), Buffer.from(plain.data), `Adobe transform ${t} changes nothing`);
      }
      assertLikeJpegJs(without(base, 0xe0), "no JFIF marker");
      assertLikeJpegJs(afterSoi(without(base, 0xe0), adobe(0)), "Adobe, no JFIF");
    });

    it("skips APPn and COM segments wherever they are, and fill bytes before a marker", () => {
      const exif = segment(0xe1, [0x45, 0x78, 0x69, 0x66, 0, 0, 1, 2, 3, 4]);
      const com = segment(0xfe, Array.from("a comment", (ch) => ch.charCodeAt(0)));
      const app15 = segment(0xef, [0xff, 0xd9, 0xff, 0xda]);
      const sos = segmentOf(base, 0xda);
      const busy = concat(base.subarray(0, sos.at), exif, com, app15, base.subarray(sos.at));
      assertLikeJpegJs(afterSoi(busy, com), "APP1, COM and APP15 segments");
      const filled = concat(base.subarray(0, base.length - 2), Uint8Array.of(0xff, 0xff, 0xd9));
      assertLikeJpegJs(filled, "0xFF fill byte before EOI");
    });

    it("skips junk between the end of the scan and the next marker, as jpeg-js does", () => {
      const eoi = base.length - 2;
      const junk = concat(base.subarray(0, eoi), Uint8Array.of(0x00, 0x12, 0xff, 0x00, 0x34, 0x56), base.subarray(eoi));
      assertLikeJpegJs(junk, "junk before EOI");
    });

    it("follows jpeg-js's layout for a grey image whose sampling factors are 2×2", () => {
      const grey = fixture("grey.jpg");
      const patched = withFrame(grey, (f, p) => (f[p + 7] = 0x22));
      assert.equal(describeFrame(patched).sampling, "22");
      assertLikeJpegJs(patched, "grey 2×2");
    });

    it("uses the last definition of a quantisation table, as jpeg-js does (tables are bound after parsing)", () => {
      const dqt = segment(0xdb, [0, ...Array.from({ length: 64 }, (_, i) => 1 + (i % 7))]);
      const eoi = base.length - 2;
      // A DQT after the scan redefines table 0 for the whole image in jpeg-js.
      const late = concat(base.subarray(0, eoi), dqt, base.subarray(eoi));
      const ours = assertLikeJpegJs(late, "DQT after the scan");
      assert.notDeepEqual(Buffer.from(ours.data), Buffer.from(jpegJs(base)), "the late table matters");
    });
  });

  describe("declines what it leaves to jpeg-js", () => {
    it("returns undefined for progressive JPEGs, which jpeg-js decodes", () => {
      const file = fixture("progressive.jpg");
      assert.equal(describeFrame(file).sof, 0xffc2);
      assert.equal(decodeJpegRgb(file), undefined);
      assert.equal(jpegJsImage(file).width, 37, "jpeg-js decodes it: the fallback matters");
    });

    it("returns undefined for arithmetic coding and lossless frames", () => {
      assert.equal(describeFrame(fixture("arithmetic.jpg")).sof, 0xffc9);
      assert.equal(decodeJpegRgb(fixture("arithmetic.jpg")), undefined);
      const lossless = fixture("s420.jpg");
      lossless[segmentOf(lossless, 0xc0).at + 1] = 0xc3;
      assert.equal(decodeJpegRgb(lossless), undefined);
    });

    it("returns undefined for precision other than 8 and for 2 or 4 components", () => {
      const file = fixture("s420.jpg");
      assertLikeJpegJs(file, "unpatched");
      for (const precision of [12, 16, 7]) assert.equal(decodeJpegRgb(withFrame(file, (f, p) => (f[p] = precision))), undefined, `precision ${precision}`);
      for (const count of [2, 4, 0]) assert.equal(decodeJpegRgb(withFrame(file, (f, p) => (f[p + 5] = count))), undefined, `${count} components`);
      assert.equal(decodeJpegRgb(withFrame(file, (f, p) => (f[p + 7] = 0x02))), undefined, "sampling factor 0");
      assert.equal(decodeJpegRgb(withFrame(file, (f, p) => (f[p + 7] = 0x51))), undefined, "sampling factor 5");
    });

    it("returns undefined for a zero or oversized dimension", () => {
      const file = fixture("grey.jpg");
      assert.equal(decodeJpegRgb(withFrame(file, (f, p) => ((f[p + 1] = 0), (f[p + 2] = 0)))), undefined, "height 0");
      assert.equal(decodeJpegRgb(withFrame(file, (f, p) => ((f[p + 3] = 0x4e), (f[p + 4] = 0x20)))), undefined, "width 20000");
      // 16000 × 16000: within the per-side cap, over the memory cap (jpeg-js at 256 MB refuses it too).
      const huge = withFrame(file, (f, p) => ((f[p + 1] = 0x3e), (f[p + 2] = 0x80), (f[p + 3] = 0x3e), (f[p + 4] = 0x80)));
      assert.equal(decodeJpegRgb(huge), undefined, "16000×16000");
      assert.match(jpegJsError(huge) ?? "", /limit exceeded/);
    });

    it("returns undefined where jpeg-js throws: a single-component scan whose restart interval runs into MCU padding", () => {
      // jpeg-js decodes the padding row's blocks of a subsampled luma scan, reading past the interval's data.
      const file = fixture("s420-multiscan-restart4b.jpg");
      assert.deepEqual(describeFrame(file), { sof: 0xffc0, precision: 8, sampling: "22,11,11", restart: 4, scans: 3 });
      assert.match(jpegJsError(file) ?? "", /unexpected marker/);
      assert.equal(decodeJpegRgb(file), undefined);
    });

    it("returns undefined where jpeg-js throws: a Huffman table using the all-ones code", () => {
      // Two 1-bit codes: valid as a prefix code, but the standard reserves all-ones and jpeg-js's builder throws.
      const dht = segment(0xc4, [0x03, 2, ...new Array<number>(15).fill(0), 0, 1]);
      const file = afterSoi(fixture("grey.jpg"), dht);
      assert.match(jpegJsError(file) ?? "", /Huffman/);
      assert.equal(decodeJpegRgb(file), undefined);
    });

    it("returns undefined for non-JPEG input, missing tables and truncated files", () => {
      assert.equal(decodeJpegRgb(new Uint8Array(0)), undefined);
      assert.equal(decodeJpegRgb(Uint8Array.of(0xff, 0xd8)), undefined);
      assert.equal(decodeJpegRgb(Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)), undefined);
      const file = fixture("s420-restart-row.jpg");
      assert.equal(decodeJpegRgb(without(file, 0xdb)), undefined, "no DQT");
      assert.equal(decodeJpegRgb(without(file, 0xc4)), undefined, "a DHT missing");
      assert.equal(decodeJpegRgb(file.subarray(0, file.length - 2)), undefined, "no EOI");
      assert.equal(decodeJpegRgb(file.subarray(0, file.length - 200)), undefined, "cut in the scan");
    });
  });

  it("reuses its scratch across calls without leaking state between images", () => {
    const big = jpegJsEncode(image(200, 150, "noise", 1), 200, 150, 90);
    const small = fixture("s420-restart4b.jpg");
    const grey = fixture("grey-restart3b.jpg");
    const first = decodeJpegRgb(big)!;
    assertLikeJpegJs(small, "small after big");
    assertLikeJpegJs(grey, "grey after colour");
    const again = decodeJpegRgb(big)!;
    assert.notEqual(again.data, first.data, "a fresh output array per call");
    assertSameBytes(again.data, first.data, "big again");
    assertSameBytes(first.data, jpegJs(big), "big");
  });

  it("on corrupted files returns undefined, throws an Error, or gives exactly jpeg-js's image — quickly", () => {
    const sources = [
      encodeJpeg(image(64, 64, "smooth", 9), 64, 64, 85),
      fixture("s420-restart-row.jpg"),
      fixture("grey-restart3b.jpg"),
      fixture("s420-optimized.jpg"),
      fixture("s420-multiscan-restart3b.jpg"),
    ];
    const outcomes = { undefined: 0, threw: 0, image: 0 };
    const started = Date.now();
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: sources.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.option(fc.nat(), { nil: undefined }),
        (which, flips, cut) => {
          const src = sources[which]!;
          const file = src.slice(0, cut === undefined ? src.length : cut % (src.length + 1));
          for (const [at, value] of flips) if (file.length > 0) file[at % file.length] = value;
          let ours: DecodedRgb | undefined;
          try {
            ours = decodeJpegRgb(file);
          } catch (err) {
            assert.ok(err instanceof Error, "only Errors are thrown");
            outcomes.threw++;
            return;
          }
          if (!ours) {
            outcomes.undefined++;
            return;
          }
          outcomes.image++;
          assert.equal(ours.data.length, ours.width * ours.height * 3);
          // Whatever we return, jpeg-js must return too, byte for byte.
          assertLikeJpegJs(file, `corrupted source ${which}, flips ${JSON.stringify(flips)}, cut ${cut}`);
        },
      ),
      { numRuns: 1500 },
    );
    assert.ok(outcomes.undefined > 0 && outcomes.image > 0, `outcomes ${JSON.stringify(outcomes)}`);
    assert.ok(Date.now() - started < 30_000, "took too long");
  });
});
