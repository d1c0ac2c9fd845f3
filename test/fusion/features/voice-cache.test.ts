/**
 * voiceFeatures computes an utterance's features once per decoded message (the same message object sits
 * in the voice slot of ~100 frames): what it returns must equal a fresh computation, bit for bit, and
 * must be the caller's own copy.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { DEFAULT_FEATURE_CONFIG, type FeatureConfig } from "../../../fusion/features/config.ts";
import { voiceFeatures } from "../../../fusion/features/voice.ts";

const cfg = DEFAULT_FEATURE_CONFIG;
const bits = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe("fusion/features/voice: per-message cache", () => {
  it("the same message object gives the same bits as a fresh copy of it, every time (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1000, maxLength: 20000 }), fc.constantFrom(8000, 16000, 44100), (bytes, rate) => {
        const msg = { data: bytes.length % 2 ? bytes.slice(1) : bytes, sample_rate: rate, number_of_channels: 1, format: "pcm-s16" };
        const first = voiceFeatures(msg, cfg);
        const again = voiceFeatures(msg, cfg);
        const fresh = voiceFeatures({ ...msg, data: msg.data.slice() }, cfg);
        assert.equal(again.present, fresh.present);
        assert.equal(again.problem, fresh.problem);
        assert.deepEqual(bits(first.values), bits(fresh.values));
        assert.deepEqual(bits(again.values), bits(fresh.values));
      }),
      { numRuns: 25 },
    );
  });

  it("hands out copies: writing into one result does not change the next", () => {
    const data = new Uint8Array(32000).map((_, i) => (i * 37) % 251);
    const msg = { data, sample_rate: 16000, number_of_channels: 1 };
    const keep = voiceFeatures(msg, cfg).values.slice();
    for (let i = 0; i < 3; i++) {
      const got = voiceFeatures(msg, cfg);
      assert.deepEqual(bits(got.values), bits(keep));
      got.values.fill(42);
    }
  });

  it("recomputes when the message's data or the config changes", () => {
    const msg: Record<string, unknown> = { data: new Uint8Array(32000).map((_, i) => (i * 13) % 256), sample_rate: 16000 };
    const a = voiceFeatures(msg, cfg).values.slice();
    msg["data"] = new Uint8Array(32000).map((_, i) => (i * 29) % 256);
    const b = voiceFeatures(msg, cfg).values;
    assert.deepEqual(bits(b), bits(voiceFeatures({ ...msg }, cfg).values));
    assert.notDeepEqual(bits(b), bits(a));
    const other: FeatureConfig = { ...cfg, voice: { ...cfg.voice, frames: 16 } };
    assert.equal(voiceFeatures(msg, other).values.length, 16 * cfg.voice.mels);
  });
});
