/**
 * Voice features: PCM s16le (mono or interleaved channels, any rate resampled to 16 kHz) → Hann-windowed
 * frames → power spectrum (fft.js real FFT) → mel filterbank → log → per-utterance normalisation →
 * mean-pooled to a fixed number of time frames: shape [frames, mels]. Keyword/intent recognition is the
 * learned voice encoder on top of this (pretrained on the command task).
 */
import FFT from "fft.js";
import type { VoiceMessage } from "../../schemas/index.ts";
import type { FeatureConfig } from "./config.ts";

type VoiceCfg = FeatureConfig["voice"];

const hzToMel = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
const melToHz = (mel: number): number => 700 * (10 ** (mel / 2595) - 1);

/** Triangular mel filters over the FFT bins 0..fftSize/2 (HTK formula), 20 Hz .. Nyquist. */
export function melFilterbank(mels: number, fftSize: number, sampleRate: number): Float32Array[] {
  const bins = fftSize / 2 + 1;
  const lo = hzToMel(20);
  const hi = hzToMel(sampleRate / 2);
  const edges = Array.from({ length: mels + 2 }, (_, i) => (melToHz(lo + ((hi - lo) * i) / (mels + 1)) * fftSize) / sampleRate);
  return Array.from({ length: mels }, (_, m) => {
    const f = new Float32Array(bins);
    const [a, b, c] = [edges[m]!, edges[m + 1]!, edges[m + 2]!];
    for (let k = 0; k < bins; k++) {
      if (k > a && k < b) f[k] = (k - a) / (b - a);
      else if (k >= b && k < c) f[k] = (c - k) / (c - b);
    }
    return f;
  });
}

interface Plan {
  fft: FFT;
  window: Float32Array;
  filters: Float32Array[];
  /** Non-zero bin range [lo, hi) of each filter: the triangles are sparse, so only those bins are summed. */
  ranges: [number, number][];
  frameIn: number[];
  spectrum: number[];
}
const plans = new Map<string, Plan>();
function planFor(cfg: VoiceCfg): Plan {
  const key = JSON.stringify(cfg);
  let p = plans.get(key);
  if (!p) {
    const fft = new FFT(cfg.fftSize);
    const window = new Float32Array(cfg.windowSize).map((_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (cfg.windowSize - 1)));
    const filters = melFilterbank(cfg.mels, cfg.fftSize, cfg.sampleRate);
    const ranges = filters.map((f): [number, number] => {
      const lo = f.findIndex((v) => v > 0);
      let hi = f.length;
      while (hi > 0 && f[hi - 1] === 0) hi--;
      return lo < 0 ? [0, 0] : [lo, hi];
    });
    p = { fft, window, filters, ranges, frameIn: new Array(cfg.fftSize).fill(0), spectrum: fft.createComplexArray() as number[] };
    plans.set(key, p);
  }
  return p;
}

/** PCM s16le → mono float samples at `targetRate` (channels averaged; linear resampling). */
export function pcmToMono(data: Uint8Array, channels: number, rate: number, targetRate: number): Float32Array {
  const ch = Math.max(1, channels);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const n = Math.floor(data.byteLength / 2 / ch);
  const mono = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < ch; c++) s += view.getInt16((i * ch + c) * 2, true);
    mono[i] = s / ch / 32768;
  }
  if (rate === targetRate || rate <= 0) return mono;
  const out = new Float32Array(Math.floor((n * targetRate) / rate));
  for (let i = 0; i < out.length; i++) {
    const t = (i * rate) / targetRate;
    const j = Math.floor(t);
    const f = t - j;
    out[i] = (mono[j] ?? 0) * (1 - f) + (mono[j + 1] ?? mono[j] ?? 0) * f;
  }
  return out;
}

/** Log-mel spectrogram [numFrames × mels], row-major, of at most maxSeconds of audio from its start. */
export function logMel(samples: Float32Array, cfg: VoiceCfg): { data: Float32Array; frames: number } {
  const plan = planFor(cfg);
  const len = Math.min(samples.length, Math.round(cfg.maxSeconds * cfg.sampleRate));
  const frames = Math.max(0, Math.floor((len - cfg.windowSize) / cfg.hop) + 1);
  const out = new Float32Array(frames * cfg.mels);
  const bins = cfg.fftSize / 2 + 1;
  const power = new Float32Array(bins);
  for (let f = 0; f < frames; f++) {
    const start = f * cfg.hop;
    for (let i = 0; i < cfg.fftSize; i++) plan.frameIn[i] = i < cfg.windowSize ? samples[start + i]! * plan.window[i]! : 0;
    plan.fft.realTransform(plan.spectrum, plan.frameIn);
    for (let k = 0; k < bins; k++) {
      const re = plan.spectrum[2 * k]!;
      const im = plan.spectrum[2 * k + 1]!;
      power[k] = re * re + im * im;
    }
    for (let m = 0; m < cfg.mels; m++) {
      const filt = plan.filters[m]!;
      const [lo, hi] = plan.ranges[m]!;
      let e = 0;
      for (let k = lo; k < hi; k++) e += filt[k]! * power[k]!;
      out[f * cfg.mels + m] = Math.log(e + 1e-10);
    }
  }
  return { data: out, frames };
}

export interface VoiceFeatures {
  present: boolean;
  /** [frames, mels]. */
  values: Float32Array;
  problem?: string;
}

/**
 * Log-mel pooled to cfg.frames time steps (mean over equal spans of the analysis frames; padding frames
 * after the end of the audio stay 0), normalised by the utterance's own mean and std so that gain and
 * stationary cabin noise level do not shift the features.
 */
export function voiceFeatures(msg: Partial<VoiceMessage> | undefined, cfg: FeatureConfig): VoiceFeatures {
  if (!msg) return { present: false, values: new Float32Array(cfg.voice.frames * cfg.voice.mels) };
  // An utterance stays in the frames' voice slot for seconds (voiceMaxAgeS), i.e. in ~100 frames: the same
  // decoded message object each time. Its features are a function of the message and the config alone, so
  // they are computed once per message and handed out as copies (callers may write into their arrays).
  const hit = voiceCache.get(msg);
  if (hit && hit.cfg === cfg.voice && hit.data === msg.data) return copyOf(hit.result);
  const result = computeVoiceFeatures(msg, cfg);
  voiceCache.set(msg, { cfg: cfg.voice, data: msg.data, result });
  return copyOf(result);
}

/** Per decoded message (weakly held: an entry lives as long as its message), the features last computed for it. */
const voiceCache = new WeakMap<Partial<VoiceMessage>, { cfg: VoiceCfg; data: unknown; result: VoiceFeatures }>();

const copyOf = (f: VoiceFeatures): VoiceFeatures => ({ ...f, values: f.values.slice() });

function computeVoiceFeatures(msg: Partial<VoiceMessage>, cfg: FeatureConfig): VoiceFeatures {
  const v = cfg.voice;
  const values = new Float32Array(v.frames * v.mels);
  const data = msg.data;
  if (!(data instanceof Uint8Array) || data.byteLength < 2 * v.windowSize) return { present: false, values, problem: "audio too short" };
  const format = String(msg.format ?? "pcm-s16").toLowerCase();
  if (format && !/s16|pcm|^$/.test(format)) return { present: false, values, problem: `unsupported audio format "${format}"` };
  const channels = Number(msg.number_of_channels ?? 1) || 1;
  const rate = Number(msg.sample_rate ?? v.sampleRate) || v.sampleRate;
  // Only the first maxSeconds are analysed: resample no more (plus the one sample interpolation reads past
  // it). Resampling all of it made a 64 KB message at 1 Hz take 33 s and a 4 MiB one throw (fuzzed, issue 22).
  const used = Math.min(data.byteLength, (Math.ceil(v.maxSeconds * rate) + 2) * 2 * channels);
  const samples = pcmToMono(data.subarray(0, used), channels, rate, v.sampleRate);
  const { data: mel, frames } = logMel(samples, v);
  if (frames === 0) return { present: false, values, problem: "audio too short" };
  let mean = 0;
  for (const x of mel) mean += x;
  mean /= mel.length;
  let varSum = 0;
  for (const x of mel) varSum += (x - mean) ** 2;
  const std = Math.sqrt(varSum / mel.length) + 1e-3;
  const maxFrames = Math.floor((v.maxSeconds * v.sampleRate - v.windowSize) / v.hop) + 1;
  const span = maxFrames / v.frames;
  for (let t = 0; t < v.frames; t++) {
    const a = Math.floor(t * span);
    const b = Math.min(frames, Math.max(a + 1, Math.floor((t + 1) * span)));
    if (a >= frames) break;
    for (let m = 0; m < v.mels; m++) {
      let s = 0;
      for (let f = a; f < b; f++) s += mel[f * v.mels + m]!;
      values[t * v.mels + m] = (s / (b - a) - mean) / std;
    }
  }
  return { present: true, values };
}
