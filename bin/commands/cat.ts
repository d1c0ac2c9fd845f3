/** `fusiond cat FILE`: print a recording's messages, decoded — one line each, for people or (--json) for scripts. */
import type { Command } from "commander";
import { isoNs } from "../../replay/index.ts";
import { checkRange, number, oneOf } from "../cli-validate.ts";
import { decodedJson, openRecording, rangeOf } from "../tools/recording-io.ts";

interface CatOpts {
  topics?: string[];
  start?: string;
  end?: string;
  count?: string;
  json?: boolean;
  bytes: "length" | "base64";
}

/** A compact one-line view of a decoded message for a terminal, cut at `width` characters. */
export function brief(json: Record<string, unknown> | undefined, width = 160): string {
  if (!json) return "(not decodable)";
  const text = JSON.stringify(json);
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/** Resolves when stdout can take more, or has failed (EPIPE: the reader went away). */
function drainedOrClosed(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.stdout.off("drain", done);
      process.stdout.off("error", done);
      resolve();
    };
    process.stdout.once("drain", done);
    process.stdout.once("error", done);
  });
}

export default function register(program: Command): void {
  program
    .command("cat")
    .description("print the messages of a recording, decoded (one line each; --json: one JSON object each)")
    .argument("<file>", "the .mcap recording")
    .option("-t, --topics <pattern...>", "only topics matching these MQTT-style patterns (+ one level, # the rest)")
    .option("--start <s>", "from this many seconds after the first message", number({ min: 0 }))
    .option("--end <s>", "up to this many seconds after the first message", number({ gt: 0 }))
    .option("-n, --count <n>", "stop after this many messages", number({ integer: true, min: 1 }))
    .option("--json", "one JSON object per line: topic, type, stampNs, stamp, receiveNs, receive, size, message")
    .option("--bytes <mode>", "bytes fields (images, audio) as their length or as base64", oneOf(["length", "base64"]), "length")
    .addHelpText(
      "after",
      `
Messages come in log_time (receive) order. Times are shown as UTC beside the nanoseconds (--json):
stampNs is the sensor's own stamp, receiveNs when it was received.

Examples:
  fusiond cat drive.mcap --topics 'vehicles/+/decision' -n 5
  fusiond cat drive.mcap --topics 'vehicles/+/sensors/gnss/#' --start 10 --end 20
  fusiond cat drive.mcap --json | jq -c 'select(.type == "fusiond.DrivingDecision") | .message.action'`,
    )
    .action(async (file: string, opts: CatOpts) => {
      checkRange(opts.start, opts.end);
      const limit = opts.count === undefined ? Number.POSITIVE_INFINITY : Number(opts.count);
      let closed = false;
      process.stdout.on("error", (err: NodeJS.ErrnoException) => {
        if (err.code === "EPIPE") closed = true; // `fusiond cat ... | head`: the reader has had enough
      });
      const rec = await openRecording(file);
      try {
        const range = await rangeOf(rec, opts.start, opts.end);
        let n = 0;
        for await (const m of rec.messages({ ...range, ...(opts.topics?.length ? { topics: opts.topics } : {}) })) {
          if (closed || n >= limit) break;
          const json = decodedJson(m, opts.bytes);
          const line = opts.json
            ? JSON.stringify({
                topic: m.topic,
                type: m.type,
                stampNs: m.publishNs.toString(),
                stamp: isoNs(m.publishNs),
                receiveNs: m.receiveNs.toString(),
                receive: isoNs(m.receiveNs),
                size: m.bytes.length,
                message: json ?? null,
              })
            : `${isoNs(m.receiveNs)}  ${m.topic}  ${m.type}  ${brief(json)}`;
          // Wait for a slow reader rather than buffer a whole recording in memory.
          if (!process.stdout.write(line + "\n")) await drainedOrClosed();
          n++;
        }
      } finally {
        await rec.close();
      }
    });
}
