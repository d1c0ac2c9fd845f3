import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_FEATURE_CONFIG, type LabelledSample } from "../../fusion/index.ts";
import { writeDataset } from "../../bin/commands/sim.ts";
import { loadAll, loadPicked, ownBuffers, withoutFeatures } from "../../train/data.ts";
import { compactSplit, inShare, memberSplit } from "../../train/share.ts";

describe("training shares: each holder keeps only the frames it uses (train/share.ts)", () => {
  const split = { train: Array.from({ length: 20 }, (_, i) => i), val: [20, 21, 22, 23] };

  it("members of a phased ensemble take 1 in `every` from their own phase, together every training frame once", () => {
    const shares = [0, 1, 2].map((k) => memberSplit(split, 3, k));
    assert.deepEqual(shares[0]!.train, [0, 3, 6, 9, 12, 15, 18]);
    assert.deepEqual(shares[1]!.train, [1, 4, 7, 10, 13, 16, 19]);
    assert.deepEqual(shares.flatMap((s) => s.train).sort((a, b) => a - b), split.train);
    for (const s of shares) assert.deepEqual(s.val, split.val);
    assert.deepEqual(memberSplit(split, 3, 4).train, shares[1]!.train, "member 4 of every 3: phase 1");
    assert.equal(inShare(7, 3, 1), true);
    assert.equal(inShare(7, 3, 0), false);
  });

  it("a worker's compacted split names the same samples in the same order as the parent's, and keeps no others", () => {
    const all = Array.from({ length: 30 }, (_, i) => `s${i}`);
    // Gapped and out of order, as a split drawn by group is.
    const parent = { train: [13, 1, 4, 28, 7], val: [25, 2, 10] };
    const c = compactSplit(parent);
    const kept = all.filter((_, i) => c.keep(i));
    assert.deepEqual(kept, ["s1", "s2", "s4", "s7", "s10", "s13", "s25", "s28"]);
    assert.deepEqual(c.split.train.map((i) => kept[i]), parent.train.map((i) => all[i]));
    assert.deepEqual(c.split.val.map((i) => kept[i]), parent.val.map((i) => all[i]));
  });

  it("a phased member keeps a third of the training frames and all of validation", () => {
    const c = compactSplit(memberSplit(split, 3, 2));
    const kept = split.train.concat(split.val).filter((i) => c.keep(i));
    assert.deepEqual(kept, [2, 5, 8, 11, 14, 17, 20, 21, 22, 23]);
    assert.deepEqual(c.split.train, [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(c.split.val, [6, 7, 8, 9]);
  });

  it("a sample without its features keeps its label, group and tags; reading its inputs throws", () => {
    const s = { inputs: { presence: new Float32Array(5) }, label: 3, group: "g", tags: { weather: "FOG", inTunnel: false }, aux: { obstacleAhead: 1, command: 0 } } as unknown as LabelledSample;
    const w = withoutFeatures(s);
    assert.equal(w.label, 3);
    assert.equal(w.group, "g");
    assert.deepEqual(w.tags, s.tags);
    assert.throws(() => w.inputs.presence, /dropped/);
  });

  it("a sample kept gets buffers of its own (from the cache its features are views into the whole file's buffer)", () => {
    const file = new ArrayBuffer(1 << 20);
    const s = { inputs: { camera: new Float32Array(file, 4096, 3072), presence: new Float32Array(file, 64, 10) }, label: 1, group: "g", tags: { weather: "CLEAR", inTunnel: false }, aux: { obstacleAhead: 0, command: 0 } } as unknown as LabelledSample;
    s.inputs.camera[5] = 0.5;
    const own = ownBuffers(s);
    for (const v of Object.values(own.inputs)) assert.equal(v.buffer.byteLength, v.byteLength);
    assert.deepEqual(own.inputs.camera, s.inputs.camera);
    assert.equal(own.label, 1);
  });

  describe("on recordings", function () {
    this.timeout(120_000);
    let work: string;
    const train: string[] = [];
    const val: string[] = [];
    before(async () => {
      work = mkdtempSync(join(tmpdir(), "fusiond-share-"));
      for (const [seed, into] of [[9301, train], [9302, train], [9303, val]] as const) {
        const f = join(work, `d-${seed}.mcap`);
        await writeDataset(f, seed, 8, { vehicle: "sim", sensors: ["camera", "radar", "gnss", "ego", "voice"], cameraFormat: "jpeg", episodeS: 8, compression: "zstd" });
        into.push(f);
      }
    });
    after(() => work && rmSync(work, { recursive: true, force: true }));

    it("a member worker's samples (loadPicked with its share) are the parent's samples at its split, feature for feature", async () => {
      const config = DEFAULT_FEATURE_CONFIG;
      const parent = [...(await loadAll(train, 1, false, () => {}, config)), ...(await loadAll(val, 3, false, () => {}, config))];
      const nTrain = parent.length - (await loadAll(val, 3, false, () => {}, config)).length;
      assert.ok(nTrain > 30, `${nTrain} training samples`);
      const split = { train: Array.from({ length: nTrain }, (_, i) => i), val: Array.from({ length: parent.length - nTrain }, (_, i) => nTrain + i) };
      for (const k of [0, 1, 2]) {
        const share = memberSplit(split, 3, k);
        const mine = compactSplit(share);
        const samples = await loadPicked([{ files: train, every: 1 }, { files: val, every: 3 }], false, () => {}, config, (s, i) => (mine.keep(i) ? s : undefined));
        assert.equal(samples.length, share.train.length + share.val.length, `member ${k} holds only its share and validation`);
        assert.ok(samples.length < parent.length * 0.5, `member ${k}: ${samples.length} of ${parent.length}`);
        const same = (a: LabelledSample, b: LabelledSample): void => {
          assert.equal(a.label, b.label);
          assert.equal(a.group, b.group);
          for (const name of Object.keys(b.inputs) as (keyof LabelledSample["inputs"])[]) assert.deepEqual(a.inputs[name], b.inputs[name], String(name));
        };
        share.train.forEach((g, j) => same(samples[mine.split.train[j]!]!, parent[g]!));
        share.val.forEach((g, j) => same(samples[mine.split.val[j]!]!, parent[g]!));
      }
    });

    it("a sample kept from the feature cache holds its own buffers, not its whole file's", async () => {
      const tmp = process.env.TMPDIR;
      process.env.TMPDIR = work; // the cache under this test's directory
      try {
        const config = DEFAULT_FEATURE_CONFIG;
        await loadAll(train.slice(0, 1), 1, true, () => {}, config); // fills the cache
        const whole = await loadAll(train.slice(0, 1), 1, true, () => {}, config);
        const kept = await loadPicked([{ files: train.slice(0, 1), every: 1 }], true, () => {}, config, (s, i) => (i % 3 === 0 ? s : undefined));
        for (const s of kept) for (const v of Object.values(s.inputs)) assert.equal(v.buffer.byteLength, v.byteLength);
        assert.deepEqual(kept[1]!.inputs.camera, whole[3]!.inputs.camera);
      } finally {
        if (tmp === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = tmp;
      }
    });

    it("the parent's lean load keeps member 0's features and the others' labels", async () => {
      const config = DEFAULT_FEATURE_CONFIG;
      const full = await loadAll(train, 1, false, () => {}, config);
      const lean = await loadPicked([{ files: train, every: 1 }], false, () => {}, config, (s, i) => (inShare(i, 3, 0) ? s : withoutFeatures(s)));
      assert.deepEqual(lean.map((s) => s.label), full.map((s) => s.label));
      assert.deepEqual(lean[3]!.inputs.camera, full[3]!.inputs.camera);
      assert.throws(() => lean[4]!.inputs.camera, /dropped/);
    });
  });
});
