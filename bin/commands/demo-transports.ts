/**
 * `fusiond demo`'s transports: the embedded MQTT broker (one client for the simulator), or ZeroMQ sockets on free
 * ports; and the simulator on its side of them, in closed loop with the daemon's decisions.
 */
import { map } from "rxjs";
import { parseDaemonConfig, type DaemonConfig } from "../../pipeline/daemon-config.ts";
import { foxgloveListen } from "../cli-validate.ts";
import { usage } from "../cli-errors.ts";
import { startDaemon, type Daemon, type DaemonOptions } from "../daemon/daemon.ts";
import { simCameraSet } from "./camera-flags.ts";
import type { CameraSetSpec } from "../../sim/sensors/camera-set.ts";
import { EmbeddedBroker, MqttTransport, SensorSink, SensorSource, ZmqSink, ZmqSource, type RawSink, type RawSource } from "../../sensors/index.ts";
import { wallNs } from "../../sensors/wall-clock.ts";
import { MessageDecoder, type TopicRegistry } from "../../schemas/index.ts";
import type { DecisionLike } from "../../sim/lockstep.ts";
import { startLiveSim, type LiveSimOptions } from "../../sim/live.ts";

export interface DemoTransports {
  broker: EmbeddedBroker | undefined;
  /** Where the simulator publishes its sensors, and where it reads the daemon's decisions. */
  simSink: RawSink;
  simDecisions: RawSource;
  /** The daemon config's transport part. */
  daemonInput: { mqtt?: { url: string; protocolVersion: 4 }; zmq?: { subscribe: string[]; publish: string } };
  /** Closes the simulator's side (the broker is stopped after them). */
  closers: Array<() => Promise<void> | void>;
}

async function freeTcpEndpoint(): Promise<string> {
  const { createServer } = await import("node:net");
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return `tcp://127.0.0.1:${port}`;
}

export async function openDemoTransports(zmq: boolean, registry: TopicRegistry, say: (line: string) => void): Promise<DemoTransports> {
  const closers: Array<() => Promise<void> | void> = [];
  if (zmq) {
    const sensorsAt = await freeTcpEndpoint();
    const decisionsAt = await freeTcpEndpoint();
    const pub = await ZmqSink.open({ endpoint: sensorsAt, mode: "bind" });
    const simDecisions = new ZmqSource({ endpoint: decisionsAt, now: wallNs, mode: "connect" });
    closers.push(() => simDecisions.close(), () => pub.close());
    say(`fusiond demo: ZeroMQ sensors on ${sensorsAt}, decisions on ${decisionsAt}`);
    return { broker: undefined, simSink: pub, simDecisions, daemonInput: { zmq: { subscribe: [sensorsAt], publish: decisionsAt } }, closers };
  }
  const broker = await EmbeddedBroker.start();
  const simClient = await MqttTransport.connect({ url: broker.url, protocolVersion: 4, now: wallNs, registry, clientId: "fusiond-demo-sim" });
  closers.push(() => simClient.close());
  say(`fusiond demo: embedded MQTT broker on ${broker.url}`);
  return { broker, simSink: simClient, simDecisions: simClient, daemonInput: { mqtt: { url: broker.url, protocolVersion: 4 } }, closers };
}

/** The simulator's side closed (newest first), then the broker stopped. */
export async function closeDemoTransports(t: DemoTransports): Promise<void> {
  for (const c of t.closers.reverse()) await c();
  await t.broker?.stop();
}

/** The simulator in closed loop: it publishes on the transports and its ego follows the decisions read back from them. */
export function startDemoSim(t: DemoTransports, registry: TopicRegistry, o: Omit<LiveSimOptions, "sink" | "decisions">): { sim: ReturnType<typeof startLiveSim>; decisionSource: SensorSource } {
  const decisionTopic = registry.topicFor("decision");
  const decisionSource = new SensorSource(t.simDecisions, new MessageDecoder({ registry }));
  const sim = startLiveSim({
    sink: new SensorSink(t.simSink, { registry }),
    decisions: decisionSource.messages([decisionTopic]).pipe(map((m) => m.message as DecisionLike)),
    ...o,
  });
  return { sim, decisionSource };
}

/** The demo's daemon: on the demo's transports, its model, recording into outDir (zstd), http off unless asked. */
export function demoDaemonConfig(vehicle: string, t: DemoTransports, o: { zmq: boolean; model: string; outDir: string; cameras?: string[]; http?: string; foxglove?: string }): DaemonConfig {
  return parseDaemonConfig({
    vehicle,
    ...t.daemonInput,
    outputs: { mqtt: !o.zmq, zmq: !!o.zmq },
    model: { dir: o.model },
    // --cameras: the daemon aligns that set (a model with camera slots must have the same); without it, the model's.
    ...(o.cameras ? { aligner: { cameras: o.cameras } } : {}),
    recording: { dir: o.outDir, compression: "zstd" },
    http: { listen: o.http ?? "off" },
    ...(o.foxglove ? { foxglove: { listen: foxgloveListen(o.foxglove) } } : {}),
    log: { level: "info" },
  }, "demo settings");
}

/**
 * The demo's daemon, and the camera set the simulator renders for it: the model's where it has camera slots and
 * --cameras is not given, else --cameras. A --cameras the model does not have, or a bad camera set, is a usage
 * error (exit 2) after the transports are closed.
 */
export async function startDemoDaemon(t: DemoTransports, options: DaemonOptions, flags: { model: string; cameras?: string; cameraSize?: string; cameraHz?: string }): Promise<{ daemon: Daemon; cams: { set: CameraSetSpec | undefined } }> {
  let daemon: Daemon;
  try {
    daemon = await startDaemon(options);
  } catch (err) {
    await closeDemoTransports(t);
    const modelCameras = (err as { context?: { modelCameras?: string[] } }).context?.modelCameras;
    if (modelCameras && flags.cameras) usage(`--cameras ${flags.cameras} is not the camera set of the model ${flags.model} (${modelCameras.join(",")})`, `leave --cameras out to take the model's, or give --cameras ${modelCameras.join(",")}`);
    throw err;
  }
  const cams = simCameraSet(flags.cameras, flags.cameraSize, daemon.config.aligner.cameras, flags.cameraHz);
  if ("error" in cams) {
    await daemon.stop("bad camera set");
    await closeDemoTransports(t);
    usage(cams.error);
  }
  return { daemon, cams };
}
