/**
 * `fusiond eval`: open loop on recordings (`--data`), modality ablation (`--ablation`), closed loop on the
 * scenario suite (`--closed-loop --suite test` or `--seeds A-B`, in process or `--mqtt URL`), several models
 * side by side (`--compare DIR...`) with bootstrap intervals; a JSON report (`--out`, schema in
 * docs/eval.md) and a self-contained HTML page (`--html`). Progress goes to stderr, the summary to stdout.
 */
import type { Command } from "commander";
import { BACKEND_CHOICES, type BackendChoice } from "../../fusion/index.ts";
import type { SuiteProgress } from "../../eval/run/closed-loop.ts";
import { evaluate, requireLabels, type EvaluateOptions } from "../../eval/run/evaluate.ts";
import { checkEvalRecordings, evalRecordings } from "../../eval/run/recordings.ts";
import { mqttEpisodeRunner } from "../../eval/run/mqtt-loop.ts";
import { parseSeeds, scenariosForSeeds, suiteScenarios, withDuration } from "../../eval/run/scenarios.ts";
import { fleetEval } from "../fleet/cli.ts";
import { DEFAULT_PREFIX } from "../../eval/fleet/jobs.ts";
import { evalRunSpec, planRun } from "../../eval/fleet/run.ts";
import { writeEvalOutputs } from "./eval-output.ts";
import { ROS_MAP_OPTION } from "./ros-flags.ts";
import { FUSIOND_VERSION } from "../../schemas/version.ts";
import { closedLoopProgressText, progressLine } from "./eval-progress.ts";
import { usage } from "../cli-errors.ts";
import { number, oneOf } from "../cli-validate.ts";

interface EvalFlags {
  model?: string;
  compare?: string[];
  data?: string[];
  rosMap?: string;
  closedLoop?: boolean;
  suite: string;
  seeds?: string;
  duration?: string;
  ablation?: boolean;
  baselines?: string[];
  mqtt?: string;
  out?: string;
  html?: string;
  backend: string;
  bootstrap: string;
  bootstrapSeed: string;
  parallel: string;
  keepUnusedSensors?: boolean;
  timeline?: string;
  json?: boolean;
  quiet?: boolean;
  verifyKey?: string;
  allowUnsigned?: boolean;
  redis?: string;
  prefix: string;
  attempts: string;
}

export default function register(program: Command): void {
  program
    .command("eval")
    .description("evaluate models: open loop on recordings, modality ablation, closed loop on the scenario suite; JSON and HTML reports")
    .option("--model <dir>", "model directory to evaluate (the baseline when --compare adds others), or a built-in: classic, expert")
    .option("--compare <dirs...>", "further model directories, side by side with paired bootstrap intervals (the first model is the baseline); `classic` names the built-in non-learned controller (radar ACC and AEB, map stop lines and speed limits, spoken commands), `expert` the simulator's privileged expert (closed loop only: the upper bound)")
    .option("--data <files...>", "open loop: recordings with fusiond.GroundTruth (e.g. from `fusiond sim --out`)")
    .option("--closed-loop", "closed loop: the simulator in lockstep with the pipeline over a scenario suite")
    .option("--suite <name>", "closed loop: train, validation or test (the held-out split)", "test")
    .option("--seeds <A-B>", "closed loop: a seed range instead of a suite (suite seeds run their scenario, others a random one); fresh: the range kept outside every suite (eval/run/scenarios.ts)")
    .option("--duration <s>", "closed loop: cap each episode at this many seconds (quick runs)", number({ min: 1 }))
    .option("--ablation", "open loop again with each modality masked, and any --baselines: what each sensor contributes")
    .option("--baselines <dirs...>", "with --ablation: single-modality (or other) baseline models for the ablation table")
    .option("--mqtt <url>", "closed loop over MQTT through this broker (default: in process, virtual time)")
    .option("--out <report.json>", "write the JSON report (schema: docs/eval.md; - for stdout)")
    .option("--html <report.html>", "write a self-contained HTML report (- for stdout)")
    .option("--backend <b>", `inference backend: ${BACKEND_CHOICES.join(", ")} (auto: the fastest that works on the model)`, oneOf(BACKEND_CHOICES), "auto")
    .option("--bootstrap <n>", "bootstrap resamples for the comparison intervals", number({ integer: true, min: 1 }), "2000")
    .option("--bootstrap-seed <n>", "seed of the bootstrap", number({ integer: true, min: 0 }), "1")
    .option("--parallel <n>", "closed loop: episodes run at once (their frames share model batches)", number({ integer: true, min: 1 }), "4")
    .option("--keep-unused-sensors", "do not mask the modalities a model does not read (by default a camera-only model drives without radar)")
    .option("--timeline <episode>", "episode for the report's timeline (default: open loop the first, closed loop the first model's worst)")
    .option("--verify-key <pub.pem>", "open loop: refuse recordings not signed by this Ed25519 public key or changed since (fusiond verify)")
    .option("--allow-unsigned", "with --verify-key: evaluate unsigned recordings anyway, with a warning")
    .option("--json", "print the report JSON on stdout instead of the summary")
    .option("--quiet", "no progress on stderr")
    .option(...ROS_MAP_OPTION)
    .option("--redis <url>", "run the units (one per recording, one per episode) on fleet workers through this Redis (docs/fleet.md)")
    .option("--prefix <name>", "with --redis: the fleet's key prefix", DEFAULT_PREFIX)
    .option("--attempts <n>", "with --redis: tries per unit before it is listed as failed", "3")
    .addHelpText(
      "after",
      `
Examples:
  fusiond eval --model models/default --data test-*.mcap                              # open loop
  fusiond eval --model models/camera-only --compare models/default --closed-loop --suite test --html report.html
  fusiond eval --model models/default --compare classic --closed-loop --seeds 1000-1099 --duration 60         # against the classic baseline
  fusiond eval --model models/default --compare classic expert --closed-loop --seeds 1000-1019 --duration 60  # with the expert's bound
  fusiond eval --model models/default --data test-*.mcap --ablation --baselines models/radar-only models/camera-only
  fusiond eval --model models/default --closed-loop --seeds 1-20 --duration 30 --out - | jq .models[0].closedLoop.collisions`,
    )
    .action(async (flags: EvalFlags) => {
      const fail = (msg: string): never => usage(msg);
      const models = [...(flags.model ? [flags.model] : []), ...(flags.compare ?? [])];
      if (!models.length) return fail("give --model DIR (and/or --compare DIR...)");
      if (!flags.data?.length && !flags.closedLoop) return fail("give --data FILES... (open loop) and/or --closed-loop");
      if (flags.ablation && !flags.data?.length) return fail("--ablation works on recordings: give --data");
      // commander's parsers have checked --bootstrap, --bootstrap-seed, --parallel, --duration and --backend.
      const scenarios = flags.closedLoop ? (flags.seeds ? scenariosForSeeds(parseSeeds(flags.seeds)) : suiteScenarios(flags.suite)) : [];
      const progress = progressLine(!flags.quiet && (process.stderr.isTTY || process.env["FUSIOND_PROGRESS"] === "1"));
      const log = (s: string): void => {
        progress.end();
        if (!flags.quiet) process.stderr.write(`fusiond eval: ${s}\n`);
      };
      if (flags.data?.length) await checkEvalRecordings(flags.data, flags, (w) => process.stderr.write(`fusiond eval: ${w}\n`));
      const started = performance.now();
      // ROS recordings in --data are converted to temporary fusiond recordings first (removed at the end).
      const inputs = await evalRecordings(flags.data ?? [], flags.rosMap, log);
      const options: EvaluateOptions = {
        models,
        data: inputs.paths,
        scenarios: withDuration(scenarios, flags.duration === undefined ? undefined : Number(flags.duration)),
        suiteName: flags.seeds ? `seeds ${flags.seeds}` : flags.suite,
        ablation: Boolean(flags.ablation),
        baselines: flags.baselines ?? [],
        backend: flags.backend as BackendChoice,
        maskUnused: !flags.keepUnusedSensors,
        bootstrap: { iterations: Number(flags.bootstrap), level: 0.95, seed: Number(flags.bootstrapSeed) },
        parallel: Number(flags.parallel),
        ...(flags.timeline ? { timelineEpisode: flags.timeline } : {}),
        ...(flags.mqtt ? { runEpisode: mqttEpisodeRunner(flags.mqtt), transport: "mqtt" as const } : { transport: "in-process" as const }),
        command: `fusiond ${process.argv.slice(2).join(" ")}`,
        version: FUSIOND_VERSION,
        log,
        onOpenLoopProgress: (model, files, file, decisions) => progress.draw(`open loop ${model}: file ${file + 1}/${files}, ${decisions} decisions`),
        onClosedLoopProgress: (model: string, p: SuiteProgress) => progress.draw(closedLoopProgressText(model, p, (performance.now() - started) / 1000), p.done === p.episodes),
      };
      const outputs = { ...(flags.out ? { out: flags.out } : {}), ...(flags.html ? { html: flags.html } : {}), ...(flags.json ? { json: true } : {}) };
      if (flags.redis) {
        if (inputs.converted) {
          await inputs.cleanup();
          return fail("--redis takes fusiond recordings: convert ROS recordings first (fusiond convert IN --out OUT.mcap) so every worker reads the same file");
        }
        if (flags.mqtt) return fail("--mqtt and --redis do not go together: fleet workers run closed loop in process");
        const attempts = Number(flags.attempts);
        if (!Number.isFinite(attempts) || attempts < 1) return fail(`--attempts must be a number ≥ 1, not "${flags.attempts}"`);
        const manifest = await planRun("eval", evalRunSpec(options), outputs, attempts);
        const report = await fleetEval(manifest, { redis: flags.redis, prefix: flags.prefix, quiet: Boolean(flags.quiet), log });
        if (report) await writeEvalOutputs(report, manifest.outputs, log);
        return;
      }
      const { report } = await evaluate(options).finally(inputs.cleanup);
      progress.end();
      requireLabels(report);
      await writeEvalOutputs(report, outputs, log);
    });
}
