/**
 * Training data for `fusiond train`: simulator recordings read (replay/), aligned with the pipeline's own
 * FrameAligner (exactly the daemon's), joined with their truths and turned into labelled feature samples
 * (fusion/'s pure code). Features of each file are cached (v8-serialised, keyed by file size/mtime, the
 * feature config and a hash of the code that makes them) in $TMPDIR/fusiond-features, so training several
 * models — or several ensemble members in parallel workers — on one dataset extracts them once.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative } from "node:path";
import { threadId } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { deserialize, serialize } from "node:v8";
import { MessageDecoder, type FusedFrame, type TruthMessage } from "../schemas/index.ts";
import { fileSource, McapRecording } from "../replay/index.ts";
import { FrameAligner } from "../pipeline/frame-aligner.ts";
import { alignerSchema } from "../pipeline/daemon-config.ts";
import { alignerConfigFrom, type AlignerConfig } from "../pipeline/index.ts";
import { withModelRadarScan } from "../pipeline/model-alignment.ts";
import { scenarioMaps } from "../sim/scenario-maps.ts";
import { DEFAULT_FEATURE_CONFIG, indexTruths, labelFrames, roadMapView, type FeatureConfig, type LabelledSample, type MapView } from "../fusion/index.ts";

/**
 * Training aligns exactly as the daemon does by default (pipeline/daemon-config.ts defaults, per-topic order
 * as the graph sets it), with its deadlines falling on the recorded receive clock: the frames a model learns
 * from are the frames it will be given.
 */
const TRAIN_ALIGNER: AlignerConfig = { inOrderPerTopic: true, ...alignerConfigFrom(alignerSchema.parse({}), "ego1") };

/**
 * A model with several cameras (config.cameras) learns from frames aligned as a daemon configured with those
 * cameras aligns them (aligner.cameras: the first is the reference), on the recording's own vehicle; a model
 * trained on the latest radar scan (config.radarScan) as the daemon aligns for it (pipeline/model-alignment.ts).
 */
function trainAligner(cameras: readonly string[] | undefined, vehicle: string, radarScan?: "latest"): AlignerConfig {
  if (!cameras) return withModelRadarScan(TRAIN_ALIGNER, radarScan);
  return withModelRadarScan({ inOrderPerTopic: true, ...alignerConfigFrom(alignerSchema.parse({ cameras }), vehicle) }, radarScan);
}
const vehicleOf = (topic: string): string => /^vehicles\/([^/]+)\//.exec(topic)?.[1] ?? "sim";

let codeHash: string | undefined;
/**
 * Hash of the code that turns a recording into samples (the feature extractors, labelling, the aligner): part
 * of the feature cache's key, so that a change to any of them can never be trained on stale features.
 */
function featureCodeHash(): string {
  if (codeHash) return codeHash;
  const h = createHash("sha256");
  const root = fileURLToPath(new URL("../", import.meta.url));
  for (const dir of ["fusion/features", "fusion/train", "pipeline", "schemas"]) {
    for (const f of readdirSync(join(root, dir)).filter((n) => n.endsWith(".ts")).sort()) h.update(f).update(readFileSync(join(root, dir, f)));
  }
  return (codeHash = h.digest("hex").slice(0, 16));
}

/** Reads one recording, aligns it with the pipeline's aligner, joins truths, extracts features. */
const cacheDir = (): string => join(tmpdir(), "fusiond-features");

/** The cache file of one recording's samples (it exists once they were extracted with this code and config). */
function cachePath(file: string, every: number, config: FeatureConfig, cameras: readonly string[] | undefined = config.cameras): string {
  const st = statSync(file);
  // The config (in the key below) holds radarScan, the other input of trainAligner.
  const alignerKey = JSON.stringify(cameras ? [TRAIN_ALIGNER, cameras] : TRAIN_ALIGNER, (_, v: unknown) => (typeof v === "bigint" ? String(v) : v));
  const key = createHash("sha256").update(JSON.stringify([file, st.size, st.mtimeMs, every, config, alignerKey, featureCodeHash()])).digest("hex").slice(0, 16);
  return join(cacheDir(), `${basename(file)}.${key}.v9`);
}

/** Recordings whose samples are not in the cache yet. */
export function uncachedFiles(files: readonly string[], every: number, config: FeatureConfig): string[] {
  return files.filter((f) => !existsSync(cachePath(f, every, config)));
}

async function samplesOfFile(file: string, every: number, useCache: boolean, log: (s: string) => void, config: FeatureConfig = DEFAULT_FEATURE_CONFIG, cameras: readonly string[] | undefined = config.cameras): Promise<LabelledSample[]> {
  const cached = cachePath(file, every, config, cameras);
  if (useCache && existsSync(cached)) return deserialize(readFileSync(cached)) as LabelledSample[];
  const decoder = new MessageDecoder();
  // Made at the first message, which names the recording's vehicle (several cameras' topics contain it).
  let aligner: FrameAligner | undefined;
  const frames: FusedFrame[] = [];
  const truths: TruthMessage[] = [];
  let rejected = 0;
  let last = 0n;
  const rec = await McapRecording.open(await fileSource(file));
  // The GNSS map context of each episode: the map the recording stores, else the suite scenario's (sim/scenario-maps.ts).
  let mapOf: (name: string) => MapView | undefined = () => undefined;
  try {
    mapOf = scenarioMaps(await rec.metadata(), file, roadMapView);
    for await (const m of rec.messages()) {
      const r = decoder.decode({ topic: m.topic, payload: m.bytes, receiveNs: m.receiveNs });
      if (!r.ok) {
        rejected++;
        continue;
      }
      last = m.receiveNs;
      aligner ??= new FrameAligner(trainAligner(cameras, vehicleOf(m.topic), config.radarScan));
      // Deadlines that fall before this arrival fire first, as the pipeline's timers would.
      for (let due = aligner.nextDeadlineNs(); due !== undefined && due <= m.receiveNs; due = aligner.nextDeadlineNs()) frames.push(...aligner.expire(due, due));
      if (r.message.kind === "sim_truth") truths.push(r.message.message);
      else frames.push(...aligner.push(r.message, m.receiveNs));
    }
  } finally {
    await rec.close();
  }
  if (aligner) frames.push(...aligner.flush(last));
  const { samples, skipped } = labelFrames(frames, indexTruths(truths), (t) => ({ config, map: mapOf(String(t.scenario ?? "")) }), (t) => String(t.episode_id ?? file), every);
  log(`${relative(process.cwd(), file)}: ${frames.length} frames, ${samples.length} samples (every ${every}), ${skipped} without a label, ${rejected} rejected messages`);
  if (useCache) writeCacheFile(cached, serialize(samples), log);
  return samples;
}

/**
 * A name no other writer of `path` uses at the same time: ensemble members extract in worker threads of one
 * process (one pid), and two of them once wrote the same file's cache through the same temporary name — the
 * second rename found it gone (ENOENT) and failed the training.
 */
export const cacheTmpPath = (path: string): string => `${path}.${process.pid}.${threadId}.${randomBytes(4).toString("hex")}.tmp`;

/**
 * Writes a cache file atomically (a temporary file renamed over it: parallel trainings may read the cache). Best
 * effort: the cache only saves time, so a failure (full disk, a read-only $TMPDIR) is logged and the samples are
 * used as they are. Returns whether it was written.
 */
export function writeCacheFile(path: string, bytes: Uint8Array, log: (s: string) => void): boolean {
  const tmp = cacheTmpPath(path);
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
    return true;
  } catch (err) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // (its folder is not there to hold it)
    }
    log(`feature cache not written (${(err as Error).message}); training goes on without it`);
    return false;
  }
}

/**
 * Samples of every recording, in order. `cameras`: the cameras the frames are aligned with (default: the
 * config's); a single-camera baseline compared on several cameras' recordings is aligned on their first.
 */
export async function loadAll(files: string[], every: number, cache: boolean, log: (s: string) => void, config: FeatureConfig, cameras: readonly string[] | undefined = config.cameras): Promise<LabelledSample[]> {
  const out: LabelledSample[] = [];
  for (const f of files) for (const s of await samplesOfFile(f, every, cache, log, config, cameras)) out.push(s);
  return out;
}

/**
 * Samples of several sets of recordings read one after the other (each at its own rate), as loadAll would give
 * them joined, with `pick` applied to each as its file is read: it gets the sample and its index over all the
 * sets, and returns what to keep in its place (the sample, a lighter one) or undefined to drop it. A sample kept
 * gets its features in buffers of its own, so that at most one recording's samples are held beyond what is kept
 * (train/share.ts says what each holder keeps).
 */
export async function loadPicked(
  sets: readonly { files: readonly string[]; every: number }[],
  cache: boolean,
  log: (s: string) => void,
  config: FeatureConfig,
  pick: (s: LabelledSample, i: number) => LabelledSample | undefined,
): Promise<LabelledSample[]> {
  const out: LabelledSample[] = [];
  let i = 0;
  for (const set of sets) {
    for (const f of set.files) {
      for (const s of await samplesOfFile(f, set.every, cache, log, config)) {
        const kept = pick(s, i++);
        if (kept) out.push(kept === s ? ownBuffers(s) : kept);
      }
    }
  }
  return out;
}

/**
 * The sample with its features in buffers of their own. Samples read from the cache are views into the buffer of
 * the whole file (node:v8's deserialize does not copy aligned typed arrays): one sample kept would keep every
 * sample of its file in memory.
 */
export function ownBuffers(s: LabelledSample): LabelledSample {
  const inputs = Object.fromEntries(Object.entries(s.inputs).map(([k, v]) => [k, v.slice()])) as LabelledSample["inputs"];
  return { ...s, inputs };
}

const DROPPED = new Proxy({} as LabelledSample["inputs"], {
  get: (_, name) => {
    throw new Error(`this sample's features were dropped to save memory (input ${String(name)}): only its label, group and tags are kept`);
  },
});

/** The sample without its features (its label, group, tags and aux labels kept); reading its inputs throws. */
export const withoutFeatures = (s: LabelledSample): LabelledSample => ({ ...s, inputs: DROPPED });

