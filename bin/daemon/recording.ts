/**
 * The daemon's recording, from its config's `recording` section: one MCAP file per run in recording.dir
 * (rotated by size or duration, signed with recording.signingKey), retention (recording.maxTotalMB /
 * maxAgeHours) applied at start, every 30 s and when space runs low, and a free-space floor
 * (recording.minFreeMB) below which the recorder stops and retries.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import type { SchedulerLike } from "rxjs";
import type { RoadMap } from "../../domain/road-map.ts";
import type { Decider } from "../../fusion/inference/decider.ts";
import { configSecrets, type DaemonConfig } from "../../pipeline/daemon-config.ts";
import { applyRetention, freeBytes, recordToFile, type McapRecorder, type RecorderStatus, type RecordingMetadata, type RecordingSigner } from "../../replay/index.ts";
import { cutSecrets, msToNs } from "../../schemas/index.ts";

export interface DaemonRecording {
  recorder: McapRecorder;
  /** "ok", or "failed: CODE reason" (for /readyz). */
  state(): string;
}

export interface RecordingContext {
  vehicle: string;
  scheduler: SchedulerLike;
  logger: Logger;
  signer: RecordingSigner | undefined;
  /** The recording's metadata ("fusiond" record). */
  metadata: RecordingMetadata;
  /** Where the retention timer registers its stop. */
  cleanups: Array<() => Promise<void> | void>;
  /** Logs a warning once per key. */
  logOnce: (key: string, obj: object, msg: string) => void;
}

/**
 * The daemon's metadata record: its config (the text it was given, else the parsed config), the model it
 * decides with, fusiond's version, and the road map as data (so that replay decides with it).
 */
export function daemonMetadata(config: DaemonConfig, configText: string | undefined, decider: Decider, version: string | undefined, roadMap: RoadMap | undefined): RecordingMetadata {
  return {
    vehicle: config.vehicle,
    config: configText ?? cutSecrets(JSON.stringify(config), configSecrets(config)),
    modelId: decider.primary.modelId,
    modelHash: decider.primary.modelHash,
    fusiondVersion: version ?? "",
    ...(roadMap ? { map: JSON.stringify(roadMap) } : {}),
  };
}

export async function startRecording(r: NonNullable<DaemonConfig["recording"]>, c: RecordingContext): Promise<DaemonRecording> {
  const { logger } = c;
  mkdirSync(r.dir, { recursive: true });
  let recorder: McapRecorder | undefined;
  let status: RecorderStatus | undefined;
  const checkSpace = lowSpaceCheck(r);
  const retention = r.maxTotalMB !== undefined || r.maxAgeHours !== undefined;
  const retain = (): void => {
    if (!retention) return;
    try {
      const open = new Set(recorder?.stats().files.slice(-1) ?? []);
      const res = applyRetention(r.dir, { ...(r.maxTotalMB ? { maxTotalBytes: r.maxTotalMB * 1024 * 1024 } : {}), ...(r.maxAgeHours ? { maxAgeMs: r.maxAgeHours * 3_600_000 } : {}) }, Date.now(), open);
      for (const d of res.deleted) logger.info({ file: d.path, bytes: d.bytes, why: d.why }, "retention: deleted an old recording");
      for (const f of res.failed) c.logOnce(`retention:${f.path}`, { file: f.path, err: f.error }, "retention: could not delete a recording");
    } catch (err) {
      c.logOnce("retention", { dir: r.dir, err: (err as Error).message }, "retention: cannot read the recording directory");
    }
  };
  retain(); // before the first file, so a start on a full disk can make room
  const retentionTimer = setInterval(retain, 30_000);
  retentionTimer.unref();
  c.cleanups.push(() => clearInterval(retentionTimer));
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const path = join(r.dir, `${c.vehicle}_${stamp}.mcap`);
  const rotate = {
    ...(r.rotateMB ? { maxBytes: r.rotateMB * 1024 * 1024 } : {}),
    ...(r.rotateSeconds ? { maxDurationNs: msToNs(r.rotateSeconds * 1000) } : {}),
  };
  recorder = await recordToFile(path, {
    compression: r.compression,
    scheduler: c.scheduler,
    // A chunk's compression waits for the next turn, off the path from a frame's last input to its decision. It
    // still runs on the main thread, where it holds up every message behind it: zstd 3 of a 1-s chunk took
    // 38 ms of CPU for 4 × 1280×720 JPEGs (2.9 MiB), 26 ms for 1 × 1920×1080 @ 30 Hz (2.4 MiB), once a second,
    // and every input that arrived meanwhile waited that long (issue 16's p99 tails). A 256 KiB chunk at
    // level 1 takes 0.7–0.8 ms (JPEGs barely compress at any level: to 0.87 of their size, 0.76 at level 3).
    // bench/daemon-recorder-chunks.ts measures it.
    deferChunkClose: true,
    chunkBytes: 256 * 1024,
    compressionLevel: 1,
    ...(Object.keys(rotate).length ? { rotate } : {}),
    retry: { intervalNs: msToNs(r.retryS * 1000) },
    checkSpace: () => {
      const low = checkSpace();
      if (low) retain(); // make room where retention allows; the next retry checks again
      return low;
    },
    onStatus: (s) => {
      status = s;
      if (s.state === "failed") logger.error({ code: s.code, reason: s.reason, file: s.file, retryS: r.retryS }, `recording failed: ${s.reason} — messages are dropped (counted in fusiond_recorder_messages_total) and a new file is tried every ${r.retryS} s`);
      else logger.info({ file: s.file, dropped: s.dropped }, "recording resumed in a new file");
    },
    ...(c.signer ? { signer: c.signer } : {}),
    metadata: c.metadata,
  });
  const st = recorder.stats();
  if (st.state === "failed") logger.error({ reason: st.error }, "recording not started: too little free space; decisions go on, recording starts when space is back");
  else logger.info({ path }, "recording");
  const rec = recorder;
  return {
    recorder: rec,
    state: () => {
      const s = rec.stats();
      return s.state === "ok" ? "ok" : `failed: ${status?.code ?? ""}${status?.code ? " " : ""}${s.error ?? ""}`.trim();
    },
  };
}

/** Why there is too little space to record (a message that says what to do), or undefined while there is enough. */
function lowSpaceCheck(r: NonNullable<DaemonConfig["recording"]>): () => string | undefined {
  const minFree = r.minFreeMB * 1024 * 1024;
  return () => {
    let free: number;
    try {
      free = freeBytes(r.dir);
    } catch (err) {
      return `cannot read the free space of ${r.dir}: ${(err as Error).message}`;
    }
    return free < minFree ? `${(free / 1024 / 1024).toFixed(0)} MB free in ${r.dir}, below recording.minFreeMB (${r.minFreeMB} MB): free space or set recording.maxTotalMB / maxAgeHours` : undefined;
  };
}
