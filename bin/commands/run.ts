import type { Command } from "commander";
import { configSecrets, parseDaemonConfig } from "../../pipeline/daemon-config.ts";
import { chooseModel, type ModelChoice, type ShippedModel } from "../../pipeline/model-choice.ts";
import { shippedModels } from "../daemon/shipped-models.ts";
import { cutSecrets, redactSecrets } from "../../schemas/index.ts";
import { startDaemon } from "../daemon/daemon.ts";
import { readConfigFile } from "../daemon/config-file.ts";
import { createLogger, LOG_FORMATS, type LogFormat } from "../daemon/logger.ts";
import { BACKEND_CHOICES } from "../../fusion/index.ts";
import { collect, existingFile, foxgloveListen, hostPort, number, oneOf } from "../cli-validate.ts";
import { FUSIOND_VERSION } from "../version.ts";

interface RunFlags {
  config?: string;
  mqtt?: string;
  zmq?: string[];
  zmqPublish?: string;
  vehicle?: string;
  sensor?: string[];
  cameras?: string;
  model?: string;
  backend?: string;
  record?: string;
  http?: string;
  foxglove?: string;
  mqttCa?: string;
  mqttCert?: string;
  mqttKey?: string;
  httpToken?: string;
  foxgloveToken?: string;
  foxgloveOrigin?: string[];
  logLevel?: string;
  logFormat?: string;
  realtimePriority?: string;
  printConfig?: boolean;
}

/**
 * Secrets may come from the environment rather than the file or the command line (which `ps` shows):
 * FUSIOND_MQTT_PASSWORD, FUSIOND_MQTT_KEY_PASSPHRASE, FUSIOND_HTTP_TOKEN, FUSIOND_FOXGLOVE_TOKEN.
 * A flag beats the environment, which beats the file.
 */
export type SecretEnv = Partial<Record<"FUSIOND_MQTT_PASSWORD" | "FUSIOND_MQTT_KEY_PASSPHRASE" | "FUSIOND_HTTP_TOKEN" | "FUSIOND_FOXGLOVE_TOKEN", string>>;

/**
 * Reads the config file (YAML or JSON) and lays the environment's secrets and the command-line flags over it.
 * Where neither the file nor --model names a model, the shipped one whose camera slots are the configured cameras
 * is chosen (pipeline/model-choice.ts: models/multi-camera for front,rear,left,right; models/default for one camera),
 * and `modelChoice` says which and why.
 */
export function configFromFlags(
  flags: RunFlags,
  env: SecretEnv = process.env as SecretEnv,
  listShipped: () => ShippedModel[] = shippedModels,
): { config: ReturnType<typeof parseDaemonConfig>; text: string; modelChoice?: ModelChoice } {
  const file = flags.config ? readConfigFile(flags.config) : undefined;
  const raw: Record<string, unknown> = file?.raw ?? {};
  const text = file?.text ?? "";
  const obj = (k: string): Record<string, unknown> => ({ ...((raw[k] as Record<string, unknown> | undefined) ?? {}) });
  if (flags.vehicle) raw["vehicle"] = flags.vehicle;
  if (flags.sensor?.length) raw["sensors"] = flags.sensor;
  if (flags.cameras) raw["aligner"] = { ...obj("aligner"), cameras: flags.cameras.split(",").map((c) => c.trim()).filter((c) => c.length > 0) };
  const modelNamed = Boolean(flags.model) || typeof obj("model")["dir"] === "string";
  if (flags.mqtt) raw["mqtt"] = { ...obj("mqtt"), url: flags.mqtt };
  const mqttExtra = {
    // The environment's MQTT secrets apply only where MQTT is configured (a ZeroMQ-only daemon ignores them).
    ...(raw["mqtt"] && env.FUSIOND_MQTT_PASSWORD ? { password: env.FUSIOND_MQTT_PASSWORD } : {}),
    ...(raw["mqtt"] && env.FUSIOND_MQTT_KEY_PASSPHRASE ? { keyPassphrase: env.FUSIOND_MQTT_KEY_PASSPHRASE } : {}),
    ...(flags.mqttCa ? { caFile: flags.mqttCa } : {}),
    ...(flags.mqttCert ? { certFile: flags.mqttCert } : {}),
    ...(flags.mqttKey ? { keyFile: flags.mqttKey } : {}),
  };
  if (Object.keys(mqttExtra).length) raw["mqtt"] = { ...obj("mqtt"), ...mqttExtra };
  if (flags.zmq?.length || flags.zmqPublish) {
    const z = obj("zmq");
    if (flags.zmq?.length) z["subscribe"] = flags.zmq;
    if (flags.zmqPublish) {
      z["publish"] = flags.zmqPublish;
      raw["outputs"] = { ...obj("outputs"), zmq: true };
    }
    raw["zmq"] = z;
  }
  if (flags.model || flags.backend) raw["model"] = { ...obj("model"), ...(flags.model ? { dir: flags.model } : {}), ...(flags.backend ? { backend: flags.backend } : {}) };
  if (flags.record) raw["recording"] = { ...obj("recording"), dir: flags.record };
  if (flags.http) raw["http"] = { ...obj("http"), listen: flags.http };
  const httpToken = flags.httpToken ?? env.FUSIOND_HTTP_TOKEN;
  if (httpToken) raw["http"] = { ...obj("http"), token: httpToken };
  if (flags.foxglove) raw["foxglove"] = { ...obj("foxglove"), listen: foxgloveListen(flags.foxglove) };
  const foxgloveToken = flags.foxgloveToken ?? env.FUSIOND_FOXGLOVE_TOKEN;
  if (raw["foxglove"] && foxgloveToken) raw["foxglove"] = { ...obj("foxglove"), token: foxgloveToken };
  if (raw["foxglove"] && flags.foxgloveOrigin?.length) raw["foxglove"] = { ...obj("foxglove"), allowedOrigins: flags.foxgloveOrigin };
  if (flags.logLevel) raw["log"] = { ...obj("log"), level: flags.logLevel };
  if (flags.realtimePriority !== undefined) raw["realtime"] = { priority: Number(flags.realtimePriority) };
  const source = flags.config ? `${flags.config} (with command-line flags)` : "the command-line flags";
  const parsed = parseDaemonConfig(raw, source);
  const modelChoice = modelNamed ? undefined : chooseModel(parsed.aligner.cameras, listShipped());
  const config = modelChoice ? { ...parsed, model: { ...parsed.model, dir: modelChoice.dir } } : parsed;
  // The text is stored in recordings: its secrets are cut out here, whatever the recorder does.
  return { config, text: cutSecrets(text || JSON.stringify(raw), configSecrets(config)), ...(modelChoice ? { modelChoice } : {}) };
}

export default function register(program: Command): void {
  program
    .command("run")
    .description("the daemon: subscribe, align, fuse, decide, publish decisions, record, expose /metrics /healthz /readyz")
    .option("-c, --config <file>", "YAML or JSON config (keys: docs/deployment.md); flags below override it", existingFile)
    .option("--mqtt <url>", "MQTT broker to subscribe to and publish decisions on, e.g. mqtt://127.0.0.1:1883")
    .option("--zmq <endpoint>", "ZeroMQ endpoint to SUB from (repeatable), e.g. tcp://127.0.0.1:5555", collect)
    .option("--zmq-publish <endpoint>", "bind a ZeroMQ PUB socket here and publish decisions on it too")
    .option("--vehicle <id>", "vehicle id in the topics vehicles/{id}/... (default ego1)")
    .option("--sensor <kind/id>", "accept this sensor id, e.g. camera/front (repeatable; replaces the config's sensors; default: the simulator's camera/front camera_raw/front radar/front gnss/main voice/cabin); other ids are rejected and counted", collect)
    .option("--cameras <list>", "cameras to align and fuse (aligner.cameras), e.g. front,rear,left,right; the first is the reference")
    .option("--model <dir>", "model directory (default: the shipped model for the configured cameras: models/multi-camera for front,rear,left,right, models/default for one camera)")
    .option("--backend <name>", `inference backend: ${BACKEND_CHOICES.join(", ")} (default auto: the fastest that works on the model)`, oneOf(BACKEND_CHOICES))
    .option("--record <dir>", "record the session (sensors, decisions) as MCAP files in this directory")
    .option("--http <host:port>", "listen address for /metrics /healthz /readyz, or off (default 127.0.0.1:9464)", hostPort({ off: true }))
    .option("--foxglove <[host:]port>", "serve the Foxglove WebSocket live view here (e.g. 8765: open ws://127.0.0.1:8765 in Foxglove)")
    .option("--mqtt-ca <file>", "CA certificate (PEM) that signed the broker's certificate")
    .option("--mqtt-cert <file>", "client certificate (PEM) for brokers that require one (key passphrase: FUSIOND_MQTT_KEY_PASSPHRASE)")
    .option("--mqtt-key <file>", "the client certificate's private key (PEM)")
    .option("--http-token <token>", "require 'Authorization: Bearer TOKEN' on /metrics /healthz /readyz (prefer FUSIOND_HTTP_TOKEN: ps shows flags)")
    .option("--foxglove-token <token>", "require this bearer token on the live view (prefer FUSIOND_FOXGLOVE_TOKEN)")
    .option("--foxglove-origin <origin>", "allow this browser Origin on the live view (repeatable), e.g. https://app.foxglove.dev; default: loopback only", collect)
    .option("--log-level <level>", "fatal, error, warn, info, debug, trace or silent (default info)", oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"]))
    .option("--log-format <format>", "pretty (one readable line per event), json (JSON lines), or auto: pretty on a terminal, json otherwise", oneOf(LOG_FORMATS), "auto")
    .option("--realtime-priority <1-99>", "run the main thread SCHED_FIFO at this priority for a steady latency on a loaded machine (needs CAP_SYS_NICE or an RLIMIT_RTPRIO of N, e.g. systemd LimitRTPRIO; default off)", number({ integer: true, min: 1, max: 99 }))
    .option("--print-config", "print the effective configuration as JSON and exit")
    .addHelpText(
      "after",
      `
Examples:
  fusiond run --mqtt mqtt://127.0.0.1:1883 --vehicle ego1
  fusiond run --mqtt mqtt://127.0.0.1:1883 --model models/default --record /var/lib/fusiond/rec --http 0.0.0.0:9464
  fusiond run --config /etc/fusiond/fusiond.yaml
  fusiond run --config /etc/fusiond/fusiond.yaml --realtime-priority 50   # main thread SCHED_FIFO (LimitRTPRIO=50 or root)

Signals: SIGTERM/SIGINT stop intake, drain, close the recording and exit 0; SIGHUP reloads the model
(the old one serves until the new one is warm). Logs go to stdout: readable lines on a terminal, JSON lines
(pino) otherwise (--log-format). A sensor's health change is logged once it has held for 2 s.
Secrets from the environment: FUSIOND_MQTT_PASSWORD, FUSIOND_MQTT_KEY_PASSPHRASE, FUSIOND_HTTP_TOKEN,
FUSIOND_FOXGLOVE_TOKEN (never printed; --print-config shows them as [redacted]).`,
    )
    .action(async (flags: RunFlags) => {
      const parsed = configFromFlags(flags); // a bad config is a usage error (exit 2), reported by bin/cli-errors.ts
      if (flags.printConfig) {
        // Secrets print as "[redacted]": this output ends up in tickets and chat.
        process.stdout.write(JSON.stringify(redactSecrets(parsed.config), null, 2) + "\n");
        return;
      }
      const { config } = parsed;
      const logger = createLogger({ level: config.log.level, base: { vehicle: config.vehicle }, format: (flags.logFormat ?? "auto") as LogFormat });
      process.on("unhandledRejection", (err) => logger.error({ err: String(err) }, "unhandled rejection (the daemon goes on)"));
      const daemon = await startDaemon({ config, logger, configText: parsed.text, version: FUSIOND_VERSION, ...(parsed.modelChoice ? { modelChoice: parsed.modelChoice } : {}) });
      logger.info({ decisions: daemon.decisionTopic }, "running");
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals): void => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          void daemon.stop(signal).then(resolve);
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
        process.on("SIGHUP", () => void daemon.reload());
      });
      process.exit(0);
    });
}
