/** Shared pieces of the daemon tests: a small untrained model, a quiet logger, a simulator feeding a broker. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino, type Logger } from "pino";
import { map } from "rxjs";
import { makeInputSpec, renderCard, saveModelDir, selectBackend, strategyByName, type ModelCard } from "../../fusion/index.ts";
import { parseDaemonConfig, type DaemonConfig } from "../../pipeline/daemon-config.ts";
import { MODALITIES, TopicRegistry } from "../../schemas/index.ts";
import { MqttTransport, SensorSink, type RawSink, type PublishOptions, type PublishResult } from "../../sensors/index.ts";
import { randomScenario } from "../../sim/scenario.ts";
import { startLiveSim, type LiveSim } from "../../sim/live.ts";
import { wallNs } from "../../sensors/wall-clock.ts";
import { saveRecogniserFor } from "../fusion/recogniser.ts";

/** An untrained all-modality model: the daemon's plumbing does not depend on what the model learned. */
export async function untrainedModel(): Promise<string> {
  await selectBackend("wasm");
  const dir = join(mkdtempSync(join(tmpdir(), "fusiond-model-")), "untrained");
  const spec = makeInputSpec([...MODALITIES]);
  const card: ModelCard = {
    name: "untrained",
    strategy: "late",
    description: "untrained model for daemon tests",
    command: "test/bin/daemon-helpers.ts",
    data: { files: [], samples: 0, train: 0, val: 0 },
    training: {},
    metrics: {},
    inputSpec: spec,
  };
  await saveRecogniserFor(dir, spec);
  await saveModelDir(dir, strategyByName("late").build(spec, { seed: 1 }), card, renderCard);
  return dir;
}

export interface CapturedLog {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
}

/** A pino logger whose JSON lines land in an array. */
export function capturedLogger(): CapturedLog {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

export function daemonConfig(vehicle: string, url: string, model: string, extra: Record<string, unknown> = {}): DaemonConfig {
  return parseDaemonConfig({ vehicle, mqtt: { url, protocolVersion: 4 }, model: { dir: model }, http: { listen: "127.0.0.1:0" }, ...extra });
}

/** A raw sink that can silence topics on demand (a sensor going quiet). */
export class GatedSink implements RawSink {
  readonly silenced = new Set<string>();
  constructor(private readonly inner: RawSink) {}
  publish(topic: string, payload: Uint8Array, options: PublishOptions): Promise<PublishResult> {
    for (const s of this.silenced) if (topic.includes(s)) return Promise.resolve({ ok: true });
    return this.inner.publish(topic, payload, options);
  }
  get inFlight(): number {
    return this.inner.inFlight;
  }
  get counters() {
    return this.inner.counters;
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The simulator publishing every sensor of `vehicle` in real time on a broker (the expert drives). */
export async function simulatorOn(url: string, vehicle: string, durationS: number, seed = 3): Promise<{ sim: LiveSim; gate: GatedSink; client: MqttTransport }> {
  const registry = new TopicRegistry(vehicle);
  const client = await MqttTransport.connect({ url, protocolVersion: 4, now: wallNs, registry });
  const gate = new GatedSink(client);
  const scenario = { ...randomScenario(seed, durationS, `daemon-test-${seed}`), weather: ["clear" as const] };
  const sim = startLiveSim({ sink: new SensorSink(gate, { registry }), scenario, vehicle, driver: "expert", statusEveryMs: 60_000 });
  return { sim, gate, client };
}

/** Decisions arriving on the decision topic, decoded. */
export async function decisionWatcher(url: string, vehicle: string): Promise<{ client: MqttTransport; decisions: Array<Record<string, unknown>>; stop: () => Promise<void> }> {
  const registry = new TopicRegistry(vehicle);
  const { SensorSource, MqttTransport: T } = await import("../../sensors/index.ts");
  const { MessageDecoder } = await import("../../schemas/index.ts");
  const client = await T.connect({ url, protocolVersion: 4, now: wallNs, registry });
  const source = new SensorSource(client, new MessageDecoder({ registry }));
  const decisions: Array<Record<string, unknown>> = [];
  const sub = source
    .messages([registry.topicFor("decision")])
    .pipe(map((m) => m.message))
    .subscribe((d) => decisions.push(d));
  return {
    client,
    decisions,
    stop: async () => {
      sub.unsubscribe();
      source.close();
      await client.close();
    },
  };
}

/**
 * A daemon test's teardown, in this order: the simulator (its episode ended) and its client, then `others` (e.g.
 * an attacker's client), the daemon, and the broker if given.
 */
export async function tearDown(feed: { sim: LiveSim; client: { close(): Promise<void> } }, daemon: { stop(reason: string): Promise<void> }, broker?: { stop(): Promise<void> }, ...others: Array<{ close(): Promise<unknown> }>): Promise<void> {
  feed.sim.stop();
  await feed.sim.done;
  await feed.client.close();
  for (const o of others) await o.close();
  await daemon.stop("test");
  await broker?.stop();
}
