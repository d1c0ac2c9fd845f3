/**
 * Makes the voice-command clips shipped in sim/assets/voice: each command spoken by espeak-ng in a few
 * voices, resampled to 16 kHz mono s16le, silence trimmed, level-normalised (speech RMS −20 dBFS), written
 * as WAV with an index.json. Needs the Debian package espeak-ng (the tests use the committed clips, not it).
 *
 *   npx tsx scripts/make-voice-clips.ts            # rewrites sim/assets/voice/*
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { VOICE_COMMANDS } from "../sim/world/types.ts";

const OUT = join(dirname(fileURLToPath(import.meta.url)), "..", "sim", "assets", "voice");
const VOICES = [
  { id: "us", voice: "en-us", speed: 165, pitch: 45 },
  { id: "gb-f", voice: "en-gb+f3", speed: 150, pitch: 60 },
];
const RATE = 16_000;
const TARGET_RMS = 0.1; // −20 dBFS

function parseWav(buf: Buffer): { rate: number; samples: Float64Array } {
  let off = 12;
  let rate = 0;
  while (off + 8 <= buf.length) {
    const id = buf.toString("ascii", off, off + 4);
    let size = buf.readUInt32LE(off + 4);
    if (id === "fmt ") rate = buf.readUInt32LE(off + 12);
    if (id === "data") {
      // espeak-ng writing to stdout leaves the size unset.
      if (size === 0 || size === 0xffffffff || off + 8 + size > buf.length) size = buf.length - off - 8;
      const n = Math.floor(size / 2);
      const samples = new Float64Array(n);
      for (let i = 0; i < n; i++) samples[i] = buf.readInt16LE(off + 8 + 2 * i) / 32768;
      return { rate, samples };
    }
    off += 8 + size + (size & 1);
  }
  throw new Error("no data chunk");
}

/** Windowed-sinc resampling (Hann, 16 taps each side, low-passed at the lower Nyquist). */
function resample(x: Float64Array, from: number, to: number): Float64Array {
  const n = Math.floor((x.length * to) / from);
  const out = new Float64Array(n);
  const cutoff = Math.min(1, to / from) * 0.95;
  const taps = 16;
  for (let i = 0; i < n; i++) {
    const t = (i * from) / to;
    const c = Math.floor(t);
    let acc = 0;
    for (let k = c - taps + 1; k <= c + taps; k++) {
      if (k < 0 || k >= x.length) continue;
      const u = t - k;
      const sinc = u === 0 ? 1 : Math.sin(Math.PI * u * cutoff) / (Math.PI * u * cutoff);
      const win = 0.5 + 0.5 * Math.cos((Math.PI * u) / taps);
      acc += x[k]! * cutoff * sinc * win;
    }
    out[i] = acc;
  }
  return out;
}

function trim(x: Float64Array): Float64Array {
  const thr = 0.01;
  let a = 0;
  let b = x.length - 1;
  while (a < b && Math.abs(x[a]!) < thr) a++;
  while (b > a && Math.abs(x[b]!) < thr) b--;
  return x.slice(Math.max(0, a - 80), Math.min(x.length, b + 80));
}

function wav(samples: Int16Array): Buffer {
  const h = Buffer.alloc(44);
  h.write("RIFF", 0);
  h.writeUInt32LE(36 + samples.length * 2, 4);
  h.write("WAVEfmt ", 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(RATE, 24);
  h.writeUInt32LE(RATE * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write("data", 36);
  h.writeUInt32LE(samples.length * 2, 40);
  return Buffer.concat([h, Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength)]);
}

const version = execFileSync("espeak-ng", ["--version"], { encoding: "utf8" }).trim();
mkdirSync(OUT, { recursive: true });
for (const f of readdirSync(OUT)) if (f.endsWith(".wav") || f === "index.json") rmSync(join(OUT, f));
const clips: { file: string; command: string; voice: string; samples: number }[] = [];
for (const command of VOICE_COMMANDS) {
  for (const v of VOICES) {
    const raw = execFileSync("espeak-ng", ["-v", v.voice, "-s", String(v.speed), "-p", String(v.pitch), "--stdout", command]);
    const { rate, samples } = parseWav(raw);
    const x = trim(resample(samples, rate, RATE));
    let e = 0;
    for (const s of x) e += s * s;
    const g = TARGET_RMS / Math.sqrt(e / x.length);
    const pcm = new Int16Array(x.length);
    for (let i = 0; i < x.length; i++) pcm[i] = Math.max(-32768, Math.min(32767, Math.round(x[i]! * g * 32768)));
    const file = `${command.replace(/ /g, "_")}.${v.id}.wav`;
    writeFileSync(join(OUT, file), wav(pcm));
    clips.push({ file, command, voice: v.voice, samples: pcm.length });
  }
}
writeFileSync(join(OUT, "index.json"), JSON.stringify({ sampleRate: RATE, generator: version, voices: VOICES, clips }, null, 2) + "\n");
console.log(`wrote ${clips.length} clips to ${OUT}`);
