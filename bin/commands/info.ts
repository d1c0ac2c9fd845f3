/** `fusiond info FILE`: what a recording holds. */
import type { Command } from "commander";
import { redactMetadata } from "../../schemas/index.ts";
import { fileSource, formatInfo, McapRecording, recordingInfo, scanError, signatureState } from "../../replay/index.ts";

export default function register(program: Command): void {
  program
    .command("info")
    .description("summarise an MCAP recording: duration, topics, types, counts, rates, gaps, chunk stats, metadata")
    .argument("<file>", "the .mcap recording")
    .option("--json", "print the summary as JSON (stable field names)")
    .addHelpText(
      "after",
      `
A closed file is summarised from its summary and message indexes (no chunk is decompressed);
a file that was not closed is scanned, and any problem is reported with its byte offset
(exit status 1; \`fusiond recover\` rebuilds such a file).

Examples:
  fusiond info drive.mcap
  fusiond info drive.mcap --json | jq '.topics[] | {topic, rateHz}'`,
    )
    .action(async (file: string, opts: { json?: boolean }) => {
      const rec = await McapRecording.open(await fileSource(file));
      try {
        const info = await recordingInfo(rec);
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
      }
    });
}
