import assert from "node:assert/strict";
import fc from "fast-check";
import { DEFAULT_FEATURE_CONFIG } from "../../../fusion/features/config.ts";
import { logMel, melFilterbank, pcmToMono, voiceFeatures } from "../../../fusion/features/voice.ts";

const cfg = DEFAULT_FEATURE_CONFIG;
function tone(freq: number, seconds: number, rate = 16000, channels = 1): Uint8Array {
  const n = Math.round(seconds * rate);
  const buf = new Uint8Array(n * 2 * channels);
  const v = new DataView(buf.buffer);
  for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) v.setInt16((i * channels + c) * 2, Math.round(0.5 * 32767 * Math.sin((2 * Math.PI * freq * i) / rate)), true);
  return buf;
}
/** Mel bin with the most energy in the first frame of a log-mel. */
function peakBin(samples: Float32Array): number {
  const { data } = logMel(samples, cfg.voice);
  let best = 0;
  for (let m = 1; m < cfg.voice.mels; m++) if (data[m]! > data[best]!) best = m;
  return best;
}

describe("fusion/features/voice", () => {
  it("a higher tone peaks in a higher mel bin", () => {
    const lo = peakBin(pcmToMono(tone(300, 0.5), 1, 16000, 16000));
    const hi = peakBin(pcmToMono(tone(3000, 0.5), 1, 16000, 16000));
    assert.ok(hi > lo + 5, `300 Hz → bin ${lo}, 3 kHz → bin ${hi}`);
  });

  it("stereo and 8 kHz input are mixed down and resampled to the same spectrum", () => {
    const mono = pcmToMono(tone(1000, 0.5), 1, 16000, 16000);
    const stereo = pcmToMono(tone(1000, 0.5, 16000, 2), 2, 16000, 16000);
    assert.deepEqual(Array.from(stereo), Array.from(mono));
    assert.equal(peakBin(pcmToMono(tone(1000, 0.5, 8000), 1, 8000, 16000)), peakBin(mono));
  });

  it("mel filters are triangles that cover the band", () => {
    const f = melFilterbank(32, 512, 16000);
    assert.equal(f.length, 32);
    for (const filt of f) assert.ok(Math.max(...filt) > 0.5 && Math.max(...filt) <= 1);
  });

  it("gives [frames, mels] normalised features; too-short audio is missing, not zeros", () => {
    const f = voiceFeatures({ data: tone(500, 1), sample_rate: 16000, number_of_channels: 1, format: "pcm-s16" }, cfg);
    assert.ok(f.present);
    assert.equal(f.values.length, cfg.voice.frames * cfg.voice.mels);
    assert.equal(voiceFeatures({ data: new Uint8Array(10), sample_rate: 16000 }, cfg).present, false);
    assert.equal(voiceFeatures(undefined, cfg).present, false);
  });

  it("is finite for any PCM (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1000, maxLength: 8000 }), (bytes) => {
        const f = voiceFeatures({ data: bytes.length % 2 ? bytes.slice(1) : bytes, sample_rate: 16000, number_of_channels: 1 }, cfg);
        assert.ok(f.values.every(Number.isFinite));
      }),
      { numRuns: 30 },
    );
  });
});
