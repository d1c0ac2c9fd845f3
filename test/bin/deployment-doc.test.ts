/**
 * docs/deployment.md, "Securing the transports": every block there, run. The certificate script makes
 * the certificates, Mosquitto runs the config and ACL as written, `fusiond keygen` writes the CURVE
 * pair, the daemon starts in-process from the YAML, and the curl line answers — with /etc paths mapped
 * to a temporary folder and the ports to free loopback ones, nothing else changed.
 */
import { strict as assert } from "node:assert";
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { writeKeyPair } from "../../bin/commands/keygen.ts";
import { startDaemon, type Daemon } from "../../bin/daemon/daemon.ts";
import { parseDaemonConfig } from "../../pipeline/daemon-config.ts";
import { MqttTransport } from "../../sensors/index.ts";
import { capturedLogger } from "./daemon-helpers.ts";
import { freePort, now, portOpen, radar, sleep, waitFor } from "../sensors/helpers.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DOC = join(ROOT, "docs/deployment.md");

/** The section's fenced blocks, keyed by their first line (a comment naming the file or what it is). */
function blocks(): Map<string, string> {
  const text = readFileSync(DOC, "utf8");
  const start = text.indexOf("## Securing the transports");
  assert.ok(start >= 0, "docs/deployment.md has no 'Securing the transports' section");
  const section = text.slice(start, text.indexOf("\n## ", start + 10));
  const out = new Map<string, string>();
  for (const m of section.matchAll(/```[a-z]*\n([\s\S]*?)```/g)) {
    const body = m[1]!;
    const first = body.split("\n")[0]!.replace(/^#\s*/, "").split(/\s+—\s+|\s+/)[0]!;
    out.set(first, body);
  }
  return out;
}

describe("docs/deployment.md: Securing the transports, as written", function () {
  this.timeout(120_000);
  let dir: string;
  let mosquitto: ChildProcess | undefined;
  let daemon: Daemon | undefined;
  const cleanup: Array<() => Promise<void> | void> = [];
  before(() => (dir = mkdtempSync(join(tmpdir(), "fusiond-doc-"))));
  after(async () => {
    await daemon?.stop("test over");
    for (const c of cleanup.splice(0).reverse()) await c();
    mosquitto?.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  });

  it("makes the certificates, runs Mosquitto with the config and ACL, starts fusiond from the YAML, and answers the curl", async () => {
    const b = blocks();
    for (const name of ["make-certs.sh", "/etc/mosquitto/conf.d/fusiond.conf", "/etc/mosquitto/acl", "/etc/fusiond/fusiond.yaml", "keygen", "curl"]) {
      assert.ok(b.has(name), `block "${name}" missing; found: ${[...b.keys()].join(", ")}`);
    }
    const etc = join(dir, "etc");
    const certs = join(etc, "mosquitto/certs");
    mkdirSync(certs, { recursive: true });
    mkdirSync(join(etc, "fusiond/curve"), { recursive: true });
    chmodSync(dir, 0o755);
    const mapPaths = (text: string): string => text.replaceAll("/etc/mosquitto/", `${etc}/mosquitto/`).replaceAll("/etc/fusiond/tls/", `${certs}/`).replaceAll("/etc/fusiond/", `${etc}/fusiond/`);

    // The script, with the broker named "localhost" (what this test connects to).
    const script = b.get("make-certs.sh")!.replace("BROKER=broker.local", "BROKER=localhost");
    const made = spawnSync("bash", ["-c", script], { cwd: certs, encoding: "utf8" });
    assert.equal(made.status, 0, `make-certs.sh failed (needs openssl): ${made.stderr}`);
    chmodSync(join(certs, "broker.key"), 0o644); // "readable by the mosquitto user"

    // Mosquitto: the config as written, on a free loopback port.
    const port = await freePort();
    const conf = mapPaths(b.get("/etc/mosquitto/conf.d/fusiond.conf")!).replace(/^listener 8883$/m, `listener ${port} 127.0.0.1`);
    assert.ok(conf.includes(`listener ${port} 127.0.0.1`));
    writeFileSync(join(etc, "mosquitto/acl"), b.get("/etc/mosquitto/acl")!);
    const confFile = join(etc, "mosquitto/fusiond.conf");
    writeFileSync(confFile, conf + (process.getuid?.() === 0 ? "user root\n" : ""));
    let log = "";
    mosquitto = spawn("mosquitto", ["-c", confFile], { stdio: ["ignore", "pipe", "pipe"] });
    mosquitto.stdout!.on("data", (d: Buffer) => (log += d.toString()));
    mosquitto.stderr!.on("data", (d: Buffer) => (log += d.toString()));
    const until = Date.now() + 10_000;
    while (!(await portOpen(port))) {
      if (Date.now() > until || mosquitto.exitCode !== null) throw new Error(`mosquitto did not start with the documented config:\n${log}`);
      await sleep(50);
    }

    // keygen, as written (in-process: the same function the command calls).
    const keygen = mapPaths(b.get("keygen")!).split("\n").find((l) => l.startsWith("fusiond keygen"))!;
    const out = /--out (\S+)/.exec(keygen)![1]!;
    writeKeyPair(out);

    // fusiond: the YAML, with ports free and the broker's name as the certificate has it.
    const zmqPort = await freePort();
    const yaml = mapPaths(b.get("/etc/fusiond/fusiond.yaml")!)
      .replace("mqtts://broker.local:8883", `mqtts://localhost:${port}`)
      .replace("tcp://0.0.0.0:5556", `tcp://127.0.0.1:${zmqPort}`)
      .replace("127.0.0.1:9464", "127.0.0.1:0")
      .replace("127.0.0.1:8765", "127.0.0.1:0");
    const token = execFileSync("openssl", ["rand", "-hex", "32"], { encoding: "utf8" }).trim();
    const raw = parseYaml(yaml) as Record<string, Record<string, unknown>>;
    const config = parseDaemonConfig({ ...raw, http: { ...raw["http"], token } }, "the documented YAML");
    assert.deepEqual(config.foxglove?.allowedOrigins, ["https://app.foxglove.dev"]);
    const { logger, lines } = capturedLogger();
    daemon = await startDaemon({ config, logger });
    assert.ok(lines.some((l) => l["msg"] === "mqtt connected"), JSON.stringify(lines));

    // The vehicle's own data reaches it: a sensor client with the same certificate publishes a radar scan.
    const sensor = await MqttTransport.connect({
      url: `mqtts://localhost:${port}`,
      now,
      tls: { ca: readFileSync(join(certs, "ca.pem")), cert: readFileSync(join(certs, "ego1.pem")), key: readFileSync(join(certs, "ego1.key")) },
    });
    cleanup.push(() => sensor.close());
    await waitFor(() => daemon!.pipeline.metrics().messagesIn !== undefined, "pipeline metrics");
    for (let i = 0; i < 3; i++) await sensor.publish("vehicles/ego1/sensors/radar/front", radar(i), { qos: 1 });
    await waitFor(() => (daemon!.pipeline.metrics().messagesIn ?? 0) >= 3, "the daemon to receive the vehicle's messages", 10_000);

    // The curl line, with the token in the environment (run asynchronously: the server is in this process).
    const bash = (cmd: string, env: Record<string, string>): Promise<{ status: number; stdout: string; stderr: string }> =>
      new Promise((resolve) =>
        execFile("bash", ["-c", cmd], { encoding: "utf8", env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) =>
          resolve({ status: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
        ),
      );
    const curl = b.get("curl")!.split("\n").find((l) => l.startsWith("curl"))!.replace("http://127.0.0.1:9464", daemon.http!.url);
    const ok = await bash(curl, { FUSIOND_HTTP_TOKEN: token });
    assert.equal(ok.status, 0, `curl with the token: ${ok.stderr}`);
    assert.equal((JSON.parse(ok.stdout) as { ok: boolean }).ok, true);
    const refused = await bash(curl, { FUSIOND_HTTP_TOKEN: "" });
    assert.equal(refused.status, 22, "curl -f exits 22 on the 401"); // curl's code for an HTTP error with -f
  });
});
