/**
 * Writes every scenario of the simulator's suite (sim/scenarios.ts: train, validation and held-out test
 * splits) as a dataset recording, .tmp/data/<scenario>.mcap — the data the shipped models are trained and
 * scored on (their cards name these files).
 *
 *   npm run data:suite                  # every split, two at a time
 *   npm run data:suite -- test          # one split
 *   npm run data:suite -- train --perturb-train=0.2 --out=.tmp/pdata   # DART-style perturbed training drives (fusiond sim --perturb)
 *   npm run data:suite -- --cameras=front,rear,left,right --camera-size=64x64 --out=.tmp/mcam   # several cameras (fusiond sim --cameras)
 *   npm run data:suite -- random-train random-validation   # only the random-episode drives
 *
 * Besides the suite's scenarios, the splits random-train and random-validation are random-episode drives
 * (eval/run/scenarios.ts RANDOM_DRIVES: `fusiond sim --seed S --duration 300`, as the fresh drives are made, from
 * seeds outside the fresh block), written as random-train-S.mcap (perturbed as the training drives are) and
 * random-validation-S.mcap. Every split is written when none is named (--cameras: the suite's only).
 * `--parallel=N` sims at once (default: the cores, at most 4).
 *
 * Deterministic: the same suite gives the same bytes. Existing files are rewritten, unless `--missing`: then a
 * complete recording already there (it ends with the MCAP magic) is kept, so that a run cut short goes on where
 * it stopped with the same result:
 *   npm run data:suite -- --perturb-train=0.2 --cameras=front,rear,left,right --camera-size=64x64 --out=.tmp/mcam --missing
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { scenarioSuite } from "../sim/scenarios.ts";
import { RANDOM_DRIVES, parseSeeds } from "../eval/run/scenarios.ts";

const args = process.argv.slice(2);
const perturbArg = args.find((a) => a.startsWith("--perturb-train="));
const perturbTrain = perturbArg ? Number(perturbArg.split("=")[1]) : 0;
const valueOf = (flag: string): string | undefined => args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
const camerasArg = valueOf("--cameras");
const cameraSizeArg = valueOf("--camera-size");
const cameraArgs = [...(camerasArg ? ["--cameras", camerasArg] : []), ...(cameraSizeArg ? ["--camera-size", cameraSizeArg] : [])];
const splits = args.filter((a) => !a.startsWith("--"));
const outArg = valueOf("--out");
const out = outArg ? resolve(outArg) : join(process.cwd(), ".tmp", "data");
mkdirSync(out, { recursive: true });
const MCAP_MAGIC = Buffer.from([0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a]);
/** Whether a recording is whole: an MCAP file ends with its magic (a run cut short leaves it without). */
function complete(file: string): boolean {
  if (!existsSync(file)) return false;
  const size = statSync(file).size;
  if (size < MCAP_MAGIC.length * 2) return false;
  const fd = openSync(file, "r");
  try {
    const tail = Buffer.alloc(MCAP_MAGIC.length);
    readSync(fd, tail, 0, tail.length, size - tail.length);
    return tail.equals(MCAP_MAGIC);
  } finally {
    closeSync(fd);
  }
}
const missingOnly = args.includes("--missing");
/** A unit of work: a suite scenario (--scenario) or a random-episode drive (--seed). */
interface Job {
  name: string;
  durationS: number;
  perturb: number;
  source: string[];
}
const RANDOM_SPLITS = ["random-train", "random-validation"] as const;
const randomJobs: Job[] = camerasArg
  ? []
  : RANDOM_SPLITS.filter((split) => splits.length === 0 || splits.includes(split)).flatMap((split) =>
      parseSeeds(split === "random-train" ? RANDOM_DRIVES.train : RANDOM_DRIVES.validation).map((seed) => ({
        name: `${split}-${seed}`,
        durationS: RANDOM_DRIVES.durationS,
        perturb: split === "random-train" ? perturbTrain : 0,
        source: ["--seed", String(seed)],
      })),
    );
const todo: Job[] = [
  ...scenarioSuite()
    .filter((s) => splits.length === 0 || splits.includes(String(s.split)))
    .map((s) => ({ name: s.name, durationS: s.durationS, perturb: s.split === "train" ? perturbTrain : 0, source: ["--scenario", s.name] })),
  ...randomJobs,
].filter((j) => !(missingOnly && complete(join(out, `${j.name}.mcap`))));
if (missingOnly) process.stderr.write(`--missing: ${todo.length} scenarios to write\n`);
const parallelArg = valueOf("--parallel");
const parallel = parallelArg ? Math.max(1, Number(parallelArg)) : Math.max(1, Math.min(4, availableParallelism()));
let done = 0;
let failed = 0;

function run({ name, durationS, perturb, source }: Job): Promise<void> {
  return new Promise((resolve) => {
    const extra = perturb > 0 ? ["--perturb", String(perturb)] : [];
    const p = spawn(process.execPath, ["bin/fusiond.js", "sim", ...source, "--duration", String(durationS), "--out", join(out, `${name}.mcap`), "--quiet", ...extra, ...cameraArgs], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.on("close", (code) => {
      done++;
      if (code !== 0) {
        failed++;
        process.stderr.write(`\n${name}: fusiond sim exited ${code}\n${err}`);
      }
      process.stderr.write(`\r${done}/${todo.length} scenarios written to ${out}`);
      resolve();
    });
  });
}

const queue = [...todo];
await Promise.all(
  Array.from({ length: parallel }, async () => {
    for (let j = queue.shift(); j; j = queue.shift()) await run(j);
  }),
);
process.stderr.write("\n");
process.exitCode = failed ? 1 : 0;
