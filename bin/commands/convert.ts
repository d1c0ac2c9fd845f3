/** `fusiond convert IN.bag|IN.mcap [--map ros.yaml] --out OUT.mcap`: a ROS recording → a fusiond recording. */
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import type { Command } from "commander";
import { FusiondError } from "../../schemas/index.ts";
import { COMPRESSIONS, convertRosFile, type Compression, type ConvertReport } from "../../replay/index.ts";
import { FUSIOND_VERSION } from "../version.ts";
import { readMapping } from "../../replay/index.ts";

interface ConvertFlags {
  out: string;
  map?: string;
  compression: string;
  json?: boolean;
  progress?: boolean;
}

const json = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x), 2);

export function formatConvertReport(r: ConvertReport, out: string, seconds: number): string {
  const mb = r.bytesIn / 1e6;
  const span = r.startNs !== undefined && r.endNs !== undefined ? Number(r.endNs - r.startNs) / 1e9 : 0;
  const lines = [
    `${r.input} (${r.format === "ros1" ? "ROS 1 bag" : "ROS 2 MCAP"}, ${mb.toFixed(1)} MB) → ${out}: ${r.messagesIn} messages read, ${r.messagesOut} written, ${span.toFixed(3)} s; ${seconds.toFixed(2)} s (${(mb / Math.max(seconds, 1e-9)).toFixed(0)} MB/s)`,
  ];
  const table = (rows: string[][]): string[] => {
    const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    return rows.map((r) => "  " + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join("  "));
  };
  if (r.mapped.length) lines.push("mapped:", ...table(r.mapped.map((m) => [m.topic, m.type, String(m.count), `→ ${m.to}${m.explicit ? "" : " (default)"}`])));
  if (r.unmapped.length) lines.push("not mapped (skipped):", ...table(r.unmapped.map((m) => [m.topic, m.type || "?", String(m.count), m.reason])));
  if (r.rejected.length) lines.push("rejected:", ...table(r.rejected.map((m) => [m.topic, m.type, String(m.count), m.reason])));
  if (r.missing.length) {
    lines.push("not carried by the ROS types (written as missing, not zero):", ...table(r.missing.map((m) => [m.to, `from ${m.from}:`, m.fields.join(", ")])));
  }
  if (r.stampFromReceive) lines.push(`${r.stampFromReceive} messages had a zero header stamp: their receive time stands in`);
  for (const p of r.problems) lines.push(`recovered: ${p.code} at byte offset ${p.offset}: ${p.detail}`);
  return lines.join("\n");
}

export default function register(program: Command): void {
  program
    .command("convert")
    .description("convert a ROS 1 bag or a ROS 2 MCAP (CDR) recording into a fusiond recording")
    .argument("<in>", "the .bag (ROS 1) or .mcap (ROS 2) recording")
    .requiredOption("-o, --out <out.mcap>", "the fusiond recording to write (written under a temporary name, renamed when complete)")
    .option("--map <ros.yaml>", "topic mapping (docs/ros.md); default: the common types by type, vehicle \"ros\"")
    .option("--compression <kind>", `chunk compression of the output: ${COMPRESSIONS.join(", ")} (zstd at its fast level -1; none by default: camera frames are JPEG already, and zstd would shrink a drive by ~5% at a third of the speed)`, "none")
    .option("--json", "print the report as JSON")
    .option("--no-progress", "no progress line (shown on a terminal only)")
    .addHelpText(
      "after",
      `
Event stamps come from the messages' header.stamp (exact, ns), receive times from the bag's record
times (ROS 2: the MCAP log_time). What cannot be mapped is listed by topic, type and count and skipped;
fields the ROS types cannot carry (e.g. EgoState's lane_change) are named and left missing. A bag that
was not closed or was cut is recovered by a forward scan (as rosbag reindex does), and the offset is
reported. On any error nothing is left at --out.

Examples:
  fusiond convert drive.bag --out drive.mcap
  fusiond convert rosbag2_drive.mcap --map ros.yaml --out drive.mcap --json
  fusiond replay drive.mcap --model models/default`,
    )
    .action(async (file: string, opts: ConvertFlags) => {
      if (!(COMPRESSIONS as readonly string[]).includes(opts.compression)) {
        throw new FusiondError("bad_option", `--compression must be one of ${COMPRESSIONS.join(", ")}, not "${opts.compression}"`);
      }
      if (resolve(file) === resolve(opts.out)) throw new FusiondError("bad_option", `--out must differ from the input (${file})`, { file });
      const m = opts.map ? readMapping(opts.map) : undefined;
      const tty = opts.progress !== false && process.stderr.isTTY;
      let last = 0;
      const t0 = performance.now();
      const report = await convertRosFile(file, opts.out, {
        ...(m ? { mapping: m.mapping, mappingText: m.text } : {}),
        compression: opts.compression as Compression,
        library: `fusiond/${FUSIOND_VERSION}`,
        metadata: { fusiondVersion: FUSIOND_VERSION },
        ...(tty
          ? {
              onProgress: (read: number, size: number, written: number) => {
                const now = performance.now();
                if (now - last < 200 && read < size) return;
                last = now;
                const s = (now - t0) / 1000;
                process.stderr.write(`\r${file}: ${((100 * read) / Math.max(size, 1)).toFixed(0)}% (${(read / 1e6).toFixed(0)} of ${(size / 1e6).toFixed(0)} MB, ${(read / 1e6 / Math.max(s, 1e-9)).toFixed(0)} MB/s), ${written} messages\x1b[K`);
              },
            }
          : {}),
      });
      if (tty) process.stderr.write("\r\x1b[K");
      const seconds = (performance.now() - t0) / 1000;
      process.stdout.write((opts.json ? json({ ...report, out: opts.out, seconds }) : formatConvertReport(report, opts.out, seconds)) + "\n");
    });
}
