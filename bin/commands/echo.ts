/**
 * `fusiond echo --mqtt URL|--zmq ENDPOINT --topic PATTERN...`: subscribe, decode, print one JSON line
 * per message (like mosquitto_sub, but decoded). The first tool to reach for to see what is on the bus.
 * A composition root: picks the transport and the wall clock.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import type { Subscription } from "rxjs";
import { MessageDecoder, TopicRegistry, type Rejection, type SensorMessage } from "../../schemas/index.ts";
import { SensorSource } from "../../sensors/index.ts";
import { openSourceChoice } from "../../sensors/source-choice.ts";
import { isoNs } from "../../replay/time-format.ts";
import { reportError, usage } from "../cli-errors.ts";
import { collect, existingFile, number, oneOf } from "../cli-validate.ts";
import { stopOnce } from "../stop-once.ts";

interface EchoOpts {
  mqtt?: string;
  zmq?: string;
  zmqBind?: boolean;
  topic?: string[];
  vehicle?: string;
  count?: string;
  bytes: string;
  maxBytes?: string;
  username?: string;
  password?: string;
  ca?: string;
}

/** Lines waiting in stdout beyond this are dropped (and counted) rather than buffered without bound. */
const STDOUT_LIMIT = 8 * 1024 * 1024;

/** One JSON line: stable field names; 64-bit values as strings. */
export function echoLine(m: SensorMessage, json: Record<string, unknown>): string {
  return JSON.stringify({
    topic: m.topic,
    type: m.type,
    kind: m.kind,
    stampNs: m.stampNs.toString(),
    stamp: isoNs(m.stampNs),
    receiveNs: m.receiveNs.toString(),
    size: m.bytes.length,
    message: json,
  });
}

export default function register(program: Command): void {
  program
    .command("echo")
    .description("subscribe to topics and print decoded messages as JSON lines")
    .option("--mqtt <url>", "MQTT broker URL, e.g. mqtt://127.0.0.1:1883 (MQTT 5, or 3.1.1 where the broker refuses 5)")
    .option("--zmq <endpoint>", "ZeroMQ PUB endpoint to subscribe to, e.g. tcp://127.0.0.1:5555 or ipc:///tmp/sensors.sock")
    .option("--zmq-bind", "bind the ZeroMQ SUB socket instead of connecting (publishers connect to it)")
    .option("-t, --topic <pattern>", "topic pattern, + one level, # the rest (repeatable; default vehicles/{vehicle}/#)", collect)
    .option("--vehicle <id>", "only this vehicle's topics count as known (others are rejected as unknown_topic)")
    .option("-C, --count <n>", "exit after printing this many messages (rejections do not count)", number({ integer: true, min: 1 }))
    .option("--bytes <mode>", "bytes fields as their length (<N bytes>) or as base64", oneOf(["length", "base64"]), "length")
    .option("--max-bytes <n>", "reject payloads larger than this many bytes (default: each topic's registry limit)", number({ integer: true, min: 1 }))
    .option("--username <name>", "MQTT user name")
    .option("--password <secret>", "MQTT password (or set FUSIOND_MQTT_PASSWORD)")
    .option("--ca <file>", "CA certificate (PEM) for mqtts:// brokers", existingFile)
    .addHelpText(
      "after",
      `
Each message is one JSON line on stdout:
  {"topic":"vehicles/ego1/sensors/radar/front","type":"fusiond.RadarScan","kind":"radar",
   "stampNs":"1700000000000000005","stamp":"2023-11-14T22:13:20.000000005Z",
   "receiveNs":"...","size":54,"message":{...}}
stampNs is the sensor's own timestamp, receiveNs the time it arrived here (ns since the epoch).
The type of each topic comes from the topic registry. A message that is unknown, oversized or
undecodable is reported on stderr with its reason and the stream goes on. Ctrl-C (SIGINT) or
SIGTERM stops cleanly and prints a count by reason on stderr.

Examples:
  fusiond echo --mqtt mqtt://127.0.0.1:1883 --topic 'vehicles/+/sensors/radar/#'
  fusiond echo --mqtt mqtt://127.0.0.1:1883 --vehicle ego1 --count 10 | jq .message
  fusiond echo --zmq tcp://127.0.0.1:5555 -t 'vehicles/ego1/ego' --bytes base64
  fusiond echo --mqtt mqtts://broker:8883 --ca ca.pem --username car --topic 'vehicles/#'`,
    )
    .action(async (opts: EchoOpts) => {
      if (!opts.mqtt === !opts.zmq) usage("give exactly one of --mqtt URL or --zmq ENDPOINT");
      // commander's parsers have checked --count, --max-bytes (whole numbers ≥ 1) and --bytes.
      const count = opts.count === undefined ? undefined : Number(opts.count);
      const registry = new TopicRegistry(opts.vehicle ?? "+");
      const decoder = new MessageDecoder({ registry, ...(opts.maxBytes ? { maxBytes: Number(opts.maxBytes) } : {}) });
      const patterns = opts.topic?.length ? opts.topic : [`vehicles/${opts.vehicle ?? "+"}/#`];
      const password = opts.password ?? process.env["FUSIOND_MQTT_PASSWORD"];
      const { source: transport, where } = await openSourceChoice(
        opts.mqtt
          ? {
              mqtt: opts.mqtt,
              options: {
                registry,
                clientId: `fusiond-echo-${process.pid}`,
                ...(opts.username !== undefined ? { username: opts.username } : {}),
                ...(password !== undefined ? { password } : {}),
                ...(opts.ca ? { tls: { ca: readFileSync(opts.ca) } } : {}),
                onStatus: (e) => {
                  if (e.kind === "reconnecting") process.stderr.write(`fusiond echo: connection lost, reconnecting in ${e.delayMs} ms\n`);
                  else if (e.kind === "error") process.stderr.write(`fusiond echo: ${e.message}\n`);
                },
              },
            }
          : { zmq: opts.zmq!, bind: Boolean(opts.zmqBind) },
      );
      const source = new SensorSource(transport, decoder);
      let printed = 0;
      let droppedSlowStdout = 0;
      const rejections = source.rejections.subscribe((r: Rejection) => {
        process.stderr.write(`fusiond echo: rejected ${r.reason} on ${r.topic}: ${r.detail}${r.bytes === undefined ? "" : ` (${r.bytes} bytes)`}\n`);
      });
      let subscription: Subscription | undefined;
      const { stop, stopping, finished } = stopOnce(
        async (why) => {
          subscription?.unsubscribe();
          rejections.unsubscribe();
          source.close();
          await transport.close();
          const r = Object.entries(source.counters.rejected).filter(([, n]) => n > 0);
          process.stderr.write(
            `fusiond echo: ${why}: ${printed} messages, ${r.reduce((a, [, n]) => a + n, 0)} rejected` +
              (r.length ? ` (${r.map(([k, n]) => `${k} ${n}`).join(", ")})` : "") +
              (droppedSlowStdout ? `, ${droppedSlowStdout} not printed (stdout too slow)` : "") +
              "\n",
          );
        },
        // One error path (bin/cli-errors.ts): what went wrong and what to do, exit 1.
        (err) => void (process.exitCode = reportError(err, { command: "echo", json: false, verbose: false })),
      );
      process.stdout.on("error", (err: NodeJS.ErrnoException) => void stop(err.code === "EPIPE" ? "stdout closed" : err.message));

      subscription = source.messages(patterns).subscribe({
        next: (m) => {
          if (stopping()) return;
          if (process.stdout.writableLength > STDOUT_LIMIT) {
            droppedSlowStdout++;
            return;
          }
          process.stdout.write(echoLine(m, decoder.codec.toJSON(m.type, m.message, { bytes: opts.bytes as "length" | "base64" })) + "\n");
          printed++;
          if (count !== undefined && printed >= count) void stop(`--count ${count} reached`);
        },
        error: (err: unknown) => {
          process.exitCode = reportError(err, { command: "echo", json: false, verbose: false });
          void stop("subscription failed");
        },
        complete: () => void stop("source closed"),
      });
      process.stderr.write(`fusiond echo: listening on ${where} for ${patterns.join(" ")}\n`);
      await finished;
    });
}
