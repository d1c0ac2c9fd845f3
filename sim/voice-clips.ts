/**
 * The voice clip catalog: the speech clips shipped in sim/assets/voice (made by scripts/make-voice-clips.ts
 * with espeak-ng), loaded once as 16 kHz mono samples. Reading these asset files is the simulator's only file
 * access, like schemas/ reading its .proto files.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { VoiceCommand } from "./world/types.ts";

export const VOICE_ASSETS = join(dirname(fileURLToPath(import.meta.url)), "assets", "voice");
export const VOICE_RATE = 16_000;

export interface Clip {
  file: string;
  command: VoiceCommand;
  voice: string;
  /** Samples in [-1, 1). */
  samples: Float32Array;
  /** Mean power of the samples. */
  power: number;
}

export type ClipCatalog = Partial<Record<VoiceCommand, Clip[]>>;

interface IndexFile {
  sampleRate: number;
  clips: { file: string; command: VoiceCommand; voice: string }[];
}

/** Parses a 16-bit PCM mono WAV. */
export function parseWav16(buf: Uint8Array): { rate: number; samples: Float32Array } {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const tag = (o: number): string => String.fromCharCode(buf[o]!, buf[o + 1]!, buf[o + 2]!, buf[o + 3]!);
  let off = 12;
  let rate = 0;
  while (off + 8 <= buf.length) {
    const size = dv.getUint32(off + 4, true);
    if (tag(off) === "fmt ") rate = dv.getUint32(off + 12, true);
    if (tag(off) === "data") {
      const n = Math.floor(size / 2);
      const samples = new Float32Array(n);
      for (let i = 0; i < n; i++) samples[i] = dv.getInt16(off + 8 + 2 * i, true) / 32768;
      return { rate, samples };
    }
    off += 8 + size + (size & 1);
  }
  throw new Error("WAV without a data chunk");
}

let cached: ClipCatalog | undefined;

/** The shipped clips, by command (loaded on first use). */
export function loadClipCatalog(dir = VOICE_ASSETS): ClipCatalog {
  if (cached && dir === VOICE_ASSETS) return cached;
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as IndexFile;
  const out: ClipCatalog = {};
  for (const c of index.clips) {
    const { rate, samples } = parseWav16(readFileSync(join(dir, c.file)));
    if (rate !== VOICE_RATE) throw new Error(`${c.file}: ${rate} Hz, expected ${VOICE_RATE}`);
    let e = 0;
    for (const s of samples) e += s * s;
    (out[c.command] ??= []).push({ file: c.file, command: c.command, voice: c.voice, samples, power: e / samples.length });
  }
  if (dir === VOICE_ASSETS) cached = out;
  return out;
}

/** Speech length of each clip, by command, s (what the world needs to time utterances). */
export function clipDurations(catalog: ClipCatalog): Partial<Record<VoiceCommand, number[]>> {
  const out: Partial<Record<VoiceCommand, number[]>> = {};
  for (const [cmd, clips] of Object.entries(catalog) as [VoiceCommand, Clip[]][]) out[cmd] = clips.map((c) => c.samples.length / VOICE_RATE);
  return out;
}
