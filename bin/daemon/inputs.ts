/**
 * The daemon's transports, opened from its config: MQTT (TLS, credentials) and ZeroMQ subscriptions as
 * sensor sources, MQTT and a ZeroMQ publisher (CURVE server with its allow-list) as decision sinks.
 * startDaemon (daemon.ts) joins them with the pipeline.
 */
import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import { Counter } from "prom-client";
import type { Observable } from "rxjs";
import type { DaemonConfig } from "../../pipeline/daemon-config.ts";
import type { MessageDecoder, SensorMessage, TopicRegistry } from "../../schemas/index.ts";
import { MqttTransport, SensorSink, SensorSource, ZmqSink, ZmqSource, type MqttStatusEvent, type RawSink, type ZapDenial } from "../../sensors/index.ts";
import { wallNs } from "../../sensors/wall-clock.ts";
import { readCurveSecretFile } from "./curve-keys.ts";

export interface DaemonInputs {
  sources: SensorSource[];
  /** Each source's messages on the daemon's topic patterns. */
  streams: Observable<SensorMessage>[];
  /** Raw transports decisions are published on, and closed at stop. */
  outSinks: RawSink[];
  /** The same, encoding decisions. */
  sinks: SensorSink[];
  mqtt: MqttTransport | undefined;
  /** 1 while the input transport is connected (the MQTT client's status; ZeroMQ alone counts as up). */
  transportUp(): number;
  /** CURVE handshakes the ZAP handler refused, for /metrics. */
  zmqRefused: Counter;
}

const readPem = (path: string | undefined): Buffer | undefined => (path ? readFileSync(path) : undefined);

interface InputContext {
  config: DaemonConfig;
  registry: TopicRegistry;
  decoder: MessageDecoder;
  patterns: string[];
  logger: Logger;
  /** Where a transport that must be closed at stop registers its close. */
  cleanups: Array<() => Promise<void> | void>;
}

export async function openInputs(c: InputContext): Promise<DaemonInputs> {
  const { config, logger } = c;
  const state = { up: 0 };
  const sources: SensorSource[] = [];
  const outSinks: RawSink[] = [];
  const streams: Observable<SensorMessage>[] = [];
  const addSource = (src: SensorSource): void => {
    sources.push(src);
    streams.push(src.messages(c.patterns));
  };
  // A bad CURVE key file fails the start before anything is connected.
  const curveConfig = config.zmq?.curve;
  const curveKeys = curveConfig ? readCurveSecretFile(curveConfig.secretKeyFile, (msg) => logger.warn(msg)) : undefined;
  const mqtt = config.mqtt ? await connectMqtt(config.mqtt, c, state) : undefined;
  try {
    return await openTheRest(c, mqtt, { state, sources, outSinks, streams, addSource, curveConfig, curveKeys });
  } catch (err) {
    // The start fails after MQTT connected (e.g. the ZeroMQ publish endpoint is taken): close it, or the
    // connection (and its reconnect timer) would keep the process alive.
    await mqtt?.close().catch(() => undefined);
    throw err;
  }
}

interface OpenedSoFar {
  state: { up: number };
  sources: SensorSource[];
  outSinks: RawSink[];
  streams: Observable<SensorMessage>[];
  addSource: (src: SensorSource) => void;
  curveConfig: NonNullable<DaemonConfig["zmq"]>["curve"] | undefined;
  curveKeys: ReturnType<typeof readCurveSecretFile> | undefined;
}

async function openTheRest(c: InputContext, mqtt: MqttTransport | undefined, o: OpenedSoFar): Promise<DaemonInputs> {
  const { config, logger } = c;
  const { state, sources, outSinks, streams, addSource, curveConfig, curveKeys } = o;
  if (mqtt) {
    addSource(new SensorSource(mqtt, c.decoder));
    if (config.outputs.mqtt) outSinks.push(mqtt);
  }
  // CURVE handshakes the ZAP handler refused (registered with /metrics by the caller; the sink opens first).
  const zmqRefused = new Counter({ name: "fusiond_zmq_refused_total", help: "ZeroMQ clients refused by the CURVE allow-list (zmq.curve.allow)", registers: [] });
  const clientCurve = curveKeys && curveConfig?.serverKey ? { curve: { role: "client" as const, ...curveKeys, serverKey: curveConfig.serverKey } } : {};
  if (curveKeys && !curveConfig?.serverKey && (config.zmq?.subscribe.length ?? 0) > 0) {
    logger.warn("zmq.curve has no serverKey: the zmq.subscribe endpoints are plaintext (set it to the sensors' public key to use CURVE)");
  }
  for (const endpoint of config.zmq?.subscribe ?? []) {
    const zsrc = new ZmqSource({ endpoint, now: wallNs, ...clientCurve });
    addSource(new SensorSource(zsrc, c.decoder));
    c.cleanups.push(() => zsrc.close());
    if (!config.mqtt) state.up = 1;
  }
  if (config.outputs.zmq && config.zmq?.publish) {
    // Refused CURVE clients are logged once per key (at most 100 keys), counted by the ZAP handler.
    const refused = new Set<string>();
    const onDenied = (d: ZapDenial): void => {
      zmqRefused.inc();
      if (refused.has(d.clientKey) || refused.size >= 100) return;
      refused.add(d.clientKey);
      logger.warn({ clientKey: d.clientKey, address: d.address, reason: d.reason }, "ZeroMQ client refused (logged once per key): add its public key to zmq.curve.allow to let it in");
    };
    const serverCurve = curveKeys ? { curve: { role: "server" as const, secretKey: curveKeys.secretKey, ...(curveConfig?.allow ? { allow: curveConfig.allow } : {}), onDenied } } : {};
    outSinks.push(await ZmqSink.open({ endpoint: config.zmq.publish, mode: "bind", onFull: { waitMs: 50 }, ...serverCurve }));
  }
  const sinks = outSinks.map((s) => new SensorSink(s, { codec: c.decoder.codec, registry: c.registry }));
  return { sources, streams, outSinks, sinks, mqtt, transportUp: () => state.up, zmqRefused };
}

async function connectMqtt(m: NonNullable<DaemonConfig["mqtt"]>, c: InputContext, state: { up: number }): Promise<MqttTransport> {
  const { logger } = c;
  const tls = m.caFile || m.certFile || m.keyFile ? { ca: readPem(m.caFile), cert: readPem(m.certFile), key: readPem(m.keyFile), passphrase: m.keyPassphrase } : undefined;
  const mqtt = await MqttTransport.connect({
    url: m.url,
    protocolVersion: m.protocolVersion === 5 ? "auto" : 4,
    now: wallNs,
    registry: c.registry,
    ...(m.clientId ? { clientId: m.clientId } : {}),
    ...(m.username ? { username: m.username } : {}),
    ...(m.password ? { password: m.password } : {}),
    ...(tls ? { tls: Object.fromEntries(Object.entries(tls).filter(([, v]) => v !== undefined)) } : {}),
    onStatus: (e: MqttStatusEvent) => {
      if (e.kind === "connected") state.up = 1;
      if (e.kind === "offline") state.up = 0;
      if (e.kind === "connected") logger.info({ protocolVersion: e.protocolVersion }, "mqtt connected");
      else if (e.kind === "reconnecting") logger.warn({ delayMs: e.delayMs }, "mqtt connection lost; reconnecting");
      else if (e.kind === "error") logger.warn({ err: e.message }, "mqtt error");
      else logger.warn("mqtt offline");
    },
  });
  state.up = 1;
  return mqtt;
}
