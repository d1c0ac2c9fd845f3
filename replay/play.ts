/**
 * Play-back (`fusiond play`): publish a recording's raw bytes in log_time order, paced by a Pacer,
 * with topic remapping and looping. The publisher is injected (bin/ passes MQTT or ZeroMQ).
 */
import { FusiondError } from "../schemas/index.ts";
import type { Pacer } from "./pacer.ts";
import type { McapRecording, ReadOptions } from "./reader.ts";

export interface Remap {
  from: string;
  to: string;
}

/** "vehicles/ego1/:vehicles/sim2/" → a prefix remap; an exact topic remaps only itself. */
export function parseRemap(text: string): Remap {
  const i = text.indexOf(":");
  if (i <= 0 || i === text.length - 1) throw new FusiondError("bad_option", `--remap takes from:to (a topic or topic prefix), not "${text}"`);
  return { from: text.slice(0, i), to: text.slice(i + 1) };
}

/** Applies the first matching remap: exact topic, or a prefix ending in "/". */
export function remapTopic(topic: string, remaps: readonly Remap[]): string {
  for (const r of remaps) {
    if (topic === r.from) return r.to;
    if (r.from.endsWith("/") && topic.startsWith(r.from)) return r.to + topic.slice(r.from.length);
  }
  return topic;
}

export interface PlayProgress {
  loop: number;
  published: number;
  failed: number;
  /** Recorded time of the current message relative to the first, ns; and the span being played. */
  atNs: bigint;
  spanNs: bigint;
}

export interface PlayOptions {
  recording: McapRecording;
  /** Publishes one message; resolves false when the transport refused it (counted, play goes on). */
  publish: (topic: string, bytes: Uint8Array, type: string) => Promise<boolean>;
  pacer: Pacer;
  read?: ReadOptions;
  remap?: readonly Remap[];
  /** Number of passes; Infinity loops until `signal` aborts (default 1). */
  loops?: number;
  signal?: AbortSignal;
  onProgress?: (p: PlayProgress) => void;
}

export async function playRecording(options: PlayOptions): Promise<PlayProgress> {
  const r = options.recording.indexed;
  const first = options.read?.startNs ?? r?.statistics?.messageStartTime ?? 0n;
  const last = options.read?.endNs ?? r?.statistics?.messageEndTime ?? first;
  const progress: PlayProgress = { loop: 0, published: 0, failed: 0, atNs: 0n, spanNs: last > first ? last - first : 0n };
  const loops = options.loops ?? 1;
  for (let loop = 0; loop < loops && !options.signal?.aborted; loop++) {
    progress.loop = loop;
    options.pacer.reset();
    let start: bigint | undefined;
    for await (const m of options.recording.messages(options.read)) {
      if (options.signal?.aborted) break;
      start ??= m.receiveNs;
      await options.pacer.wait(m.receiveNs);
      const ok = await options.publish(remapTopic(m.topic, options.remap ?? []), m.bytes, m.type);
      if (ok) progress.published++;
      else progress.failed++;
      progress.atNs = m.receiveNs - start;
      options.onProgress?.(progress);
    }
  }
  return progress;
}
