/** `fusiond echo` run as a user would, against a broker (Mosquitto, else aedes) and a ZeroMQ publisher. */
import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { MqttTransport, ZmqSink, type RawSink } from "../../sensors/index.ts";
import { audio, mosquittoOrAedes, now, radar, sleep, uniqueVehicle, waitFor } from "../sensors/helpers.ts";
import { codec, STAMP0 } from "../sensors/helpers.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function fusiond(args: string[]): Running {
  const child = spawn(process.execPath, ["bin/fusiond.js", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  const exit = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

/** Publishes unknown-topic probes until echo reports one: its subscription is live end to end. */
async function untilListening(run: Running, sink: RawSink, vid: string): Promise<void> {
  await waitFor(() => run.stderr().includes("listening on"), `echo to start (stderr: ${run.stderr()})`, 20_000);
  for (let i = 0; !run.stderr().includes("rejected unknown_topic"); i++) {
    if (i > 300) throw new Error(`echo never saw a probe; stderr: ${run.stderr()}`);
    await sink.publish(`vehicles/${vid}/probe`, new Uint8Array([1]), { qos: 0 });
    await sleep(20);
  }
}

describe("interop/fusiond echo", function () {
  this.timeout(120_000); // each run starts the whole CLI (tsx); slow on a loaded machine
  const cleanup: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it("prints decoded JSON lines from MQTT, reports rejections with their reason on stderr, and exits 0 after --count", async () => {
    const broker = await mosquittoOrAedes();
    cleanup.push(() => broker.stop());
    const sink = await MqttTransport.connect({ url: broker.url, now });
    cleanup.push(() => sink.close());
    const vid = uniqueVehicle("echo");
    const run = fusiond(["echo", "--mqtt", broker.url, "--topic", `vehicles/${vid}/#`, "--count", "2", "--max-bytes", "2048"]);
    cleanup.push(() => run.child.kill("SIGKILL"));
    await untilListening(run, sink, vid);
    const radarTopic = `vehicles/${vid}/sensors/radar/front`;
    await sink.publish(radarTopic, Uint8Array.from([0x0a, 0xff, 0xff]), { qos: 1 }); // malformed
    await sink.publish(`vehicles/${vid}/sensors/voice/mic`, audio(1, 4096), { qos: 1 }); // over --max-bytes
    await sink.publish(radarTopic, radar(1), { qos: 1 });
    await sink.publish(`vehicles/${vid}/ego`, codec.encode("fusiond.EgoState", { timestamp: { seconds: 1_700_000_000, nanos: 7 }, speed_mps: 12.5 }), { qos: 1 });
    assert.equal(await run.exit, 0, run.stderr());
    const lines = run.stdout().trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 2);
    assert.deepEqual(
      lines.map((l) => [l["topic"], l["type"], l["stampNs"]]),
      [
        [radarTopic, "fusiond.RadarScan", (STAMP0 + 50_000_000n).toString()],
        [`vehicles/${vid}/ego`, "fusiond.EgoState", "1700000000000000007"],
      ],
    );
    assert.equal((lines[0]!["message"] as { seq: number }).seq, 1);
    assert.equal((lines[1]!["message"] as { speed_mps: number }).speed_mps, 12.5);
    assert.equal(lines[1]!["stamp"], "2023-11-14T22:13:20.000000007Z");
    assert.match(String(lines[0]!["receiveNs"]), /^\d{19}$/);
    assert.match(run.stderr(), /rejected decode_error on vehicles\/\S+\/sensors\/radar\/front: fusiond\.RadarScan/);
    assert.match(run.stderr(), /rejected oversized on vehicles\/\S+\/sensors\/voice\/mic: \d+ bytes > limit 2048/);
    assert.match(run.stderr(), /--count 2 reached: 2 messages, \d+ rejected \(decode_error 1, oversized 1, unknown_topic \d+\)/);
  });

  it("reads ZeroMQ and stops cleanly on SIGINT with a summary", async () => {
    const sink = await ZmqSink.open({ endpoint: "tcp://127.0.0.1:*" });
    cleanup.push(() => sink.close());
    const vid = uniqueVehicle("echoz");
    const run = fusiond(["echo", "--zmq", sink.endpoint, "--topic", `vehicles/${vid}/#`, "--bytes", "base64"]);
    cleanup.push(() => run.child.kill("SIGKILL"));
    await untilListening(run, sink, vid);
    await sink.publish(`vehicles/${vid}/sensors/voice/mic`, audio(3, 4), { qos: 0 });
    await waitFor(() => run.stdout().includes("\n"), "one line on stdout");
    const line = JSON.parse(run.stdout().trim()) as { message: { data: string } };
    assert.equal(line.message.data, Buffer.from([3, 3, 3, 3]).toString("base64"), "--bytes base64");
    run.child.kill("SIGINT");
    const started = Date.now();
    assert.equal(await run.exit, 0);
    assert.ok(Date.now() - started < 5000, "exits promptly");
    assert.match(run.stderr(), /SIGINT: 1 messages/);
  });

  it("--help shows the options and examples; a usage error exits 2", async () => {
    const help = fusiond(["echo", "--help"]);
    const bad = fusiond(["echo", "--mqtt", "mqtt://127.0.0.1:1", "--zmq", "tcp://127.0.0.1:1"]);
    assert.equal(await help.exit, 0);
    for (const s of ["--mqtt <url>", "--zmq <endpoint>", "--topic <pattern>", "--vehicle <id>", "--count <n>", "--bytes <mode>", "Examples:", "fusiond echo --mqtt mqtt://127.0.0.1:1883"]) {
      assert.ok(help.stdout().includes(s), `help mentions ${s}`);
    }
    assert.equal(await bad.exit, 2);
    assert.match(bad.stderr(), /exactly one of --mqtt URL or --zmq ENDPOINT/);
  });
});
