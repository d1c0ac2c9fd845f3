/**
 * Long fuzz runs of the daemon's decode path (scripts/fuzz-decode-harness.ts: decoder → validate →
 * features). Prints progress every few seconds and a summary of outcomes by reason; exits 1 on any
 * crash or non-finite feature. A crash does not stop the run: it is counted and its first inputs
 * are printed (topic, payload as base64) so that they can be replayed.
 *
 *   npx tsx scripts/fuzz-decode.ts                     # 10,000,000 inputs, one process
 *   npx tsx scripts/fuzz-decode.ts --runs 1e6 --seed 7
 *   npx tsx scripts/fuzz-decode.ts --jobs 8            # 8 processes, seeds seed..seed+7, runs split among them
 *   npx tsx scripts/fuzz-decode.ts --json              # the summary as one JSON object on stdout
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import fc from "fast-check";
import { DecodePath, fuzzInput, type FuzzInput } from "./fuzz-decode-harness.ts";

interface Summary {
  runs: number;
  seconds: number;
  seeds: number[];
  outcomes: Record<string, number>;
  crashes: number;
  crashSamples: Array<{ error: string; topic: string; payloadBase64: string; schema?: string; contentType?: string }>;
  nonFinite: Record<string, number>;
  featureProblems: Record<string, number>;
}

const { values: opts } = parseArgs({
  options: {
    runs: { type: "string", default: "10000000" },
    seed: { type: "string" },
    jobs: { type: "string", default: "1" },
    json: { type: "boolean", default: false },
    "progress-s": { type: "string", default: "10" },
  },
});
const runs = Math.round(Number(opts.runs));
const seed = opts.seed === undefined ? Date.now() % 2 ** 31 : Number(opts.seed);
const jobs = Math.max(1, Number(opts.jobs));
const progressMs = Number(opts["progress-s"]) * 1000;
if (!Number.isFinite(runs) || runs <= 0 || !Number.isInteger(seed)) {
  process.stderr.write("fuzz-decode: --runs must be a positive number and --seed an integer\n");
  process.exit(2);
}

const log = (s: string): void => void process.stderr.write(`${s}\n`);

function fuzz(runs: number, seed: number): Summary {
  const path = new DecodePath();
  const crashSamples: Summary["crashSamples"] = [];
  let crashes = 0;
  let done = 0;
  const t0 = Date.now();
  let nextReport = t0 + progressMs;
  const report = (): void => {
    const s = (Date.now() - t0) / 1000;
    const rate = done / s;
    log(`fuzz-decode [seed ${seed}]: ${done.toLocaleString("en")} / ${runs.toLocaleString("en")} (${(rate / 1000).toFixed(1)}k/s, ETA ${Math.round((runs - done) / rate)} s), crashes ${crashes}, ${JSON.stringify(Object.fromEntries(path.outcomes))}`);
  };
  fc.check(
    fc.property(fuzzInput, (input: FuzzInput) => {
      try {
        path.run(input);
      } catch (err) {
        crashes++;
        if (crashSamples.length < 5) {
          const sample: Summary["crashSamples"][number] = { error: String((err as Error)?.stack ?? err), topic: input.topic, payloadBase64: Buffer.from(input.payload).toString("base64") };
          if (input.schema !== undefined) sample.schema = input.schema;
          if (input.contentType !== undefined) sample.contentType = input.contentType;
          crashSamples.push(sample);
        }
      }
      if (++done % 1024 === 0 && Date.now() >= nextReport) {
        report();
        nextReport = Date.now() + progressMs;
      }
      return true;
    }),
    { numRuns: runs, seed },
  );
  return {
    runs: done,
    seconds: (Date.now() - t0) / 1000,
    seeds: [seed],
    outcomes: Object.fromEntries(path.outcomes),
    crashes,
    crashSamples,
    nonFinite: Object.fromEntries(path.nonFinite),
    featureProblems: Object.fromEntries(path.featureProblems),
  };
}

/** Runs `jobs` copies of this script (seeds seed..seed+jobs−1) and adds up their summaries. */
async function fanOut(): Promise<Summary> {
  const self = fileURLToPath(import.meta.url);
  const t0 = Date.now();
  const parts = await Promise.all(
    Array.from({ length: jobs }, (_, i) => {
      const share = Math.floor(runs / jobs) + (i < runs % jobs ? 1 : 0);
      return new Promise<Summary>((resolve, reject) => {
        const child = spawn(process.execPath, [...process.execArgv, self, "--runs", String(share), "--seed", String(seed + i), "--json", "--progress-s", String(opts["progress-s"])], {
          stdio: ["ignore", "pipe", "inherit"],
        });
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.on("error", reject);
        child.on("close", (code) => {
          try {
            resolve(JSON.parse(out) as Summary);
          } catch {
            reject(new Error(`job ${i} (seed ${seed + i}) exited ${code} without a summary`));
          }
        });
      });
    }),
  );
  const add = (into: Record<string, number>, from: Record<string, number>): void => {
    for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
  };
  const total: Summary = { runs: 0, seconds: (Date.now() - t0) / 1000, seeds: [], outcomes: {}, crashes: 0, crashSamples: [], nonFinite: {}, featureProblems: {} };
  for (const p of parts) {
    total.runs += p.runs;
    total.seeds.push(...p.seeds);
    total.crashes += p.crashes;
    total.crashSamples.push(...p.crashSamples.slice(0, 5 - total.crashSamples.length));
    add(total.outcomes, p.outcomes);
    add(total.nonFinite, p.nonFinite);
    add(total.featureProblems, p.featureProblems);
  }
  return total;
}

const summary = jobs > 1 ? await fanOut() : fuzz(runs, seed);
if (opts.json) {
  process.stdout.write(JSON.stringify(summary) + "\n");
} else {
  const counted = Object.values(summary.outcomes).reduce((a, b) => a + b, 0);
  const lines = [
    `fuzz-decode: ${summary.runs.toLocaleString("en")} inputs in ${summary.seconds.toFixed(1)} s (${(summary.runs / summary.seconds / 1000).toFixed(1)}k/s), seeds ${summary.seeds.join(",")}`,
    `  crashes: ${summary.crashes}`,
    `  outcomes (${counted.toLocaleString("en")} counted${counted + summary.crashes === summary.runs ? ", one per input" : ", NOT one per input"}):`,
    ...Object.entries(summary.outcomes)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `    ${k.padEnd(14)} ${v.toLocaleString("en").padStart(12)}  ${((100 * v) / summary.runs).toFixed(2)}%`),
    `  accepted but unusable features, by problem (digits as N):`,
    ...Object.entries(summary.featureProblems)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([k, v]) => `    ${v.toLocaleString("en").padStart(12)}  ${k}`),
    `  non-finite features: ${JSON.stringify(summary.nonFinite)}`,
    ...summary.crashSamples.map((c) => `  crash on ${c.topic} (payload ${c.payloadBase64.slice(0, 120)}${c.schema ? `, schema ${c.schema}` : ""}): ${c.error.split("\n").slice(0, 4).join(" | ")}`),
  ];
  process.stdout.write(lines.join("\n") + "\n");
}
process.exitCode = summary.crashes > 0 || Object.keys(summary.nonFinite).length > 0 ? 1 : 0;
