/**
 * The cabin microphone: one foxglove.RawAudio message per utterance — a noise-only lead-in, the spoken clip,
 * a noise-only tail — 16 kHz mono PCM s16le. Cabin noise (a low rumble plus hiss) is scaled per utterance so
 * that mean speech power / mean noise power equals the SNR the world drew (speech power is measured over the
 * clip as spoken, after its level change).
 */
import type { Rng } from "../rng.ts";
import { VOICE_RATE, type Clip, type ClipCatalog } from "../voice-clips.ts";
import type { Utterance } from "../world/types.ts";

export interface RenderedUtterance {
  /** PCM s16le bytes. */
  data: Uint8Array;
  clip: Clip | undefined;
  /** Sample offset and length of the speech inside the message. */
  speechOffset: number;
  speechLength: number;
  /** The noise actually mixed in (float, before quantisation), for tests. */
  noisePower: number;
  speechPower: number;
}

export function renderUtterance(u: Utterance, catalog: ClipCatalog, rng: Rng): RenderedUtterance {
  const clip = catalog[u.command]?.[u.variant];
  const lead = Math.round(u.leadS * VOICE_RATE);
  const tail = Math.round(u.tailS * VOICE_RATE);
  const speechLength = clip ? clip.samples.length : Math.round(u.speechS * VOICE_RATE);
  const n = lead + speechLength + tail;
  const gain = Math.pow(10, u.gainDb / 20);
  const speechPower = clip ? clip.power * gain * gain : 0.01;
  const noisePower = speechPower / Math.pow(10, u.snrDb / 10);
  // Cabin noise: AR(1) rumble (pole 0.95) plus white hiss, each half the noise power.
  const pole = 0.95;
  const rumbleSd = Math.sqrt((noisePower / 2) * (1 - pole * pole));
  const hissSd = Math.sqrt(noisePower / 2);
  const mix = new Float64Array(n);
  let rumble = rng.normal(0, Math.sqrt(noisePower / 2));
  for (let i = 0; i < n; i++) {
    rumble = pole * rumble + rng.normal(0, rumbleSd);
    mix[i] = rumble + rng.normal(0, hissSd);
  }
  if (clip) for (let i = 0; i < speechLength; i++) mix[lead + i]! += clip.samples[i]! * gain;
  const data = new Uint8Array(n * 2);
  const dv = new DataView(data.buffer);
  for (let i = 0; i < n; i++) dv.setInt16(2 * i, Math.max(-32768, Math.min(32767, Math.round(mix[i]! * 32768))), true);
  return { data, clip, speechOffset: lead, speechLength, noisePower, speechPower };
}

/** PCM s16le bytes → samples in [-1, 1). */
export function pcmToFloat(data: Uint8Array): Float32Array {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Float32Array(data.byteLength >> 1);
  for (let i = 0; i < out.length; i++) out[i] = dv.getInt16(2 * i, true) / 32768;
  return out;
}
