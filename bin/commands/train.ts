/**
 * `fusiond train --data A.mcap... --strategy S --out models/NAME`: trains a fusion model from simulator
 * recordings. Parses and checks the flags, picks the TF.js backend, runs the training (train/run.ts: reading,
 * alignment, the feature cache, worker threads; fusion/train's pure steps), draws progress on stderr, and
 * writes the model directory whole or not at all.
 */
import { Option, type Command } from "commander";
import { MODALITIES } from "../../schemas/index.ts";
import { DEFAULT_CAMERA_IDS, selectBackend, STRATEGIES, TRAINING_BACKEND_CHOICES, type BackendChoice } from "../../fusion/index.ts";
import { runTraining } from "../../train/run.ts";
import { checkCameras, checkFlags, refuseFreshData, runOptions, type TrainFlags } from "./train-flags.ts";
import { modelRadarScan } from "./models.ts";
import { epochLine, progressBar } from "./train-progress.ts";
import { listOf, number, oneOf } from "../cli-validate.ts";
import { writeAtomically } from "../output-file.ts";

export default function register(program: Command): void {
  program
    .command("train")
    .description("train a fusion model from simulator recordings (labels: the expert's actions)")
    .requiredOption("--data <files...>", "training recordings (MCAP with sensors and fusiond.GroundTruth)")
    .option("--val-data <files...>", "validation recordings (default: a split of --data by episode)")
    .option("--test-data <files...>", "held-out recordings to report test metrics on (per weather)")
    .option("--strategy <s>", `fusion strategy: ${STRATEGIES.join(", ")}`, oneOf(STRATEGIES), "intermediate")
    .requiredOption("--out <dir>", "model directory to write (e.g. models/default)")
    .option("--modalities <list>", "modalities the model reads", listOf(MODALITIES), MODALITIES.join(","))
    .option("--seed <n>", "seed of initialisation, shuffles and dropout", number({ integer: true, min: 0 }), "1")
    .option("--epochs <n>", "most epochs", number({ integer: true, min: 1 }), "30")
    .option("--batch <n>", "batch size", number({ integer: true, min: 1 }), "64")
    .option("--lr <x>", "Adam learning rate", number({ gt: 0, max: 1 }), "0.002")
    .option("--patience <n>", "early stopping: epochs without a better validation macro-F1", number({ integer: true, min: 1 }), "5")
    .option("--dropout <p>", "modality dropout probability per modality and sample", number({ min: 0, max: 1 }), "0.15")
    .option("--every <n>", "take every n-th frame of a recording", number({ integer: true, min: 1 }), "2")
    .option("--pretrain <list>", "encoders to pretrain on their own task first (camera,voice), or none", listOf(["camera", "voice", "none"]), "none")
    .option("--freeze <n>", "epochs the pretrained encoders stay frozen before fine-tuning", number({ integer: true, min: 0 }), "3")
    .option("--max-minutes <m>", "stop training after this long, per ensemble member (best weights kept)", number({ gt: 0 }), "18")
    .option("--backend <b>", `TF.js backend: ${TRAINING_BACKEND_CHOICES.join(", ")}`, oneOf(TRAINING_BACKEND_CHOICES), "wasm")
    .option("--compare <dir>", "a baseline model directory to evaluate on the same test data (deltas in the card)")
    .option("--description <text>", "one line for the model card")
    .option("--no-cache", "do not read or write the feature cache")
    .option("--head <widths>", "hidden layer widths of the shared head, comma-separated (early, intermediate, attention)", "64")
    .option("--units <n>", "embedding width of each modality's encoder", number({ integer: true, min: 1, max: 1024 }), "32")
    .option("--ensemble <n>", "train n members (seeds seed, seed+1, …) and ship their averaged probabilities as one model (early and intermediate: fused side by side into one wide model, one member's op count)", number({ integer: true, min: 1, max: 8 }), "1")
    .option("--jobs <n>", "ensemble members trained at once, each in a worker thread on its own core (default: the cores, at most the members)", number({ integer: true, min: 1, max: 64 }))
    .option("-q, --quiet", "no progress and no log lines on stderr (errors still; the result is on stdout)")
    .option("--cameras <ids>", `camera slots, one per camera id in this order, a shared camera encoder over them (e.g. ${DEFAULT_CAMERA_IDS.join(",")}, the simulator's set: data from fusiond sim --cameras); default: the one reference camera`)
    .option("--ego-accel", "read the car's measured acceleration too (only for data from fusiond sim --perturb: on the expert's own drives it gives the label away)")
    .option("--stop-state", "read the stop-line state too: whether the upcoming stop line was served, and its distance to 200 m (fusion/features/stop-line.ts; needs GNSS)")
    .addOption(new Option("--radar-scan <which>", "the radar scan frames hold: nearest the camera stamp (waited for), or the latest at or before it, moved to the camera stamp (never waited for: ~a radar period less latency in the daemon, which aligns so for this model)").choices(["nearest", "latest"]).default("nearest"))
    .addHelpText(
      "after",
      `
Examples:
  fusiond train --data train-*.mcap --strategy intermediate --out models/mine
  fusiond train --data train-*.mcap --test-data test-*.mcap --strategy late --epochs 20 --out models/late-20 --compare models/default
  fusiond train --data train-*.mcap --modalities camera --out models/camera-mine --quiet
  fusiond train --data train-*.mcap --radar-scan latest --out models/no-radar-wait   # the daemon then never waits for the scan after the camera
  fusiond train --data 4cam/train-*.mcap --cameras front,rear,left,right --out models/multi-mine   # data: fusiond sim --cameras front,rear,left,right`,
    )
    .action(async (flags: TrainFlags) => {
      const log = (s: string): void => void (flags.quiet ? undefined : process.stderr.write(`fusiond train: ${s}\n`));
      const checked = checkFlags(flags);
      const t0 = performance.now();
      const backend = await selectBackend(flags.backend as BackendChoice);
      log(`backend ${backend.chosen} (${backend.log.join("; ")})`);
      const baseConfig = checkCameras(flags);
      await refuseFreshData(flags);
      // A serving choice is made on validation after training (models/README.md): the model written here has none.
      const choiceLost = servedLatestAt(flags.out) && `${flags.out} is served on the latest radar scan (its input-spec.json serving choice); the model written there has no serving choice and is served as it is trained — choose again on validation and set it (models/README.md, "Served on the latest radar scan")`;
      if (choiceLost) log(`warning: ${choiceLost}`);
      const run = await runTraining({
        ...runOptions(flags, checked, baseConfig, backend.chosen),
        t0,
        log,
        progress: (label) => progressBar(label, flags.quiet),
        epochLine,
      });
      // The model directory appears whole or not at all (bin/output-file.ts): a failed save leaves no half model.
      const hash = await writeAtomically(flags.out, (tmp) => run.save(tmp));
      log(`wrote ${flags.out} (hash ${hash}); validation macro-F1 ${run.val.macroF1.toFixed(3)}`);
      if (choiceLost) log(`warning: ${choiceLost}`);
      process.stdout.write(JSON.stringify({ out: flags.out, hash, metrics: run.metrics }, null, 2) + "\n");
    });
}

/** Whether the model already at `dir` has the serving choice of the latest radar scan (an unreadable one has none to lose). */
function servedLatestAt(dir: string): boolean {
  try {
    return modelRadarScan(dir) === "latest (served)";
  } catch {
    return false;
  }
}
