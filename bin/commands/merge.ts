/** `fusiond merge A B... --out C`: one recording with the messages of several, in log-time order. */
import { resolve } from "node:path";
import type { Command } from "commander";
import { COMPRESSIONS, type Compression, type McapRecording } from "../../replay/index.ts";
import { usage } from "../cli-errors.ts";
import { oneOf } from "../cli-validate.ts";
import { reportStream, writeAtomically } from "../output-file.ts";
import { fusiondMetadata, mergeByLogTime, openRecording, writeMessages } from "../tools/recording-io.ts";

interface MergeOpts {
  out: string;
  compression: string;
  json?: boolean;
}

export default function register(program: Command): void {
  program
    .command("merge")
    .description("merge recordings into one, in log-time (receive) order")
    .argument("<files...>", "two or more .mcap recordings")
    .requiredOption("-o, --out <file>", "the .mcap to write (must differ from every input; - for stdout)")
    .option("--compression <kind>", `chunk compression: ${COMPRESSIONS.join(", ")}`, oneOf(COMPRESSIONS), "zstd")
    .option("--json", "print the result as JSON: file, messages")
    .addHelpText(
      "after",
      `
Each message keeps its bytes and both stamps; messages with the same log time keep the order of the inputs.
The "fusiond" metadata record of the first input is carried over, with mergedFrom added. The output appears
only when it is complete.

Examples:
  fusiond merge drive_000.mcap drive_001.mcap drive_002.mcap -o drive.mcap
  fusiond merge sensors.mcap decisions.mcap --out session.mcap`,
    )
    .action(async (files: string[], opts: MergeOpts) => {
      if (files.length < 2) usage("give two or more recordings to merge");
      if (files.some((f) => resolve(f) === resolve(opts.out))) usage(`--out must differ from every input (${opts.out} is one of them)`);
      const recs: McapRecording[] = [];
      try {
        for (const f of files) recs.push(await openRecording(f));
        const metadata = { ...(await fusiondMetadata(recs[0]!)), mergedFrom: files.join(",") };
        const merged = mergeByLogTime(recs.map((r) => r.messages()[Symbol.asyncIterator]()));
        const n = await writeAtomically(opts.out, (tmp) => writeMessages(tmp, merged, { compression: opts.compression as Compression, metadata }));
        if (opts.json) reportStream(opts.out).write(JSON.stringify({ file: opts.out, messages: n }) + "\n");
        else process.stderr.write(`fusiond merge: wrote ${opts.out}: ${n} messages from ${files.length} recordings\n`);
      } finally {
        for (const r of recs) await r.close();
      }
    });
}
