/**
 * `fusiond train`'s worker threads: features of recordings not yet cached extracted on every core, and an
 * ensemble's members trained side by side, one per core (the jobs: worker.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import * as tf from "@tensorflow/tfjs";
import type { Modality } from "../schemas/index.ts";
import { FsModelHandler, type EpochReport, type TrainResult } from "../fusion/index.ts";
import { uncachedFiles } from "./data.ts";
import type { FeaturesJob, FeaturesMessage, MemberJob, MemberMessage } from "./worker.ts";

/**
 * Trains ensemble members in worker threads, `jobs` at a time (each worker runs TF.js on its own core), and
 * loads them back. The pretrained encoders are handed over as saved models; each worker reads the recordings
 * from the feature cache this process filled, in the same order, so the split's sample indices hold.
 */
export async function trainMembersInWorkers(o: {
  members: number;
  jobs: number;
  log: (s: string) => void;
  job: (k: number, out: string, pretrained: MemberJob["pretrained"]) => MemberJob;
  pretrained: { modality: Modality; model: tf.LayersModel }[];
  epochLine: (e: EpochReport) => string;
}): Promise<TrainResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "fusiond-members-"));
  const workers = new Set<Worker>();
  const status = new Map<number, string>();
  const draw = (): void => {
    if (process.stderr.isTTY) process.stderr.write(`\r${[...status].map(([k, s]) => `member ${k + 1}: ${s}`).join(" | ")}\x1b[K`);
  };
  const say = (s: string): void => {
    if (process.stderr.isTTY) process.stderr.write("\r\x1b[K");
    o.log(s);
    draw();
  };
  try {
    const pretrainedDirs: MemberJob["pretrained"] = [];
    for (const p of o.pretrained) {
      const d = join(dir, `pretrained-${p.modality}`);
      await p.model.save(new FsModelHandler(d));
      pretrainedDirs.push({ modality: p.modality, dir: d });
    }
    const runOne = async (k: number): Promise<TrainResult> => {
      let result: Omit<TrainResult, "model"> | undefined;
      status.set(k, "reading features");
      draw();
      await inWorker<MemberMessage>(o.job(k, join(dir, `member-${k + 1}`), pretrainedDirs), `ensemble member ${k + 1}`, workers, (m, finish) => {
        if (m.kind === "progress") {
          const p = m.progress;
          status.set(k, `epoch ${p.epoch}/${p.epochs} ${Math.round((100 * p.batch) / p.batches)}% loss ${p.loss.toFixed(4)}`);
          draw();
        } else if (m.kind === "epoch") say(`member ${k + 1} ${o.epochLine(m.epoch)}`);
        else if (m.kind === "done") {
          status.delete(k);
          say(`member ${k + 1} done: validation macro-F1 ${m.val.macroF1.toFixed(3)} (best epoch ${m.bestEpoch} of ${m.history.length})`);
          result = { history: m.history, bestEpoch: m.bestEpoch, val: m.val, samplesPerSecond: m.samplesPerSecond };
          finish();
        } else finish(new Error(`ensemble member ${k + 1} failed in its worker: ${m.message}`));
      });
      return { ...result!, model: await tf.loadLayersModel(new FsModelHandler(join(dir, `member-${k + 1}`))) };
    };
    const results: TrainResult[] = new Array<TrainResult>(o.members);
    const queue = Array.from({ length: o.members }, (_, k) => k);
    await Promise.all(
      Array.from({ length: Math.min(o.jobs, o.members) }, async () => {
        for (let k = queue.shift(); k !== undefined; k = queue.shift()) results[k] = await runOne(k);
      }),
    );
    if (process.stderr.isTTY) process.stderr.write("\r\x1b[K");
    return results;
  } finally {
    await Promise.all([...workers].map((w) => w.terminate()));
    rmSync(dir, { recursive: true, force: true });
  }
}

const WORKER = new URL("./worker.js", import.meta.url);

/**
 * Runs one job in a worker thread. `onMessage` sees each message and calls `finish` (with an error, or
 * without when the job is done); a crash, or an exit before `finish`, rejects with `what` named.
 */
function inWorker<M>(job: MemberJob | FeaturesJob, what: string, workers: Set<Worker>, onMessage: (m: M, finish: (err?: Error) => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const worker = new Worker(WORKER, { workerData: job });
    workers.add(worker);
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve();
    };
    worker.on("message", (m: M) => onMessage(m, finish));
    worker.on("error", (err) => finish(new Error(`${what}: its worker crashed: ${err.message}`)));
    worker.on("exit", (code) => {
      workers.delete(worker);
      finish(new Error(`${what}: its worker exited (code ${code}) before it finished`));
    });
  });
}

/**
 * Extracts the samples of every recording not yet in the feature cache, `jobs` worker threads at a time
 * (each a share of the files, round robin), so that loading them afterwards is a cache read. One file or
 * one job: nothing to do here, loading extracts it.
 */
export async function extractInWorkers(sets: { files: readonly string[]; every: number }[], config: FeaturesJob["config"], jobs: number, log: (s: string) => void): Promise<void> {
  const todo = sets.flatMap((s) => uncachedFiles(s.files, s.every, config).map((file) => ({ file, every: s.every })));
  if (todo.length < 2 || jobs < 2) return;
  const n = Math.min(jobs, todo.length);
  const t0 = performance.now();
  log(`extracting the features of ${todo.length} recordings not in the cache, ${n} worker threads`);
  let done = 0;
  const workers = new Set<Worker>();
  try {
    await Promise.all(
      Array.from({ length: n }, async (_, w) => {
        const mine = todo.filter((_, i) => i % n === w);
        // A job has one sampling rate: a share that mixes rates runs one job per rate, in turn.
        for (const every of new Set(mine.map((t) => t.every))) {
          const job: FeaturesJob = { kind: "features", files: mine.filter((t) => t.every === every).map((t) => t.file), every, config };
          await inWorker<FeaturesMessage>(job, "feature extraction", workers, (m, finish) => {
            if (m.kind === "extracted") log(`[${++done}/${todo.length}] ${m.line}`);
            else if (m.kind === "done") finish();
            else finish(new Error(`feature extraction failed in a worker: ${m.message}`));
          });
        }
      }),
    );
  } finally {
    await Promise.all([...workers].map((w) => w.terminate()));
  }
  log(`extracted ${todo.length} recordings in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
