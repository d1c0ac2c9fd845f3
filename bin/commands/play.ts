/**
 * `fusiond play FILE --mqtt URL|--zmq ENDPOINT`: publish a recording back onto a bus, paced by the wall
 * clock at --rate, with range, topic filter, remap, loop and a progress bar.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Command } from "commander";
import { FusiondError, TopicRegistry } from "../../schemas/index.ts";
import { MqttTransport, ZmqSink, type RawSink } from "../../sensors/index.ts";
import { recordingInput } from "../../replay/index.ts";
import { ROS_MAP_OPTION } from "./ros-flags.ts";
import { fileSource, McapRecording, Pacer, parseRate, parseRemap, playRecording, type PlayProgress } from "../../replay/index.ts";
import { checkRange, collect, number } from "../cli-validate.ts";

interface PlayOpts {
  mqtt?: string;
  zmq?: string;
  zmqConnect?: boolean;
  rate: string;
  loop?: boolean;
  start?: string;
  end?: string;
  topics?: string[];
  remap?: string[];
  quiet?: boolean;
  rosMap?: string;
  json?: boolean;
}

function seconds(text: string, name: string): bigint {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new FusiondError("bad_option", `${name} takes seconds from the start of the recording, not "${text}"`);
  return BigInt(Math.round(n * 1e9));
}

function bar(p: PlayProgress, width = 30): string {
  const frac = p.spanNs > 0n ? Math.min(1, Number(p.atNs) / Number(p.spanNs)) : 1;
  const full = Math.round(frac * width);
  return `[${"#".repeat(full)}${".".repeat(width - full)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${(Number(p.atNs) / 1e9).toFixed(1)}/${(Number(p.spanNs) / 1e9).toFixed(1)} s  ${p.published} sent${p.failed ? `, ${p.failed} refused` : ""}${p.loop ? `  loop ${p.loop + 1}` : ""}`;
}

export default function register(program: Command): void {
  program
    .command("play")
    .description("publish a recording back onto MQTT or ZeroMQ (rate, loop, range, topic filter, remap)")
    .argument("<file>", "the .mcap recording (or a ROS 1 bag / ROS 2 MCAP: converted first, see fusiond convert)")
    .option(...ROS_MAP_OPTION)
    .option("--mqtt <url>", "MQTT broker URL, e.g. mqtt://127.0.0.1:1883")
    .option("--zmq <endpoint>", "ZeroMQ endpoint to bind a PUB socket on, e.g. tcp://127.0.0.1:5555")
    .option("--zmq-connect", "connect the PUB socket instead of binding")
    .option("-r, --rate <n|max>", "playback speed: 1 = real time, 2 = twice as fast, max = as fast as the bus takes", "1")
    .option("--loop", "start again at the end, until interrupted")
    .option("--start <s>", "start this many seconds after the first message (latched GNSS/ego state is sent first)", number({ min: 0 }))
    .option("--end <s>", "stop this many seconds after the first message", number({ gt: 0 }))
    .option("-t, --topics <pattern...>", "only topics matching these MQTT-style patterns")
    .option("--remap <from:to>", "rename a topic or a topic prefix ending in / (repeatable)", collect)
    .option("-q, --quiet", "no progress bar")
    .option("--json", "print the result as JSON on stdout: published, failed, loops, span")
    .addHelpText(
      "after",
      `
Messages go out in log_time (receive) order, spaced as they were received, divided by --rate.
The payload bytes are exactly the recorded ones; QoS comes from the topic registry.

Examples:
  fusiond play drive.mcap --mqtt mqtt://127.0.0.1:1883
  fusiond play drive.mcap --mqtt mqtt://127.0.0.1:1883 --rate 10 --start 30 --end 90 --topics 'vehicles/+/sensors/#'
  fusiond play drive.mcap --zmq tcp://127.0.0.1:5555 --rate max --loop --remap vehicles/ego1/:vehicles/sim2/
  fusiond play drive.bag --ros-map ros.yaml --mqtt mqtt://127.0.0.1:1883   # a ROS recording, converted first`,
    )
    .action(async (file: string, opts: PlayOpts) => {
      if (!opts.mqtt === !opts.zmq) throw new FusiondError("bad_option", "give exactly one of --mqtt URL or --zmq ENDPOINT");
      checkRange(opts.start, opts.end);
      const rate = parseRate(opts.rate);
      const remap = (opts.remap ?? []).map(parseRemap);
      const input = await recordingInput(file, opts.rosMap, (line) => !opts.quiet && process.stderr.write(`fusiond play: ${line}\n`));
      let recording: McapRecording;
      try {
        recording = await McapRecording.open(await fileSource(input.path));
      } catch (err) {
        await input.cleanup();
        throw err;
      }
      const registry = new TopicRegistry();
      let sink: RawSink | undefined;
      const abort = new AbortController();
      const onSignal = (): void => abort.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        const base = await recording.startNs();
        if (base === undefined) throw new FusiondError("empty_recording", `${file}: no messages to play`, { file });
        const read = {
          ...(opts.start !== undefined ? { startNs: base + seconds(opts.start, "--start"), latched: ["vehicles/+/sensors/gnss/+", "vehicles/+/ego"] } : {}),
          ...(opts.end !== undefined ? { endNs: base + seconds(opts.end, "--end") } : {}),
          ...(opts.topics?.length ? { topics: opts.topics } : {}),
        };
        sink = opts.mqtt
          ? await MqttTransport.connect({ url: opts.mqtt, now: () => process.hrtime.bigint(), clientId: `fusiond-play-${process.pid}` })
          : await ZmqSink.open({ endpoint: opts.zmq!, mode: opts.zmqConnect ? "connect" : "bind", onFull: { waitMs: 1000 } });
        const target = sink;
        let lastDraw = 0;
        const pacer = new Pacer({ rate, nowNs: () => process.hrtime.bigint(), sleep: (ms) => sleep(ms) });
        const final = await playRecording({
          recording,
          pacer,
          read,
          remap,
          loops: opts.loop ? Number.POSITIVE_INFINITY : 1,
          signal: abort.signal,
          publish: async (topic, bytes, type) => (await target.publish(topic, bytes, { qos: registry.lookup(topic)?.qos ?? 0, type })).ok,
          onProgress: (p) => {
            const now = performance.now();
            // Progress is for a person at a terminal: a pipe or a log gets only the final line.
            if (opts.quiet || !process.stderr.isTTY || now - lastDraw < 200) return;
            lastDraw = now;
            process.stderr.write(`\r${bar(p)}\u001b[K`);
          },
        });
        if (opts.json) process.stdout.write(JSON.stringify({ file, published: final.published, failed: final.failed, loops: final.loop + 1, spanS: Number(final.spanNs) / 1e9, interrupted: abort.signal.aborted }) + "\n");
        if (!opts.quiet) process.stderr.write(`${process.stderr.isTTY ? "\r" : ""}${bar({ ...final, atNs: abort.signal.aborted ? final.atNs : final.spanNs })}${process.stderr.isTTY ? "\u001b[K" : ""}\n`);
        if (final.failed > 0) process.exitCode = 1;
        if (final.published === 0 && final.failed === 0 && !abort.signal.aborted) {
          throw new FusiondError("nothing_sent", `${file}: no message matched${opts.topics?.length ? ` --topics ${opts.topics.join(" ")}` : ""}${opts.start !== undefined || opts.end !== undefined ? " in the --start/--end range" : ""}: nothing was sent`, {
            file,
            hint: `see its topics and span with: fusiond info ${file}`,
          });
        }
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        await sink?.close();
        await recording.close();
        await input.cleanup();
      }
    });
}
