/**
 * alignFrames in virtual time. Each line is one modality: a letter sits at the column (ms) of its
 * event stamp and, unless an `arrive` line says otherwise, arrives at that virtual time too.
 * Output frames are shown as summaries: "10: r11 g~ e!6 v2" = frame at 10 ms with radar stamped
 * 11, GNSS interpolated, ego held from 6, voice from 2.
 */
import { strict as assert } from "node:assert";
import { merge, map } from "rxjs";
import type { TestScheduler } from "rxjs/testing";
import { alignFrames, type AlignerConfig, type DropEvent } from "../../pipeline/index.ts";
import { kindLines, makeScheduler, MS, summary, type KindLine } from "./helpers.ts";

/** Small windows so timelines fit on a line: radar ±5, GNSS ±20, ego ±10, voice 30 ms; lateness 0; wait 15 ms. */
const config: AlignerConfig = {
  radarToleranceNs: 5n * MS,
  gnssMaxAgeNs: 20n * MS,
  egoMaxAgeNs: 10n * MS,
  voiceTtlNs: 30n * MS,
  allowedLatenessNs: 0n,
  maxDelayNs: 15n * MS,
  // Wait for every input, nothing extrapolated (the aligner's defaults are the daemon's: gnss and ego neither).
  noWaitFor: [],
  extrapolate: [],
};

function timeline(lines: KindLine[], expected: string, frames: Record<string, string>, extra: AlignerConfig = {}): DropEvent[] {
  const drops: DropEvent[] = [];
  const scheduler = makeScheduler();
  scheduler.run(({ hot, expectObservable }) => {
    const { inputs } = kindLines(hot as TestScheduler["createHotObservable"], lines);
    const out = merge(...inputs).pipe(alignFrames({ ...config, ...extra, scheduler, onDrop: (d) => drops.push(d) }), map(summary));
    expectObservable(out).toBe(expected.replaceAll(".", "-"), frames);
  });
  return drops;
}

describe("pipeline/align (marbles)", () => {
  it("emits a frame once the watermark passes the last stamp it could use", () => {
    // Frame 10 needs radar until 11 (nearest is 1 ms away), ego until 14 (the sample after 10),
    // GNSS until 16: it is final when a message stamped past 16 arrives (i at 18).
    timeline(
      [
        { kind: "camera", stamps: "..........c......." },
        { kind: "radar", stamps: "...........r......" },
        { kind: "gnss", stamps: "..g.............h." },
        { kind: "ego", stamps: "......e.......f...i" },
      ],
      "..................x",
      { x: "10: r11 g~ e~" },
    );
  });

  it("waits at most maxDelay for a silent sensor, then emits what it has (held ego, no GNSS)", () => {
    // Nothing arrives after 12: camera at 10 → deadline at 25. Ego has only a sample before 10: held.
    timeline(
      [
        { kind: "camera", stamps: "..........c..." },
        { kind: "radar", stamps: "............r." },
        { kind: "ego", stamps: "......e......." },
      ],
      ".........................x",
      { x: "10: r12 e!6" },
    );
  });

  it("drops a message later than the allowed lateness and counts it; one within it is used", () => {
    // Lateness 3 ms. When ego f (14) arrives, W = 11: radar r (stamp 9, arrives 15) is late;
    // radar s (stamp 12, arrives 16) is within the bound and is the nearest scan.
    const drops = timeline(
      [
        { kind: "camera", stamps: "..........c.........." },
        { kind: "radar", stamps: ".........r..s........", arrive: "...............r.s..." },
        { kind: "ego", stamps: "..............f.....g" },
      ],
      // Final when W passes 14 (ego f): g (20) makes W = 17.
      "....................x",
      { x: "10: r12 e!14" }, // ego has only a sample after 10: held
      { allowedLatenessNs: 3n * MS, gnssMaxAgeNs: 0n },
    );
    assert.deepEqual(
      drops.map((d) => `${d.reason}@${d.stampNs! / MS}`),
      ["late@9"],
    );
  });

  it("decides a camera frame later than the general lateness but within the camera lateness, at once, with the samples around its stamp", () => {
    // Camera c (stamp 10) arrives at 18, 8 ms after its stamp, while ego arrives on time: W = 16 then, past 10.
    // With the camera lateness at 10 ms it is not late (18 − 10 = 8 ≤ 10): its frame is final as it arrives
    // (radar 11 and the ego sample after 10 are below W) and holds them — the frame it would have been on time.
    const lines: KindLine[] = [
      { kind: "camera", stamps: "..........c.........", arrive: "..................c." },
      { kind: "radar", stamps: "...........r........" },
      { kind: "ego", stamps: "........e...f...g...h" },
    ];
    const drops = timeline(lines, "..................x", { x: "10: r11 e~" }, { gnssMaxAgeNs: 0n, cameraLatenessNs: 10n * MS });
    assert.deepEqual(drops, []);
    // With no camera lateness of its own (the general 0 ms), the same camera is dropped as late: no frame.
    const old = timeline(lines, "", {}, { gnssMaxAgeNs: 0n, cameraLatenessNs: 0n });
    assert.deepEqual(old.map((d) => `${d.reason}@${d.stampNs! / MS}`), ["late@10"]);
  });

  it("drops a camera frame later than the camera lateness and counts it", () => {
    // Camera c (stamp 10) arrives at 25; ego stamped 24 arrived before it: 24 − 10 = 14 > 10 ms.
    const drops = timeline(
      [
        { kind: "camera", stamps: "..........c...............", arrive: ".........................c" },
        { kind: "ego", stamps: "........e...f...g...h...i" },
      ],
      "",
      {},
      { gnssMaxAgeNs: 0n, radarToleranceNs: 0n, cameraLatenessNs: 10n * MS },
    );
    assert.deepEqual(drops.map((d) => `${d.reason}@${d.stampNs! / MS}`), ["late@10"]);
  });

  it("keeps the latest voice utterance within its time-to-live", () => {
    // Frame 20 (final when w arrives at 35): u is 18 ms old, kept. Frame 40 (final at 48):
    // u is 38 ms old, gone; w is the latest.
    timeline(
      [
        { kind: "camera", stamps: "....................c...................d" },
        { kind: "voice", stamps: "..u................................w....." },
        { kind: "ego", stamps: "....................e...................f.......g" },
      ],
      "...................................x............y",
      { x: "20: e20 v2", y: "40: e40 v35" },
      { gnssMaxAgeNs: 0n, radarToleranceNs: 0n, egoMaxAgeNs: 5n * MS, maxDelayNs: 100n * MS },
    );
  });

  it("emits frames in stamp order even when references arrive out of order (within lateness)", () => {
    timeline(
      [
        // camera d (stamp 12) arrives at 11, before c (stamp 10) arrives at 13.
        { kind: "camera", stamps: "..........c.d.....", arrive: "...........d.c...." },
        { kind: "ego", stamps: "..........e.f.....g" },
      ],
      "..................(xy)",
      { x: "10: e10", y: "12: e12" },
      { allowedLatenessNs: 5n * MS, gnssMaxAgeNs: 0n, radarToleranceNs: 0n },
    );
  });

  it("drops a duplicate reference; frames leave on their deadlines", () => {
    const drops: DropEvent[] = [];
    const scheduler = makeScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const { inputs, byLetter } = kindLines(hot as TestScheduler["createHotObservable"], [{ kind: "camera", stamps: "..c.d" }]);
      const again = hot("---a", { a: byLetter["c"]! }); // c once more, at 3
      const out = merge(inputs[0]!, again).pipe(alignFrames({ ...config, scheduler, onDrop: (d) => drops.push(d) }), map(summary));
      // No other sensor: deadlines at 2 + 15 and 4 + 15.
      expectObservable(out).toBe("-----------------x-y", { x: "2:", y: "4:" });
    });
    assert.deepEqual(drops.map((d) => d.reason), ["duplicate"]);
  });

  it("emits every pending frame when the input completes", () => {
    const scheduler = makeScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const { byLetter } = kindLines(hot as TestScheduler["createHotObservable"], [{ kind: "camera", stamps: "..c..d" }]);
      const cams = hot("--c--d--|", byLetter);
      expectObservable(cams.pipe(alignFrames({ ...config, scheduler }), map(summary))).toBe("--------(xy|)", { x: "2:", y: "5:" });
    });
  });
});
