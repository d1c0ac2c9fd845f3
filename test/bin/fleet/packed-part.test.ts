/**
 * Open-loop results packed in columns for Redis (bin/fleet/packed-part.ts): they unpack to the part
 * exactly — every number's bits, optional fields, key order — so the merged report is the single-process
 * one, and they are much smaller than the gzip'd JSON they replace.
 */
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { FakeModelRunner, makeInputSpec } from "../../../fusion/index.ts";
import { ACTION_CLASSES } from "../../../eval/score/open-loop.ts";
import { MODALITIES } from "../../../schemas/index.ts";
import { scenariosOf } from "../../../sim/scenarios.ts";
import { evalModelOf } from "../../../eval/run/decider.ts";
import { memoryOpener, mergeOpenLoop, openLoopFile, runOpenLoop, type OpenLoopFilePart } from "../../../eval/run/open-loop.ts";
import { decodeResult, encodeOpenLoopPart, encodeResult } from "../../../eval/fleet/jobs.ts";
import { packOpenLoopPart, unpackOpenLoopPart } from "../../../eval/fleet/packed-part.ts";
import { recordDrive } from "../eval-helpers.ts";

const meta = { worker: "w", backend: "cpu", ms: 1 };

describe("fleet: open-loop parts packed in columns", function () {
  this.timeout(120_000);

  it("any part unpacks to itself: numbers bit for bit (NaN, -0, ±Infinity), optional fields, key order", () => {
    const num = fc.double();
    const state = fc.constantFrom("ok" as const, "stale" as const, "missing" as const);
    const sensors = fc.dictionary(fc.constantFrom("camera", "radar", "lidar", "gnss"), state, { noNullPrototype: true });
    const record = fc.record(
      {
        episode: fc.string({ maxLength: 6 }),
        tS: num,
        truth: fc.integer({ min: 0, max: 4 }),
        pred: fc.integer({ min: -1, max: 4 }),
        probs: fc.array(fc.oneof(num, fc.float()), { maxLength: 5 }),
        conditions: fc.record({ weather: fc.constantFrom("CLEAR", "RAIN"), tunnel: fc.constantFrom("in tunnel", "open road") }),
        alignMs: num,
        inferenceMs: num,
        override: fc.string({ maxLength: 8 }),
        sensors,
      },
      { requiredKeys: ["episode", "tS", "truth", "pred", "conditions", "alignMs", "inferenceMs", "override", "sensors"] },
    );
    const point = fc.record(
      { tS: num, decision: fc.string({ maxLength: 10 }), expert: fc.string({ maxLength: 10 }), sensors, speedMps: fc.oneof(num, fc.float()), collision: fc.boolean() },
      { requiredKeys: ["tS", "decision", "expert", "sensors"] },
    );
    const part = fc.record({
      decisions: fc.nat(),
      durationNs: fc.bigInt({ min: 0n, max: 2n ** 63n }).map(String),
      records: fc.array(record, { maxLength: 30 }),
      points: fc.array(fc.tuple(fc.string({ maxLength: 6 }), fc.array(point, { maxLength: 10 })), { maxLength: 4 }),
    });
    fc.assert(
      fc.property(part, (p) => {
        // The keys in the order the producers write them (packing rebuilds that order), plain objects.
        const ordered = {
          ...p,
          records: p.records.map((r) => ({ episode: r.episode, tS: r.tS, truth: r.truth, pred: r.pred, ...("probs" in r ? { probs: r.probs } : {}), conditions: { ...r.conditions }, alignMs: r.alignMs, inferenceMs: r.inferenceMs, override: r.override, sensors: { ...r.sensors } })),
          points: p.points.map(([e, ps]) => [e, ps.map((q) => ({ tS: q.tS, decision: q.decision, expert: q.expert, sensors: { ...q.sensors }, ...("speedMps" in q ? { speedMps: q.speedMps } : {}), ...("collision" in q ? { collision: q.collision } : {}) }))]),
        } as OpenLoopFilePart;
        const back = decodeResult<OpenLoopFilePart>(JSON.parse(JSON.stringify(encodeOpenLoopPart(ordered, meta))));
        assert.deepStrictEqual(back, ordered);
        assert.equal(JSON.stringify(back), JSON.stringify(ordered));
      }),
      { numRuns: 300 },
    );
  });

  it("a recorded drive's parts, packed and unpacked, merge into runOpenLoop's report; packed is a fraction of the JSON", async () => {
    const specs = [{ ...scenariosOf("test")[2]!, durationS: 4 }, { ...scenariosOf("test")[4]!, durationS: 4 }];
    const files = { "a.mcap": await recordDrive([specs[0]!], 4), "b.mcap": await recordDrive([specs[1]!], 4) };
    // Probabilities like a real model's: float32 values that follow the inputs, not one-hot.
    const model = () =>
      evalModelOf(
        new FakeModelRunner(makeInputSpec([...MODALITIES]), (x) => {
          const s = Object.values(x).reduce((a, v) => a + v.reduce((b, y) => b + y, 0), 0);
          const p = ACTION_CLASSES.map((_, i) => Math.abs(Math.sin(s * (i + 1.5))) + 0.01);
          const sum = p.reduce((a, b) => a + b, 0);
          return p.map((v) => Math.fround(v / sum));
        }, { id: "soft", now: () => performance.now(), maxBatch: 16, maxQueue: 64 }),
      );
    const open = memoryOpener(files);
    const whole = await runOpenLoop(["a.mcap", "b.mcap"], model(), { mask: [], open });
    const parts = [await openLoopFile("a.mcap", model(), { mask: [], open }), await openLoopFile("b.mcap", model(), { mask: [], open })];
    const unpacked = parts.map((p) => decodeResult<OpenLoopFilePart>(JSON.parse(JSON.stringify(encodeOpenLoopPart(p, meta)))));
    unpacked.forEach((u, i) => assert.deepStrictEqual(u, parts[i]));
    const merged = mergeOpenLoop(["a.mcap", "b.mcap"], unpacked, { mask: [] });
    const strip = (r: unknown) => JSON.parse(JSON.stringify(r), (k, v: unknown) => (k === "inferenceMs" || k === "totalMs" ? undefined : v));
    assert.deepEqual(strip(merged.report), strip(whole.report));

    const decisions = parts.reduce((a, p) => a + p.records.length, 0);
    assert.ok(decisions > 100, `${decisions} labelled decisions`);
    const jsonGz = parts.reduce((a, p) => a + encodeResult(p, meta).gz.length, 0);
    const packedGz = parts.reduce((a, p) => a + encodeOpenLoopPart(p, meta).gz.length, 0);
    const raw = parts.reduce((a, p) => a + packOpenLoopPart(p).length, 0);
    assert.equal(unpackOpenLoopPart(packOpenLoopPart(parts[0]!)).records.length, parts[0]!.records.length);
    // Base64 in Redis, both ways: bytes per decision as stored.
    console.log(`      ${decisions} decisions: gzip'd JSON ${(jsonGz / decisions).toFixed(0)} B/decision, packed ${(packedGz / decisions).toFixed(0)} B/decision (raw columns ${(raw / decisions).toFixed(0)}, gzip ${(gzipSync(Buffer.concat(parts.map(packOpenLoopPart))).length / decisions).toFixed(0)})`);
    assert.ok(packedGz * 2 < jsonGz, `packed ${packedGz} B is not under half of gzip'd JSON ${jsonGz} B`);
  });
});
