/**
 * One DAgger round (issue #20, point 3; eval/run/dagger.ts): the model drives the training scenarios in closed
 * loop, the expert's label driving instead at each step with probability β, and every drive is recorded with
 * the expert's labels of the states reached, <out>/<scenario>.mcap — a dataset that `fusiond train --data`
 * reads beside the earlier rounds' and the suite's training drives.
 *
 *   npx tsx scripts/dagger-round.ts --model=models/default --beta=0.5 --out=.tmp/dagger/r1
 *   npx tsx scripts/dagger-round.ts --model=models/default --beta=0.25 --seeds=5000-5031 --duration=90 --out=.tmp/dagger/r2
 *
 * Default scenarios: the suite's training split (never validation or test). Deterministic for a model, β and seeds.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { recordToFile } from "../replay/recorder.ts";
import { FUSIOND_VERSION } from "../schemas/version.ts";
import { recordDaggerEpisode } from "../eval/run/dagger.ts";
import { loadEvalModel } from "../eval/run/decider.ts";
import { parseSeeds, scenariosForSeeds, suiteScenarios, withDuration } from "../eval/run/scenarios.ts";

const args = process.argv.slice(2);
const valueOf = (flag: string): string | undefined => args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
const modelDir = valueOf("--model");
const out = valueOf("--out");
const beta = Number(valueOf("--beta") ?? "0.5");
if (!modelDir || !out || !(beta >= 0 && beta <= 1)) {
  process.stderr.write("usage: tsx scripts/dagger-round.ts --model=DIR --out=DIR [--beta=0.5] [--seeds=A-B] [--duration=S] [--seed=1]\n");
  process.exit(2);
}
const seedsArg = valueOf("--seeds");
const durationArg = valueOf("--duration");
const drawSeed = Number(valueOf("--seed") ?? "1");
const specs = withDuration(seedsArg ? scenariosForSeeds(parseSeeds(seedsArg)) : suiteScenarios("train"), durationArg ? Number(durationArg) : undefined);
mkdirSync(resolve(out), { recursive: true });
const model = await loadEvalModel(modelDir, "auto");
try {
  for (const [i, spec] of specs.entries()) {
    const file = join(resolve(out), `${spec.name}.mcap`);
    const metadata = { vehicle: "sim", source: "fusiond dagger", model: modelDir, modelHash: model.info.hash, expertShare: String(beta), scenario: spec.name, seed: String(spec.seed) };
    const rec = await recordToFile(file, { compression: "zstd", library: `fusiond/${FUSIOND_VERSION} dagger`, metadata });
    const r = await recordDaggerEpisode(spec, model, rec, { expertShare: beta, seed: drawSeed + i });
    process.stderr.write(`[${i + 1}/${specs.length}] ${file}: ${r.row.km.toFixed(2)} km, collisions ${r.row.collisions}, ${r.row.decisions} decisions\n`);
  }
} finally {
  model.close();
}
