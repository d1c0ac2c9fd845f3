/**
 * `fusiond replay FILES... --model DIR`: each recording through the pipeline (runReplay, eval/run/replay.ts) in
 * this process, or with --redis one fleet job per recording; the same report either way.
 */
import type { Command } from "commander";
import { BACKEND_CHOICES, type BackendChoice } from "../../fusion/index.ts";
import { usage } from "../cli-errors.ts";
import { checkRange, number, oneOf } from "../cli-validate.ts";
import { writeAtomically } from "../output-file.ts";
import { reasonOf } from "../../eval/run/evaluate.ts";
import { fleetReplay } from "../fleet/cli.ts";
import { DEFAULT_PREFIX } from "../../eval/fleet/jobs.ts";
import { planRun, type ReplayOutcome } from "../../eval/fleet/run.ts";
import { FUSIOND_VERSION } from "../version.ts";
import { DEFAULT_IGNORE, runReplay, type ReplayOpts } from "../../eval/run/replay.ts";
import { writeReplayOutputs } from "./replay-output.ts";
import { ROS_MAP_OPTION } from "./ros-flags.ts";

export { DEFAULT_IGNORE, runReplay, type ReplayOpts, type ReplayReport } from "../../eval/run/replay.ts";
export { REPLAY_SET_SCHEMA, replaySummary, writeReplayOutputs } from "./replay-output.ts";

export default function register(program: Command): void {
  program
    .command("replay")
    .description("run a recording through the pipeline in virtual time, decide with a model, and compare with the decisions recorded live")
    .argument("<files...>", "the .mcap recording(s) (or ROS 1 bags / ROS 2 MCAP: converted first, see fusiond convert); several: one report each, --out writes fusiond.replay-set/1")
    .requiredOption("-m, --model <dir>", "model directory (model.json, weights, input-spec.json, card.json)")
    .option("-o, --out <report.json>", "write the report (decisions, metrics, comparison) as JSON (- for stdout)")
    .option("--record <out.mcap>", "record the replayed session (inputs and the new decisions, stamped in virtual time)")
    .option("--backend <name>", `inference backend: ${BACKEND_CHOICES.join(", ")}`, oneOf(BACKEND_CHOICES), "auto")
    .option("--map <file.json>", "road map for GNSS map context (default: the one stored in the recording; a path the recording names is never opened)")
    .option("--verify-key <pub.pem>", "refuse the recording unless it is signed by this Ed25519 public key and unchanged since (fusiond verify)")
    .option("--allow-unsigned", "with --verify-key: replay an unsigned recording anyway, with a warning")
    .option(...ROS_MAP_OPTION)
    .option("--start <s>", "start this many seconds after the first message (latched GNSS/ego state first)", number({ min: 0 }))
    .option("--end <s>", "stop this many seconds after the first message", number({ gt: 0 }))
    .option("-t, --topics <pattern...>", "only these input topics (MQTT-style patterns)")
    .option("--ignore <fields>", "comma-separated decision fields not compared", DEFAULT_IGNORE.join(","))
    .option("--tolerance <x>", "absolute tolerance for numeric fields", "1e-6")
    .option("-r, --rate <n|max>", "pace the replay: 1 = real time, N = N× real time, max = as fast as possible (virtual time is the same either way)", "max")
    .option("--latency <mode>", "decision latency on the virtual clock: zero (every frame decided at once) or recorded (each decision released when it was made live, so the decide stage conflates frames as it did live)", "zero")
    .option("--frames <mode>", "which frames to decide: recorded (exactly those decided live, rebuilt from the inputs each decision lists), aligner (align and decide again on the virtual clock), auto (recorded when the decisions list their inputs)", "auto")
    .option("--batch <n>", "with --frames recorded: frames whose model calls run as one batch (the decisions do not depend on it; 1 with --rate)", number({ min: 1, integer: true }), "32")
    .option("--measured", "keep the wall-clock inference_ms in the replayed decisions (default: 0, so that two replays are byte-identical)")
    .option("-q, --quiet", "no summary on stderr")
    .option("--json", "print the report as JSON on stdout (the same as -o -)")
    .option("--redis <url>", "run one job per recording on fleet workers through this Redis (docs/fleet.md)")
    .option("--prefix <name>", "with --redis: the fleet's key prefix", DEFAULT_PREFIX)
    .option("--attempts <n>", "with --redis: tries per recording before it is listed as failed", "3")
    .addHelpText(
      "after",
      `
With --frames recorded (the default for recordings made by fusiond run), replay decides exactly the
frames the daemon decided live, each built from the very messages it used live, so the decisions match
the live ones except for measured fields (--ignore). With --frames aligner, every timeout and every
alignment decision happens at the same logical instant as it did live, however fast this runs, but
which frames the decide stage conflated live depended on the wall clock and is not reproduced.
Replaying one recording twice gives byte-identical decision streams in either mode.
The aligner settings come from the daemon config stored in the recording's metadata, if any.
An unsigned recording is replayed with a warning; with --verify-key one that does not verify
(or is unsigned, unless --allow-unsigned) is refused before anything is read from it.

Examples:
  fusiond replay drive.mcap --model models/default --out report.json
  fusiond replay drive.mcap -m models/default --start 30 --end 90 --record replayed.mcap
  fusiond replay drive.mcap -m models/late --ignore latency_ms,inference_ms,model_id,model_hash -o - | jq .comparison
  fusiond replay drive.bag -m models/default --ros-map ros.yaml     # a ROS recording, converted first
  fusiond replay /mnt/drives/*.mcap -m models/default -o all.json --redis redis://10.0.0.5:6379   (fleet workers: docs/fleet.md)
  (fusiond models lists the models shipped and found here)`,
    )
    .action(async (files: string[], opts: ReplayOpts & { redis?: string; prefix: string; attempts: string; json?: boolean }) => {
      checkRange(opts.start, opts.end);
      const log = (s: string): void => void process.stderr.write(`fusiond replay: ${s}\n`);
      const out = opts.json && !opts.out ? "-" : opts.out;
      if (opts.redis) {
        if (opts.record) usage("--record writes a file on this machine: it does not go with --redis");
        if (opts.rosMap) usage("--ros-map converts on this machine: convert first (fusiond convert IN --out OUT.mcap) so every worker reads the same file");
        if (opts.verifyKey) usage("--verify-key is checked on this machine: run fusiond verify FILES --key PUB first, then replay them with --redis");
        if ((opts.rate ?? "max") !== "max") usage("--rate paces one replay in real time: it does not go with --redis");
        const attempts = Number(opts.attempts);
        if (!Number.isInteger(attempts) || attempts < 1) usage(`--attempts must be an integer ≥ 1, not "${opts.attempts}"`);
        const manifest = await planRun(
          "replay",
          {
            files,
            model: opts.model,
            backend: (opts.backend ?? "auto") as BackendChoice,
            options: {
              ignore: opts.ignore,
              tolerance: opts.tolerance,
              ...(opts.start !== undefined ? { start: opts.start } : {}),
              ...(opts.end !== undefined ? { end: opts.end } : {}),
              ...(opts.topics?.length ? { topics: opts.topics } : {}),
              ...(opts.measured ? { measured: true } : {}),
              ...(opts.latency !== undefined ? { latency: opts.latency } : {}),
              ...(opts.frames !== undefined ? { frames: opts.frames } : {}),
              ...(opts.map ? { map: opts.map } : {}),
            },
            version: FUSIOND_VERSION,
          },
          opts.out ? { out: opts.out } : {},
          attempts,
        );
        const outcomes = await fleetReplay(manifest, { redis: opts.redis, prefix: opts.prefix, quiet: Boolean(opts.quiet), log });
        if (outcomes) await writeReplayOutputs(outcomes, { ...manifest.outputs, quiet: Boolean(opts.quiet) });
        return;
      }
      if (files.length === 1) {
        // One recording: exactly as ever (the report object; an error is the command's error). Outputs appear
        // whole or not at all (bin/output-file.ts).
        const file = files[0]!;
        const report = opts.record ? await writeAtomically(opts.record, (tmp) => runReplay(file, { ...opts, record: tmp })) : await runReplay(file, opts);
        await writeReplayOutputs([{ file, ok: true, report }], { ...(out ? { out } : {}), quiet: Boolean(opts.quiet) });
        return;
      }
      if (opts.record) usage("--record takes one recording");
      const outcomes: ReplayOutcome[] = [];
      for (const file of files) {
        try {
          outcomes.push({ file, ok: true, report: await runReplay(file, opts) });
        } catch (err) {
          outcomes.push({ file, ok: false, reason: reasonOf(err) });
        }
      }
      await writeReplayOutputs(outcomes, { ...(out ? { out } : {}), quiet: Boolean(opts.quiet) });
    });
}
