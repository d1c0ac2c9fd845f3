/**
 * When does each camera of a set reach a subscriber that does nothing else (issue 16)? `fusiond sim` publishes
 * 4 × 1280×720 at sensor latency 0 into an embedded broker; a bare MQTT subscriber in this process logs receive −
 * stamp per topic and, per camera set, the spread (last camera received − first). No daemon on this event loop:
 * what is left is the simulator's publishing and the transport. Beside each topic's receive − stamp, the
 * simulator's own figure (its --json stats.sendLateMs): when it handed each kind of message to its transport,
 * minus the stamp — how much of the lateness is the simulator's before the bytes leave it.
 *
 *   S=30 npx tsx bench/daemon-camera-spread.ts            # SIMARGS="--cameras front --camera-size 1920x1080" for others
 *   SIMARGS="--cameras front,rear,left,right --camera-size 1280x720 --camera-workers 0" ...   # encoding on the sim's main thread
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EmbeddedBroker, MqttTransport } from "../sensors/index.ts";
import { MessageDecoder, TopicRegistry } from "../schemas/index.ts";
import { wallNs } from "../sensors/wall-clock.ts";
const S = Number(process.env["S"] ?? 20);
const broker = await EmbeddedBroker.start();
const registry = new TopicRegistry("bench");
const client = await MqttTransport.connect({ url: broker.url, protocolVersion: 4, now: wallNs, registry });
const dec = new MessageDecoder({ registry });
const by: Record<string, number[]> = {};
const sets = new Map<bigint, Record<string, number>>();
let started = false;
client.subscribe(["vehicles/bench/#"]).subscribe((raw) => {
  started = true;
  const r = dec.decode(raw);
  if (!r.ok) return;
  const m = r.message;
  const k = m.topic.split("/").slice(-1)[0] + ":" + m.kind;
  (by[k] ??= []).push(Number(raw.receiveNs - m.stampNs) / 1e6);
  if (m.kind === "camera") {
    const s = sets.get(m.stampNs) ?? {};
    s[m.topic.split("/").at(-1)!] = Number(raw.receiveNs - m.stampNs) / 1e6;
    sets.set(m.stampNs, s);
  }
});
const extra = (process.env["SIMARGS"] ?? "--cameras front,rear,left,right --camera-size 1280x720").split(" ").filter(Boolean);
const child = spawn(process.execPath, [join(process.cwd(), "bin/fusiond.js"), "sim", "--mqtt", broker.url, "--vehicle", "bench", "--seed", "11", "--duration", String(S), "--driver", "expert", "--quiet", "--json", "--sensor-latency", "0", ...extra], { stdio: ["ignore", "pipe", "inherit"] });
let out = "";
child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
// CPU time of the simulator's main thread (task tid = pid) and of its other threads (encoding workers, GC, libuv),
// from /proc, sampled each 0.5 s (the last sample before it exits): unlike the lateness, not a matter of the load.
// From the first message received on (the start-up — loading, the camera warm-up — left out).
const ticks = 100; // USER_HZ
const readCpu = (): { main: number; others: number; atMs: number } | undefined => {
  try {
    let main = 0;
    let others = 0;
    for (const tid of readdirSync(`/proc/${child.pid}/task`)) {
      const f = readFileSync(`/proc/${child.pid}/task/${tid}/stat`, "utf8").split(") ")[1]!.split(" ");
      const cpu = (Number(f[11]) + Number(f[12])) / ticks; // utime + stime, fields 14 and 15
      if (Number(tid) === child.pid) main = cpu;
      else others += cpu;
    }
    return { main, others, atMs: performance.now() };
  } catch {
    return undefined; // exited
  }
};
let cpuFirst: ReturnType<typeof readCpu>;
let cpuLast: ReturnType<typeof readCpu>;
const sampler = setInterval(() => {
  if (!started) return;
  cpuFirst ??= readCpu();
  cpuLast = readCpu() ?? cpuLast;
}, 500);
await new Promise((r) => child.on("close", r));
clearInterval(sampler);
const load = (await import("node:os")).loadavg().map((x) => x.toFixed(2)).join(" ");
console.log(`${S} s, sim ${extra.join(" ")}; load average at the end ${load}`);
const q = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(1); return `n ${s.length} p50 ${at(0.5)} p90 ${at(0.9)} p99 ${at(0.99)} max ${at(1)}`; };
for (const [k, v] of Object.entries(by)) console.log(k, q(v));
const spread: number[] = [];
for (const s of sets.values()) { const v = Object.values(s); if (v.length === 4) spread.push(Math.max(...v) - Math.min(...v)); }
if (spread.length) console.log("set spread (last − first camera)", q(spread));
try {
  const st = (JSON.parse(out) as { stats: { sendLateMs?: Record<string, { n: number; p50: number; p90: number; p99: number; max: number }>; cameraDropped?: number; cameraEncode?: unknown } }).stats;
  for (const [k, v] of Object.entries(st.sendLateMs ?? {})) console.log(`sent by the simulator, ${k}: n ${v.n} p50 ${v.p50.toFixed(1)} p90 ${v.p90.toFixed(1)} p99 ${v.p99.toFixed(1)} max ${v.max.toFixed(1)}`);
  if (cpuFirst && cpuLast && cpuLast.atMs > cpuFirst.atMs) {
    const steps = (cpuLast.atMs - cpuFirst.atMs) / 50;
    console.log(`simulator CPU per 50-ms step while publishing (${(steps / 20).toFixed(1)} s sampled): main thread ${(((cpuLast.main - cpuFirst.main) * 1e3) / steps).toFixed(2)} ms, its other threads ${(((cpuLast.others - cpuFirst.others) * 1e3) / steps).toFixed(2)} ms`);
  }
  console.log(`camera frames dropped by the simulator: ${st.cameraDropped ?? 0}${st.cameraEncode ? `; encoding workers ${JSON.stringify(st.cameraEncode)}` : ""}`);
} catch {
  console.log("(the simulator printed no JSON stats)");
}
await client.close(); await broker.stop();
