/** `fusiond info FILE`: what a recording holds. */
import type { Command } from "commander";
import { redactMetadata } from "../../schemas/index.ts";
import { fileSource, formatInfo, McapRecording, recordingInfo, scanError, signatureState } from "../../replay/index.ts";
import { recordingInput } from "../../replay/index.ts";
import { ROS_MAP_OPTION } from "./ros-flags.ts";

export default function register(program: Command): void {
  program
    .command("info")
    .description("summarise an MCAP recording: duration, topics, types, counts, rates, gaps, chunk stats, metadata")
    .argument("<file>", "the .mcap recording (or a ROS 1 bag / ROS 2 MCAP: converted first, see fusiond convert)")
    .option("--json", "print the summary as JSON (stable field names)")
    .option(...ROS_MAP_OPTION)
    .addHelpText(
      "after",
      `
A closed file is summarised from its summary and message indexes (no chunk is decompressed);
a file that was not closed is scanned, and any problem is reported with its byte offset
(exit status 1; \`fusiond recover\` rebuilds such a file).

Examples:
  fusiond info drive.mcap
  fusiond info drive.mcap --json | jq '.topics[] | {topic, rateHz}'
  fusiond info drive.bag --ros-map ros.yaml        # a ROS recording, as fusiond convert would write it`,
    )
    .action(async (file: string, opts: { json?: boolean; rosMap?: string }) => {
      const input = await recordingInput(file, opts.rosMap, (line) => process.stderr.write(`fusiond info: ${line}\n`));
      const rec = await McapRecording.open(await fileSource(input.path)).catch(async (err: unknown) => {
        await input.cleanup();
        throw err;
      });
      try {
        const info = await recordingInfo(rec);
        if (input.converted) info.file = file;
        // Recordings made before secrets were redacted at record time may hold them: never print one.
        info.metadata = redactMetadata(info.metadata);
        // Whether it is signed (not checked: that is fusiond verify --key).
        const { status, reason, keyId } = await signatureState(rec.source);
        const signature = { status, reason, ...(keyId ? { keyId } : {}) };
        process.stdout.write(opts.json ? JSON.stringify({ ...info, signature }, null, 2) + "\n" : `${formatInfo(info)}\nsignature: ${status}: ${reason}\n`);
        if (info.problems.length > 0) {
          const first = scanError(file, info.problems[0]!);
          process.stderr.write(`fusiond info: ${first.message}\n`);
          process.exitCode = 1;
        }
      } finally {
        await rec.close();
        await input.cleanup();
      }
    });
}
