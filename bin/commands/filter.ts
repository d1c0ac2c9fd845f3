/** `fusiond filter IN --out OUT`: a new recording with only some topics and/or a time range of another. */
import { resolve } from "node:path";
import type { Command } from "commander";
import { COMPRESSIONS, type Compression } from "../../replay/index.ts";
import { usage } from "../cli-errors.ts";
import { checkRange, number, oneOf } from "../cli-validate.ts";
import { reportStream, writeAtomically } from "../output-file.ts";
import { fusiondMetadata, openRecording, rangeOf, writeMessages } from "../tools/recording-io.ts";

interface FilterOpts {
  out: string;
  topics?: string[];
  start?: string;
  end?: string;
  compression: string;
  json?: boolean;
}

export default function register(program: Command): void {
  program
    .command("filter")
    .description("write a new recording with only the chosen topics and/or time range of another")
    .argument("<in>", "the .mcap recording to read")
    .requiredOption("-o, --out <file>", "the .mcap to write (must differ from IN; - for stdout)")
    .option("-t, --topics <pattern...>", "keep only topics matching these MQTT-style patterns")
    .option("--start <s>", "keep from this many seconds after the first message", number({ min: 0 }))
    .option("--end <s>", "keep up to this many seconds after the first message", number({ gt: 0 }))
    .option("--compression <kind>", `chunk compression: ${COMPRESSIONS.join(", ")}`, oneOf(COMPRESSIONS), "zstd")
    .option("--json", "print the result as JSON: file, messages")
    .addHelpText(
      "after",
      `
Messages keep their bytes, both stamps and their order; the "fusiond" metadata record (vehicle, config,
model) is carried over with filteredFrom added. The output appears only when it is complete.

Examples:
  fusiond filter drive.mcap --topics 'vehicles/+/sensors/radar/#' 'vehicles/+/ego' -o radar.mcap
  fusiond filter drive.mcap --start 30 --end 90 -o minute.mcap
  fusiond filter drive.mcap -t 'vehicles/ego1/#' --start 10 -o ego1.mcap --compression lz4`,
    )
    .action(async (input: string, opts: FilterOpts) => {
      checkRange(opts.start, opts.end);
      if (resolve(input) === resolve(opts.out)) usage(`--out must differ from the input (${input})`, "write to another file; rename it afterwards if you like");
      const rec = await openRecording(input);
      try {
        const range = await rangeOf(rec, opts.start, opts.end);
        const metadata = { ...(await fusiondMetadata(rec)), filteredFrom: input };
        const messages = rec.messages({ ...range, ...(opts.topics?.length ? { topics: opts.topics } : {}) });
        const n = await writeAtomically(opts.out, (tmp) => writeMessages(tmp, messages, { compression: opts.compression as Compression, metadata }));
        if (opts.json) reportStream(opts.out).write(JSON.stringify({ file: opts.out, messages: n }) + "\n");
        else process.stderr.write(`fusiond filter: wrote ${opts.out === "-" ? "stdout" : opts.out}: ${n} messages\n`);
      } finally {
        await rec.close();
      }
    });
}
