/**
 * `fusiond record --mqtt URL|--zmq ENDPOINT --topics PATTERN... --out FILE.mcap`: record chosen topics
 * to MCAP. The composition root: picks the transport and the wall clock, wires SIGINT/SIGTERM to a clean
 * close (summary and indexes written), and prints a progress line.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { asyncScheduler } from "rxjs";
import { FusiondError, MessageDecoder, TopicRegistry } from "../../schemas/index.ts";
import { openSourceChoice } from "../../sensors/source-choice.ts";
import { wallNs } from "../../sensors/wall-clock.ts";
import { collect, existingFile, number, oneOf } from "../cli-validate.ts";
import { COMPRESSIONS, parseRotate, RawRecorder, readSigningKey, recordToFile, type Compression } from "../../replay/index.ts";
import { stopOnce } from "../stop-once.ts";
import { FUSIOND_VERSION } from "../version.ts";

interface RecordOpts {
  mqtt?: string;
  zmq?: string;
  zmqBind?: boolean;
  topics: string[];
  out: string;
  duration?: string;
  maxSize?: string;
  rotate?: string;
  compression: string;
  vehicle?: string;
  meta?: string[];
  config?: string;
  signingKey?: string;
  quiet?: boolean;
  json?: boolean;
}

export default function register(program: Command): void {
  program
    .command("record")
    .description("record chosen topics from MQTT or ZeroMQ to an MCAP file")
    .option("--mqtt <url>", "MQTT broker URL, e.g. mqtt://127.0.0.1:1883")
    .option("--zmq <endpoint>", "ZeroMQ PUB endpoint to subscribe to, e.g. tcp://127.0.0.1:5555")
    .option("--zmq-bind", "bind the ZeroMQ SUB socket instead of connecting")
    .option("-t, --topics <pattern...>", "MQTT-style topic patterns to record (+ one level, # the rest)", ["vehicles/#"])
    .requiredOption("-o, --out <file>", "output .mcap (with --rotate: FILE_000.mcap, FILE_001.mcap, ...)")
    .option("--duration <s>", "stop after this many seconds", number({ gt: 0 }))
    .option("--max-size <mb>", "stop once this many MB have been written", number({ gt: 0 }))
    .option("--rotate <limit>", "start a new file at a size (500MB) or a duration (90s, 10m, 1h)")
    .option("--compression <kind>", `chunk compression: ${COMPRESSIONS.join(", ")}`, oneOf(COMPRESSIONS), "zstd")
    .option("--vehicle <id>", "vehicle id for the metadata record")
    .option("--meta <key=value>", "extra metadata (repeatable), e.g. --meta modelId=fusion-v3", collect)
    .option("--config <file>", "daemon config to store in the metadata record (secrets redacted)", existingFile)
    .option("--signing-key <key.pem>", "sign each closed file with this Ed25519 private key (fusiond sign-keygen; check with fusiond verify)")
    .option("-q, --quiet", "no progress line")
    .option("--json", "when it stops, print the result as JSON on stdout: files, messages, bytes, drops")
    .addHelpText(
      "after",
      `
Messages are stored as received: log_time = receive time, publish_time = the sensor's own stamp,
one protobuf schema per type and one channel per topic, in zstd chunks closed at least every
second (a crash loses at most ~1 s; \`fusiond recover\` rebuilds an unclosed file). Ctrl-C (SIGINT)
or SIGTERM closes the file with its summary and indexes.

Examples:
  fusiond record --mqtt mqtt://127.0.0.1:1883 --topics 'vehicles/#' --out drive.mcap
  fusiond record --zmq tcp://127.0.0.1:5555 -t 'vehicles/ego1/sensors/#' -o cams.mcap --duration 60
  fusiond record --mqtt mqtt://127.0.0.1:1883 -o long.mcap --rotate 10m --vehicle ego1 --meta modelId=v3`,
    )
    .action(async (opts: RecordOpts) => {
      if (!opts.mqtt === !opts.zmq) throw new FusiondError("bad_option", "give exactly one of --mqtt URL or --zmq ENDPOINT");
      // commander's parsers have checked --compression, --duration and --max-size (numbers > 0).
      const durationS = opts.duration === undefined ? undefined : Number(opts.duration);
      const maxBytes = opts.maxSize === undefined ? undefined : Number(opts.maxSize) * 1024 * 1024;
      const meta: Record<string, string> = { fusiondVersion: FUSIOND_VERSION };
      if (opts.vehicle) meta["vehicle"] = opts.vehicle;
      if (opts.config) meta["config"] = readFileSync(opts.config, "utf8");
      for (const kv of opts.meta ?? []) {
        const eq = kv.indexOf("=");
        if (eq <= 0) throw new FusiondError("bad_option", `--meta takes key=value, not "${kv}"`);
        meta[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
      const registry = new TopicRegistry(opts.vehicle ?? "+");
      // Connect first: a broker that does not answer leaves no file behind (an empty, unclosed recording).
      const { source } = await openSourceChoice(opts.mqtt ? { mqtt: opts.mqtt, options: { registry, clientId: `fusiond-record-${process.pid}` } } : { zmq: opts.zmq!, bind: Boolean(opts.zmqBind) });
      const recorder = await recordToFile(opts.out, {
        compression: opts.compression as Compression,
        metadata: meta,
        library: `fusiond/${FUSIOND_VERSION}`,
        scheduler: asyncScheduler,
        ...(opts.signingKey ? { signer: readSigningKey(opts.signingKey, "--signing-key") } : {}),
        ...(opts.rotate ? { rotate: parseRotate(opts.rotate) } : {}),
      });
      const raw = new RawRecorder(recorder, new MessageDecoder({ registry }));
      const started = wallNs();
      let progress: ReturnType<typeof setInterval> | undefined;
      const line = (final = false): void => {
        // Progress is for a person at a terminal: a pipe or a log gets only the final line.
        if (opts.quiet || (!final && !process.stderr.isTTY)) return;
        const s = raw.stats();
        const r = recorder.stats();
        const secs = Number(wallNs() - started) / 1e9;
        const text =
          `recording ${opts.out}: ${secs.toFixed(0)} s, ${s.recorded} messages, ${(r.bytesWritten / 1024 / 1024).toFixed(1)} MB written` +
          `, ${r.chunks} chunks, ${s.dropped} dropped, ${Object.values(s.skipped).reduce((a, b) => a + (b ?? 0), 0)} skipped`;
        process.stderr.write(process.stderr.isTTY && !final ? `\r${text}\u001b[K` : `${text}\n`);
      };
      const { stop, finished } = stopOnce(
        async (why) => {
          clearInterval(progress);
          sub.unsubscribe();
          await source.close();
          await recorder.close();
          line(true);
          const r = recorder.stats();
          if (!opts.quiet) process.stderr.write(`closed (${why}): ${r.files.join(", ")}\n`);
          if (opts.json) {
            const s = raw.stats();
            process.stdout.write(JSON.stringify({ files: r.files, stoppedBy: why, messages: s.recorded, dropped: s.dropped, skipped: s.skipped, bytesWritten: r.bytesWritten, chunks: r.chunks }) + "\n");
          }
        },
        (err) => {
          process.stderr.write(`fusiond record: ${(err as Error).message}\n`);
          process.exitCode = 1;
        },
        { keepSignals: true },
      );
      const sub = source.subscribe(opts.topics).subscribe({
        next: (m) => {
          raw.add(m);
          if (maxBytes !== undefined && recorder.stats().bytesWritten + recorder.stats().queuedBytes >= maxBytes) void stop("--max-size reached");
        },
        error: (err: unknown) => {
          process.stderr.write(`fusiond record: ${(err as Error).message}\n`);
          process.exitCode = 1;
          void stop("source failed");
        },
      });
      progress = setInterval(() => line(), 1000);
      // One start line for logs and pipes too (the progress line is for terminals only).
      if (!opts.quiet) process.stderr.write(`fusiond record: recording ${opts.out} from ${opts.mqtt ?? opts.zmq}: ${opts.topics.join(" ")} (Ctrl-C closes it)\n`);
      const timer = durationS === undefined ? undefined : setTimeout(() => void stop("--duration reached"), durationS * 1000);
      await finished;
      clearTimeout(timer);
    });
}
