/** `fusiond recover FILE --out FIXED.mcap`: rebuild a recording that was not closed or is damaged. */
import { resolve } from "node:path";
import type { Command } from "commander";
import { FusiondError } from "../../schemas/index.ts";
import { oneOf } from "../cli-validate.ts";
import { reportStream, writeAtomically } from "../output-file.ts";
import { COMPRESSIONS, fileSink, fileSource, recoverRecording, type Compression } from "../../replay/index.ts";

export default function register(program: Command): void {
  program
    .command("recover")
    .description("rebuild an MCAP recording that was not closed (or is damaged): every whole chunk is kept, with a new summary and indexes")
    .argument("<file>", "the damaged or unclosed .mcap")
    .requiredOption("-o, --out <fixed>", "where to write the rebuilt recording (must differ from FILE; - for stdout)")
    .option("--compression <kind>", `chunk compression of the output: ${COMPRESSIONS.join(", ")}`, oneOf(COMPRESSIONS), "zstd")
    .option("--json", "print the recovery report as JSON")
    .addHelpText(
      "after",
      `
Every message of every chunk that still reads whole is kept (schemas, channels, metadata,
sequence numbers and both stamps as they were); what was skipped is listed by byte offset.
A recording killed mid-drive loses only its last open chunk (at most ~1 s).

Examples:
  fusiond recover crashed.mcap --out fixed.mcap
  fusiond recover crashed.mcap -o fixed.mcap --json`,
    )
    .action(async (file: string, opts: { out: string; compression: string; json?: boolean }) => {
      if (!(COMPRESSIONS as readonly string[]).includes(opts.compression)) {
        throw new FusiondError("bad_option", `--compression must be one of ${COMPRESSIONS.join(", ")}, not "${opts.compression}"`);
      }
      if (resolve(file) === resolve(opts.out)) {
        throw new FusiondError("bad_option", `--out must differ from the input (${file}): recovery reads one while writing the other`, { file });
      }
      const source = await fileSource(file);
      try {
        // Written under a temporary name and renamed when whole: a failed recovery leaves no output file.
        const recovered = await writeAtomically(opts.out, async (tmp) => {
          const sink = await fileSink(tmp);
          try {
            return await recoverRecording(source, sink, { compression: opts.compression as Compression });
          } catch (err) {
            await sink.close().catch(() => undefined); // already closed, or failing: the error that matters is err
            throw err;
          }
        });
        const report = { ...recovered, out: opts.out };
        if (opts.json) {
          reportStream(opts.out).write(JSON.stringify(report, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2) + "\n");
          return;
        }
        const span = report.startNs !== undefined && report.endNs !== undefined ? Number(report.endNs - report.startNs) / 1e9 : 0;
        reportStream(opts.out).write(
          `${report.out}: ${report.messages} messages from ${report.chunks} chunks (${span.toFixed(3)} s of log time), ${report.metadata} metadata records` +
            `${report.wasClosed ? "; the input was closed properly" : ""}\n`,
        );
        // A signature covers the bytes it was made over; a rebuilt file has other bytes.
        reportStream(opts.out).write(`${report.out} is not signed (marked fusiond.recovered)${report.droppedSignature ? "; the input's signature was dropped: check the input with fusiond verify" : ""}\n`);
        for (const p of report.problems) reportStream(opts.out).write(`skipped: ${p.code} at byte offset ${p.offset}: ${p.detail}\n`);
      } finally {
        await source.close();
      }
    });
}
