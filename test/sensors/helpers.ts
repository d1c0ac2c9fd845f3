/** Shared test helpers for sensors/: message factories, waiting, broker choice. */
import { connect as netConnect } from "node:net";
import { defaultCodec, nsToTimestamp } from "../../schemas/index.ts";
import { EmbeddedBroker } from "../../sensors/index.ts";

export const codec = defaultCodec();
/** Tests may read a clock; production code gets one injected. */
export const now = (): bigint => process.hrtime.bigint();

let runCounter = 0;
/** A vehicle id unique to this process and call: keeps tests apart on a shared broker. */
export function uniqueVehicle(tag = "t"): string {
  return `${tag}${process.pid}x${Date.now().toString(36)}x${(runCounter++).toString(36)}`;
}

export const STAMP0 = 1_700_000_000_000_000_000n;

export function radar(seq: number): Uint8Array {
  return codec.encode("fusiond.RadarScan", {
    timestamp: nsToTimestamp(STAMP0 + BigInt(seq) * 50_000_000n),
    seq,
    returns: [{ range_m: 10 + seq, azimuth_rad: 0.1, elevation_rad: 0, radial_velocity_mps: -1, rcs_dbsm: 5 }],
  });
}

export function audio(seq: number, bytes: number): Uint8Array {
  return codec.encode("foxglove.RawAudio", {
    timestamp: nsToTimestamp(STAMP0 + BigInt(seq) * 1_000_000n),
    data: new Uint8Array(bytes).fill(seq & 0xff),
    format: "pcm-s16",
    sample_rate: 16000,
    number_of_channels: 1,
  });
}

export function simStep(step: number): Uint8Array {
  return codec.encode("fusiond.SimStep", { stamp: nsToTimestamp(STAMP0 + BigInt(step)), step });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 5 ms until it holds, or fails after `ms` with `what`. */
export async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** Is something listening on 127.0.0.1:port? */
export function portOpen(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ port, host });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}

export interface TestBroker {
  url: string;
  kind: "mosquitto" | "aedes";
  stop(): Promise<void>;
}

/** Mosquitto's port; FUSIOND_TEST_MOSQUITTO_PORT=1 exercises the fallback on a machine that has Mosquitto. */
const MOSQUITTO_PORT = Number(process.env["FUSIOND_TEST_MOSQUITTO_PORT"] ?? 1883);

/** Mosquitto on 127.0.0.1:1883 if it is up; otherwise the embedded aedes broker, saying so (never a silent skip). */
export async function mosquittoOrAedes(): Promise<TestBroker> {
  if (await portOpen(MOSQUITTO_PORT)) return { url: `mqtt://127.0.0.1:${MOSQUITTO_PORT}`, kind: "mosquitto", stop: async () => {} };
  console.log(`    ! Mosquitto is not reachable on 127.0.0.1:${MOSQUITTO_PORT}: running the Mosquitto variant on the embedded aedes broker instead`);
  return aedes();
}

export async function aedes(): Promise<TestBroker> {
  const broker = await EmbeddedBroker.start();
  return { url: broker.url, kind: "aedes", stop: () => broker.stop() };
}

/** Node's own handles that would keep the process alive (sockets, servers, pipes), by kind. */
export function netHandles(): number {
  return process.getActiveResourcesInfo().filter((k) => /TCP|Pipe|Tty/.test(k) && k !== "TTYWrap").length;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
