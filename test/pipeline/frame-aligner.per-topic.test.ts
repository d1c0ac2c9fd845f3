/**
 * The aligner with inOrderPerTopic (what the graph uses behind validate): a frame leaves as soon as
 * every topic is past what it needs — the next GNSS and ego sample after t, a radar scan that cannot
 * be beaten — not when the global watermark or the deadline comes. With per-topic FIFO arrivals it
 * gives exactly the frames of the watermark-only aligner, whatever the interleaving across topics.
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { MODALITIES, type FusedFrame, type Modality, type SensorMessage } from "../../schemas/types.ts";
import { FrameAligner, frameFromInputs, frameInputs, resolveAlignerConfig, type AlignerConfig } from "../../pipeline/index.ts";
import { eventContent, msg, MS, reading } from "./helpers.ts";

const base: AlignerConfig = { radarToleranceNs: 30n * MS, gnssMaxAgeNs: 150n * MS, egoMaxAgeNs: 40n * MS, voiceTtlNs: 500n * MS, allowedLatenessNs: 60n * MS, maxDelayNs: 10_000n * MS, noWaitFor: [], extrapolate: [] };

const at = (kind: Modality, ms: number, recvMs = ms): SensorMessage => msg(kind, BigInt(ms) * MS, reading(kind, BigInt(ms) * MS), BigInt(recvMs) * MS);

describe("pipeline/frame-aligner (inOrderPerTopic)", () => {
  it("emits a frame when the next GNSS and ego samples after t arrive, not at the watermark", () => {
    //  stamps (ms):  camera 100 · radar 95, 125 · ego 80, 110 · gnss 50, 150 · voice none
    const a = new FrameAligner({ ...base, inOrderPerTopic: true });
    const b = new FrameAligner(base);
    const feed = [at("gnss", 50), at("ego", 80), at("radar", 95), at("camera", 100), at("ego", 110), at("radar", 125)];
    for (const m of feed) {
      assert.deepEqual(a.push(m, m.receiveNs), []);
      assert.deepEqual(b.push(m, m.receiveNs), []);
    }
    const last = at("gnss", 150);
    const frames = a.push(last, last.receiveNs);
    assert.equal(frames.length, 1, "the GNSS sample after t completes the frame");
    assert.equal(frames[0]!.stampNs, 100n * MS);
    assert.deepEqual(frames[0]!.present, { camera: true, radar: true, gnss: true, ego: true, voice: false });
    assert.deepEqual(b.push(last, last.receiveNs), [], "the watermark-only aligner is still waiting (W = 90 ms)");
    assert.equal(a.stats.final, 1);
  });

  it("waits while a radar scan nearer than the best so far could still come", () => {
    const a = new FrameAligner({ ...base, inOrderPerTopic: true });
    for (const m of [at("gnss", 50), at("gnss", 150), at("ego", 90), at("ego", 110), at("radar", 80), at("camera", 100)]) assert.deepEqual(a.push(m, m.receiveNs), []);
    // Best radar so far is 20 ms before t: a scan up to t + 20 ms could beat it.
    assert.deepEqual(a.push(at("radar", 115), 115n * MS).map((f) => f.slots.radar?.stampNs), [115n * MS]);
  });

  it("drops a message older than its topic's last one as out_of_order", () => {
    const drops: string[] = [];
    const a = new FrameAligner({ ...base, inOrderPerTopic: true }, (d) => drops.push(d.reason));
    a.push(at("ego", 100), 100n * MS);
    a.push(at("ego", 90), 101n * MS);
    a.push(at("ego", 100), 102n * MS);
    assert.deepEqual(drops, ["out_of_order", "duplicate"]);
  });

  it("gives the watermark-only aligner's frames for any cross-topic interleaving of per-topic FIFO arrivals", () => {
    const stamps = (maxGap: number, maxLen: number): fc.Arbitrary<number[]> =>
      fc.array(fc.integer({ min: 1, max: maxGap }), { maxLength: maxLen }).map((gaps) => {
        let t = 0;
        return gaps.map((g) => (t += g));
      });
    const drive = fc.record({ camera: stamps(60, 20), radar: stamps(60, 20), gnss: stamps(120, 10), ego: stamps(25, 50), voice: stamps(900, 3) });
    fc.assert(
      fc.property(drive, fc.array(fc.nat(60), { minLength: 5, maxLength: 5 }), fc.array(fc.nat(), { minLength: 1, maxLength: 40 }), (d, lat, jitter) => {
        // Each topic has its own latency plus a jitter that never reorders the topic (FIFO per topic).
        const messages: SensorMessage[] = [];
        let k = 0;
        MODALITIES.forEach((kind, i) => {
          let prevRecv = -1;
          for (const ms of d[kind]) {
            const recv = Math.max(prevRecv + 1, ms + lat[i]! + ((jitter[k++ % jitter.length] ?? 0) % 20));
            prevRecv = recv;
            messages.push(at(kind, ms, recv));
          }
        });
        messages.sort((x, y) => (x.receiveNs < y.receiveNs ? -1 : x.receiveNs > y.receiveNs ? 1 : 0));
        const run = (cfg: AlignerConfig): FusedFrame[] => {
          const a = new FrameAligner({ ...cfg, allowedLatenessNs: 100n * MS });
          const out: FusedFrame[] = [];
          for (const m of messages) out.push(...a.push(m, m.receiveNs));
          return [...out, ...a.flush(messages.at(-1)?.receiveNs ?? 0n)];
        };
        const perTopic = run({ ...base, inOrderPerTopic: true });
        const watermark = run(base);
        // Voice may come after a frame left (it never holds one back); compare everything else.
        const strip = (f: FusedFrame): unknown => {
          const e = eventContent(f) as unknown as Record<string, unknown>;
          const out: Record<string, unknown> = {};
          for (const [k, v] of Object.entries(e)) {
            if (v && typeof v === "object" && !Array.isArray(v) && ["present", "slots", "ageNs"].includes(k)) {
              const { voice: _voice, ...others } = v as Record<string, unknown>;
              out[k] = others;
            } else out[k] = v;
          }
          return out;
        };
        assert.deepStrictEqual(perTopic.map(strip), watermark.map(strip));
      }),
      { numRuns: 1500 },
    );
  });
});

describe("pipeline/frame-aligner (noWaitFor)", () => {
  it("does not hold a frame back for the GNSS fix after t: it holds the last one instead", () => {
    const a = new FrameAligner({ ...base, inOrderPerTopic: true, noWaitFor: ["gnss"], extrapolate: [] });
    for (const m of [at("gnss", 50), at("ego", 80), at("radar", 100), at("camera", 100)]) assert.deepEqual(a.push(m, m.receiveNs), []);
    const frames = a.push(at("ego", 110), 110n * MS);
    assert.equal(frames.length, 1, "complete once ego is past t, without the GNSS fix after t");
    assert.equal(frames[0]!.slots.gnss?.held, true);
    assert.equal(frames[0]!.ageNs.gnss, 50n * MS);
  });

  it("keeps a GNSS fix that arrives later than the general lateness (up to its max age) and holds it in later frames", () => {
    // The simulator's GNSS arrives 60–110 ms after its stamp; the general lateness is 60 ms here.
    const fed = (cfg: AlignerConfig): { frames: FusedFrame[]; dropped: number } => {
      const a = new FrameAligner(cfg);
      const frames: FusedFrame[] = [];
      for (let ms = 0; ms <= 1000; ms += 10) {
        if (ms % 100 === 0 && ms >= 100) frames.push(...a.push(at("gnss", ms - 100, ms), BigInt(ms) * MS)); // 100 ms late
        frames.push(...a.push(at("ego", ms, ms + 2), BigInt(ms + 2) * MS));
        if (ms % 50 === 0) frames.push(...a.push(at("radar", ms, ms + 5), BigInt(ms + 5) * MS), ...a.push(at("camera", ms, ms + 6), BigInt(ms + 6) * MS));
      }
      return { frames, dropped: a.stats.dropped };
    };
    const kept = fed({ ...base, inOrderPerTopic: true, noWaitFor: ["gnss"], extrapolate: [] });
    assert.equal(kept.dropped, 0, "no fix dropped as late");
    const late = kept.frames.filter((f) => f.stampNs >= 300n * MS);
    assert.ok(late.length > 0 && late.every((f) => f.present.gnss), `every frame after the first fixes holds one: ${late.filter((f) => !f.present.gnss).map((f) => f.stampNs / MS).join(",")}`);
    const waiting = fed({ ...base, inOrderPerTopic: true });
    assert.ok(waiting.dropped >= 9, `a modality frames wait for keeps the general lateness (dropped ${waiting.dropped})`);
  });
});

describe("pipeline/frame-aligner (voice lateness)", () => {
  it("keeps an utterance that arrives seconds after its stamp (speech start) and puts it in the next frames", () => {
    const a = new FrameAligner({ ...base, voiceTtlNs: 5000n * MS, inOrderPerTopic: true, noWaitFor: ["gnss"], extrapolate: [] });
    const frames: FusedFrame[] = [];
    for (let ms = 0; ms <= 3000; ms += 50) {
      for (const m of [at("ego", ms), at("radar", ms), at("camera", ms)]) frames.push(...a.push(m, m.receiveNs));
      if (ms === 2000) frames.push(...a.push(at("voice", 500, 2000), 2000n * MS)); // spoken at 0.5 s, heard by 2 s
    }
    const withVoice = frames.filter((f) => f.present.voice);
    assert.ok(withVoice.length > 0, "the utterance reaches frames");
    assert.equal(withVoice[0]!.slots.voice?.stampNs, 500n * MS);
    assert.equal(a.stats.dropped, 0);
  });
});

describe("pipeline/frame-aligner: noWaitFor radar", () => {
  /** Camera at 0, 50, 100 … ms; radar 20 ms after each camera frame (the simulator's phases); each arrives 1 ms after its stamp. */
  function drive(): SensorMessage<Modality>[] {
    const out: SensorMessage<Modality>[] = [];
    for (let ms = 0; ms < 1000; ms += 50) {
      out.push(msg("camera", BigInt(ms) * MS, {}, BigInt(ms + 1) * MS));
      out.push(msg("radar", BigInt(ms + 20) * MS, reading("radar", BigInt(ms + 20) * MS), BigInt(ms + 21) * MS));
    }
    return out;
  }
  const run = (noWaitFor: AlignerConfig["noWaitFor"], extrapolate: AlignerConfig["extrapolate"] = []): FusedFrame[] => {
    const aligner = new FrameAligner({ inOrderPerTopic: true, noWaitFor, extrapolate });
    const frames: FusedFrame[] = [];
    for (const m of drive()) frames.push(...aligner.push(m, m.receiveNs));
    return frames;
  };

  it("waits for the nearer scan after the camera by default, and not at all with radar in noWaitFor (the scan before it)", () => {
    const waiting = run(["gnss", "ego"]);
    assert.ok(waiting.length >= 19);
    for (const f of waiting) {
      assert.equal(f.emittedNs - f.slots.camera!.receiveNs, 20n * MS);
      assert.equal(f.slots.radar!.stampNs - f.stampNs, 20n * MS);
    }
    const now = run(["gnss", "ego", "radar"]);
    assert.equal(now.length, 20);
    for (const f of now) {
      assert.equal(f.emittedNs, f.slots.camera!.receiveNs, "emitted on the camera's arrival");
      if (f.stampNs > 0n) assert.equal(f.stampNs - f.slots.radar!.stampNs, 30n * MS, "the scan before the camera");
      else assert.equal(f.slots.radar, undefined, "none yet at the start");
    }
  });
  it("with radar also in extrapolate: the scan before the camera, its returns moved to the camera's stamp; a waited-for scan as measured", () => {
    const moved = run(["gnss", "ego", "radar"], ["gnss", "ego", "radar"]);
    assert.equal(moved.length, 20);
    for (const f of moved.slice(1)) {
      assert.equal(f.emittedNs, f.slots.camera!.receiveNs, "still emitted on the camera's arrival");
      const r = f.slots.radar!;
      assert.deepEqual([r.extrapolated, r.stampNs, r.ageNs, r.inputs![0]!.stampNs], [true, f.stampNs, 30n * MS, f.stampNs - 30n * MS]);
      // reading() has no radial velocity: the ranges stay; the stamp field is the frame's.
      assert.equal((r.message as { returns: { range_m: number }[] }).returns[0]!.range_m, 20 + Number(f.stampNs - 30n * MS) / 1e9);
    }
    // Replay rebuilds each frame from its recorded inputs with the same config: the same slots.
    const config = resolveAlignerConfig({ inOrderPerTopic: true, noWaitFor: ["gnss", "ego", "radar"], extrapolate: ["gnss", "ego", "radar"] });
    const pool = drive();
    for (const f of moved) {
      const inputs = frameInputs(f).map((i) => ({ modality: i.modality, message: pool.find((m) => m.topic === i.topic && m.stampNs === i.stampNs)! }));
      assert.deepStrictEqual(frameFromInputs(inputs, config, f.seq, f.emittedNs)!.slots, f.slots);
    }
    // Radar waited for (not in noWaitFor): the nearest scan, 20 ms after the camera, not moved.
    for (const f of run(["gnss", "ego"], ["gnss", "ego", "radar"])) {
      assert.deepEqual([f.slots.radar!.extrapolated, f.slots.radar!.stampNs - f.stampNs], [undefined, 20n * MS]);
    }
  });
});

describe("pipeline/frame-aligner: radarScan latest", () => {
  /** Camera at 0, 50, 100 … ms arriving cameraLatencyMs late; radar 20 ms after each camera frame, arriving 1 ms after its stamp. */
  function drive(cameraLatencyMs: number): SensorMessage<Modality>[] {
    const out: SensorMessage<Modality>[] = [];
    for (let ms = 0; ms < 1000; ms += 50) {
      out.push(msg("camera", BigInt(ms) * MS, {}, BigInt(ms + cameraLatencyMs) * MS));
      out.push(msg("radar", BigInt(ms + 20) * MS, reading("radar", BigInt(ms + 20) * MS), BigInt(ms + 21) * MS));
    }
    return out.sort((a, b) => (a.receiveNs < b.receiveNs ? -1 : a.receiveNs > b.receiveNs ? 1 : 0));
  }
  const run = (config: AlignerConfig, cameraLatencyMs: number): FusedFrame[] => {
    const aligner = new FrameAligner({ inOrderPerTopic: true, ...config });
    const frames: FusedFrame[] = [];
    for (const m of drive(cameraLatencyMs)) frames.push(...aligner.push(m, m.receiveNs));
    return frames;
  };
  const radarOffsets = (frames: FusedFrame[]): (number | undefined)[] => frames.map((f) => (f.slots.radar ? Number(f.slots.radar.inputs![0]!.stampNs - f.stampNs) / 1e6 : undefined));

  it("holds the scan before the camera whatever the camera's latency, where noWaitFor radar alone takes whichever arrived", () => {
    const latest: AlignerConfig = { radarScan: "latest", extrapolate: ["gnss", "ego", "radar"] };
    const fast = run(latest, 1);
    const slow = run(latest, 30); // the scan after the camera (t + 20, arriving t + 21) is in before the camera
    assert.equal(fast.length, 20);
    assert.deepEqual(radarOffsets(fast), radarOffsets(slow), "the same scans at 1 and 30 ms of camera latency");
    assert.deepEqual(radarOffsets(fast).slice(1), Array(19).fill(-30), "each the scan 30 ms before the camera");
    for (const f of [...fast, ...slow]) assert.equal(f.emittedNs, f.slots.camera!.receiveNs, "never waits for radar");
    for (const f of fast.slice(1)) assert.deepEqual([f.slots.radar!.extrapolated, f.slots.radar!.stampNs, f.slots.radar!.ageNs], [true, f.stampNs, 30n * MS], "moved to the camera stamp");
    // noWaitFor radar with the nearest scan depends on arrival: at 30 ms of camera latency it takes the one after.
    const nearestFast = radarOffsets(run({ noWaitFor: ["gnss", "ego", "radar"] }, 1));
    const nearestSlow = radarOffsets(run({ noWaitFor: ["gnss", "ego", "radar"] }, 30));
    assert.deepEqual(nearestFast.slice(1), Array(19).fill(-30));
    assert.deepEqual(nearestSlow, Array(20).fill(20));
  });
  it("joins noWaitFor when resolved, and replay rebuilds its frames from their recorded inputs", () => {
    const config = resolveAlignerConfig({ inOrderPerTopic: true, radarScan: "latest", noWaitFor: ["gnss"], extrapolate: ["radar"] });
    assert.deepEqual([...config.noWaitFor], ["gnss", "radar"]);
    const frames = run({ radarScan: "latest", noWaitFor: ["gnss"], extrapolate: ["radar"] }, 30);
    const pool = drive(30);
    for (const f of frames) {
      const inputs = frameInputs(f).map((i) => ({ modality: i.modality, message: pool.find((m) => m.topic === i.topic && m.stampNs === i.stampNs)! }));
      assert.deepStrictEqual(frameFromInputs(inputs, config, f.seq, f.emittedNs)!.slots, f.slots);
    }
  });
  it("has no radar slot when the latest scan is older than the tolerance (never one after the camera)", () => {
    const aligner = new FrameAligner({ inOrderPerTopic: true, radarScan: "latest", radarToleranceNs: 25n * MS });
    const frames: FusedFrame[] = [];
    for (const m of drive(1)) frames.push(...aligner.push(m, m.receiveNs));
    assert.ok(frames.length >= 19);
    for (const f of frames) assert.equal(f.slots.radar, undefined, "the scan before is 30 ms old; the one after is not taken");
  });
});

describe("pipeline/frame-aligner: radarMinIntervalNs", () => {
  /** A 30 Hz camera (0, 40, 70, 100, … ms) and a 20 Hz radar sampling at 20, 70, 120, …; each arrives at its stamp. */
  function drive(radarEveryMs = 50): SensorMessage<Modality>[] {
    const out: SensorMessage<Modality>[] = [];
    for (let tick = 0; tick < 100; tick++) {
      if (tick === 0 || Math.floor((tick * 30) / 100) > Math.floor(((tick - 1) * 30) / 100)) out.push(msg("camera", BigInt(tick * 10) * MS));
      if ((tick * 10 - 20) % radarEveryMs === 0 && tick * 10 >= 20) out.push(msg("radar", BigInt(tick * 10) * MS, reading("radar", BigInt(tick * 10) * MS)));
    }
    return out;
  }
  const run = (radarMinIntervalNs: bigint, radarEveryMs?: number): { frames: FusedFrame[]; early: number } => {
    const a = new FrameAligner({ inOrderPerTopic: true, radarMinIntervalNs });
    const frames: FusedFrame[] = [];
    for (const m of drive(radarEveryMs)) frames.push(...a.push(m, m.receiveNs));
    return { frames, early: a.stats.radarEarly };
  };
  const waitMs = (f: FusedFrame): number => Number(f.emittedNs - f.slots.camera!.receiveNs) / 1e6;

  it("takes the same scans without waiting for one that cannot be nearer: a 30 Hz camera's wait drops from up to 30 ms to up to 20", () => {
    const proof = run(0n).frames;
    const known = run(40n * MS).frames;
    assert.equal(known.length, proof.length);
    assert.deepEqual(known.map((f) => f.slots.radar?.stampNs), proof.map((f) => f.slots.radar?.stampNs), "the same scan in every frame");
    assert.equal(Math.max(...proof.map(waitMs)), 30);
    assert.equal(Math.max(...known.map(waitMs)), 20, "only for the scan after the camera when it is the nearer one");
    // The frame at 40 ms: its scan (20) is 20 ms away and the next cannot come before 60: it leaves at once.
    assert.equal(waitMs(known.find((f) => f.stampNs === 40n * MS)!), 0);
    assert.equal(waitMs(proof.find((f) => f.stampNs === 40n * MS)!), 30);
  });

  it("counts scans that come sooner than the interval (frames may then leave with one that is not the nearest)", () => {
    assert.equal(run(40n * MS).early, 0);
    const fast = run(40n * MS, 30);
    assert.ok(fast.early > 20, String(fast.early));
    assert.equal(run(0n, 30).early, 0);
  });
});
