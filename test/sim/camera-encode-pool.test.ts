/**
 * The simulator's camera encoding off its main thread (sim/camera-encode-pool.ts, live mode): the workers give the
 * bytes the inline encoder gives (pinned by hash, so that neither path drifts), the queue is bounded with counted
 * drops, and live mode publishes the same frames as the episode does inline.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { CameraEncodePool } from "../../sim/camera-encode-pool.ts";
import { Episode, type EpisodeOptions, type SimMessage } from "../../sim/episode.ts";
import { startLiveSim } from "../../sim/live.ts";
import { randomScenario, type ScenarioSpec } from "../../sim/scenario.ts";
import type { CameraEncodeJob } from "../../sim/sensors/camera-encode.ts";
import type { CameraSetSpec } from "../../sim/sensors/camera-set.ts";

const SPEC = randomScenario(7, 10, "camera-set");
const SET: CameraSetSpec = { ids: ["front", "rear", "left", "right"], width: 1280, height: 720 };
/** sha256 of 1 s of every message's topic, stamps and camera bytes (as computed before the encoding could be deferred). */
const GOLDEN = {
  set4x720p: "7c73340fab19e66bc82a0faa6043fb14989e30eac1840f617e807c5b1e12d4b8",
  set2x96: "63a592907cc67841eb772474edfa414225b50a96a62e1fac1a584b39a492ab66",
};

/** 1 s of an episode's messages; deferred frames encoded by `encode` (in order) before they are hashed. */
async function hashOf(options: EpisodeOptions, encode?: (job: CameraEncodeJob) => Promise<Uint8Array>): Promise<string> {
  const ep = new Episode(SPEC, options);
  const h = createHash("sha256");
  const add = async (ms: SimMessage[]): Promise<void> => {
    for (const m of ms) {
      h.update(m.topic).update(String(m.stampNs)).update(String(m.receiveNs));
      if (m.kind !== "camera") continue;
      if (m.encode) {
        assert.ok(encode, "a deferred frame without an encoder");
        assert.equal((m.message as { data: Uint8Array }).data.length, 0, "a deferred frame comes without bytes");
        (m.message as { data: Uint8Array }).data = await encode(m.encode);
      }
      h.update((m.message as { data: Uint8Array }).data);
    }
  };
  await add(ep.start());
  while (!ep.done && ep.world.t < 1) await add(ep.advance({ action: "KEEP", targetSpeedMps: 12 }));
  return h.digest("hex");
}

/** A small job (a 4 × 4-block frame) for the queue tests. */
const tinyJob = (): CameraEncodeJob => ({ kind: "jpeg", rgba: new Uint8Array(32 * 32 * 4).fill(128), width: 32, height: 32, quality: 85 });

describe("sim/camera-encode-pool: camera frames encoded off the simulator's main thread", function () {
  this.timeout(60_000);
  let pool: CameraEncodePool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  it("inline and in a worker, 4 × 1280×720 and 2 × 96×96 frames are the golden bytes", async () => {
    assert.equal(await hashOf({ cameraSet: SET }), GOLDEN.set4x720p);
    assert.equal(await hashOf({ cameraSet: { ids: ["front", "left"], width: 96, height: 96 } }), GOLDEN.set2x96);
    pool = new CameraEncodePool({ workers: 2 });
    const viaPool = async (job: CameraEncodeJob): Promise<Uint8Array> => {
      const r = await pool!.encode(job);
      assert.ok(r.ok && !r.inline, "encoded in a worker");
      return r.data;
    };
    assert.equal(await hashOf({ cameraSet: SET, deferCameraEncode: true }, viaPool), GOLDEN.set4x720p);
    assert.equal(await hashOf({ cameraSet: { ids: ["front", "left"], width: 96, height: 96 }, deferCameraEncode: true }, viaPool), GOLDEN.set2x96);
    assert.equal(pool.stats().dropped.queue_full, 0);
  });

  it("is bounded: past one in flight and `maxQueued` waiting, the oldest waiting frame is dropped and counted", async () => {
    pool = new CameraEncodePool({ workers: 1, maxQueued: 2 });
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => pool!.encode(tinyJob())));
    // The first goes to the worker at once; of the five after it only the last two are still waiting at the end.
    assert.deepEqual(
      outcomes.map((o) => (o.ok ? "ok" : o.dropped)),
      ["ok", "queue_full", "queue_full", "queue_full", "ok", "ok"],
    );
    const st = pool.stats();
    assert.equal(st.dropped.queue_full, 3);
    assert.equal(st.encoded, 3);
    assert.equal(st.queued + st.inFlight, 0);
  });

  it("closes cleanly: waiting frames resolve as closed, the one in flight finishes, later calls resolve as closed", async () => {
    // A generous close timeout: the in-flight frame must finish even on a loaded machine (a worker's start can take seconds).
    pool = new CameraEncodePool({ workers: 1, maxQueued: 4, closeTimeoutMs: 30_000 });
    const pending = [pool.encode(tinyJob()), pool.encode(tinyJob()), pool.encode(tinyJob())];
    await pool.close();
    assert.deepEqual(
      (await Promise.all(pending)).map((o) => (o.ok ? "ok" : o.dropped)),
      ["ok", "closed", "closed"],
    );
    assert.equal((await pool.encode(tinyJob())).ok, false);
    assert.equal(pool.stats().dropped.closed, 3);
  });

  it("a worker that dies fails its frame with a reason and is replaced; with none left frames are encoded inline", async () => {
    const crash = new URL("data:text/javascript," + encodeURIComponent("import { parentPort } from 'node:worker_threads'; parentPort.on('message', () => process.exit(3));"));
    pool = new CameraEncodePool({ workers: 1, workerUrl: crash });
    const first = await pool.encode(tinyJob());
    assert.ok(!first.ok && first.dropped === "worker_failed" && /exited with code 3/.test(first.reason), JSON.stringify(first));
    assert.equal(pool.stats().workerRestarts, 1);
    for (let i = 0; i < 6; i++) await pool.encode(tinyJob());
    const last = await pool.encode(tinyJob());
    assert.ok(last.ok && last.inline && last.data.length > 100, "no workers left: inline, never stalled");
  });

  it("live mode publishes the frames the episode encodes inline, byte for byte, and reports how late each kind was sent", async () => {
    const scenario: ScenarioSpec = { ...SPEC, durationS: 0.6 };
    const live = async (cameraWorkers: number): Promise<{ frames: Map<string, string>; stats: Awaited<ReturnType<typeof startLiveSim>["done"]>["stats"] }> => {
      // In real time (a start in the past would have the episode run flat out, past what one worker and a
      // bounded queue keep up with): frames keyed by topic and offset from the first stamp.
      const raw: [string, number, string][] = [];
      const sim = startLiveSim({
        sink: {
          publish: (topic, message) => {
            const m = message as { timestamp?: { seconds: number; nanos: number }; data?: Uint8Array };
            if (topic.includes("/camera/")) {
              raw.push([topic, m.timestamp!.seconds * 1e3 + m.timestamp!.nanos / 1e6, createHash("sha256").update(m.data!).digest("hex")]);
            }
            return Promise.resolve({ ok: true });
          },
        },
        scenario,
        sensors: ["camera", "radar", "ego"],
        cameraSet: SET,
        cameraWorkers,
        // Room for every frame of the run: on a loaded machine a starved main thread catches up in bursts that
        // the default queue (8) meets by dropping, which this test is not about.
        cameraQueue: 64,
        latencyScale: 0,
        driver: "expert",
      });
      const stats = (await sim.done).stats;
      const t0 = Math.min(...raw.map((r) => r[1]));
      return { frames: new Map(raw.map(([topic, t, hash]) => [`${topic}@${Math.round(t - t0)}ms`, hash])), stats };
    };
    const inline = await live(0);
    const workers = await live(1);
    assert.equal(inline.frames.size, 4 * 13, "13 sets in 0.6 s (the first at 0)");
    assert.deepEqual([...workers.frames].sort(), [...inline.frames].sort());
    assert.equal(workers.stats.cameraDropped, 0);
    assert.equal(workers.stats.cameraEncode?.encoded, 4 * 13 + 12, "the episode's frames and 3 warm-up sets");
    assert.equal(inline.stats.cameraEncode, undefined);
    for (const kind of ["camera", "radar", "ego"]) assert.ok((workers.stats.sendLateMs[kind]?.n ?? 0) > 0, `${kind} send lateness`);
  });
});
