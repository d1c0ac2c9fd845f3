/**
 * When does each camera of a set reach a subscriber that does nothing else (issue 16)? `fusiond sim` publishes
 * 4 × 1280×720 at sensor latency 0 into an embedded broker; a bare MQTT subscriber in this process logs receive −
 * stamp per topic and, per camera set, the spread (last camera received − first). No daemon on this event loop:
 * what is left is the simulator's publishing and the transport.
 *
 *   S=30 npx tsx bench/daemon-camera-spread.ts            # SIMARGS="--cameras front --camera-size 1920x1080" for others
 */
import { spawn } from "node:child_process";
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
client.subscribe(["vehicles/bench/#"]).subscribe((raw) => {
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
await new Promise((r) => child.on("close", r));
const q = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(1); return `n ${s.length} p50 ${at(0.5)} p90 ${at(0.9)} p99 ${at(0.99)} max ${at(1)}`; };
for (const [k, v] of Object.entries(by)) console.log(k, q(v));
const spread: number[] = [];
for (const s of sets.values()) { const v = Object.values(s); if (v.length === 4) spread.push(Math.max(...v) - Math.min(...v)); }
console.log("set spread (last − first camera)", q(spread));
await client.close(); await broker.stop();
