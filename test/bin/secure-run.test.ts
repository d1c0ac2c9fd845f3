/**
 * `fusiond run` with every transport secured (issue 22, points 5 and 6), as a separate process
 * against a Mosquitto this test starts (TLS, client certificate, username and password, per-vehicle
 * ACL): the MQTT password in the config file, the key passphrase and both tokens from the environment,
 * a CURVE secret key file for the decision PUB. The endpoints refuse what they should; then every
 * byte the run printed (stdout, stderr, HTTP bodies, --print-config, a failed start) is searched for
 * each secret. A subscription the broker's ACL refuses fails the start, saying which topic and why.
 */
import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { Subscriber, curveKeyPair } from "zeromq";
import { parseCurveCertificate } from "../../sensors/index.ts";
import { freePort, uniqueVehicle, waitFor } from "../sensors/helpers.ts";
import { makePki, startSecureMosquitto, type Pki, type SecureMosquitto } from "../sensors/secure-mosquitto.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MODEL = "models/default";

interface Proc {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
  done: () => boolean;
}

/** `fusiond ARGS` with stdout and stderr captured together (both are "output" a secret must stay out of). */
function fusiond(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, ["bin/fusiond.js", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let out = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
  let finished = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once("close", (c) => {
      finished = true;
      resolve(c);
    }),
  );
  return { child, out: () => out, exited, done: () => finished };
}

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms))]);

describe("fusiond run with secured transports: refusals, and no secret in any output", function () {
  this.timeout(180_000);
  let pki: Pki;
  let broker: SecureMosquitto;
  let dynsec: SecureMosquitto;
  const vehicle = uniqueVehicle("sec");
  const password = "mqtt-Pa55word-d0-not-print";
  const passphrase = "key-passphrase-d0-not-print";
  const httpToken = "http-token-0123456789-d0-not-print";
  const foxgloveToken = "foxglove-token-0123456789-d0-not-print";
  let zmqSecret: string;
  let certFile: string;
  let keyFile: string;
  const cleanup: Array<() => Promise<void> | void> = [];

  before(async () => {
    pki = makePki();
    const c = pki.client(vehicle, passphrase);
    certFile = c.cert;
    keyFile = c.key;
    broker = await startSecureMosquitto(pki, [vehicle], "acl_file", { identityAsUsername: false, passwords: { [vehicle]: password } });
    dynsec = await startSecureMosquitto(pki, [vehicle], "dynsec");
  });
  after(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
    await broker?.stop();
    await dynsec?.stop();
    pki?.remove();
  });

  it("refuses unauthenticated clients on HTTP, the live view and ZeroMQ, and prints none of the secrets anywhere", async () => {
    const curveOut = join(pki.dir, "fusiond-curve");
    const keygen = fusiond(["keygen", "--out", curveOut, "--json"]);
    assert.equal(await keygen.exited, 0, keygen.out());
    const serverKeys = parseCurveCertificate(readFileSync(`${curveOut}.key_secret`, "utf8"), "secret");
    zmqSecret = serverKeys.secretKey!;
    const allowed = curveKeyPair();
    const [httpPort, foxPort, zmqPort] = [await freePort(), await freePort(), await freePort()];
    const config = join(pki.dir, "fusiond.yaml");
    writeFileSync(
      config,
      [
        `vehicle: ${vehicle}`,
        "mqtt:",
        `  url: ${broker.url}`,
        `  username: ${vehicle}`,
        `  password: ${password}`,
        `  caFile: ${pki.ca}`,
        `  certFile: ${certFile}`,
        `  keyFile: ${keyFile}`,
        "zmq:",
        `  publish: tcp://127.0.0.1:${zmqPort}`,
        "  curve:",
        `    secretKeyFile: ${curveOut}.key_secret`,
        `    allow: ["${allowed.publicKey}"]`,
        "outputs: { mqtt: true, zmq: true }",
        `http: { listen: "127.0.0.1:${httpPort}" }`,
        `foxglove: { listen: "127.0.0.1:${foxPort}" }`,
        `model: { dir: ${MODEL} }`,
        "",
      ].join("\n"),
    );
    const env = { FUSIOND_MQTT_KEY_PASSPHRASE: passphrase, FUSIOND_HTTP_TOKEN: httpToken, FUSIOND_FOXGLOVE_TOKEN: foxgloveToken };
    const printed: string[] = [];

    // Started together (each process takes seconds to load): --print-config, the daemon, and a start
    // refused for a wrong password given in the URL (its file leaves out the username and password).
    const shown = fusiond(["run", "--config", config, "--print-config"], env);
    const daemon = fusiond(["run", "--config", config], env);
    cleanup.push(() => void daemon.child.kill("SIGKILL"));
    const wrong = "Wr0ng-url-password-d0-not-print";
    const badUrl = broker.url.replace("mqtts://", `mqtts://${vehicle}:${encodeURIComponent(wrong)}@`);
    const urlOnly = join(pki.dir, "url-only.yaml");
    writeFileSync(urlOnly, readFileSync(config, "utf8").replace(/^ {2}(username|password): .*\n/gm, ""));
    const refused = fusiond(["run", "--config", urlOnly, "--mqtt", badUrl, "--http", "off"], env);
    cleanup.push(() => void refused.child.kill("SIGKILL"));

    assert.equal(await within(shown.exited, 90_000, "--print-config"), 0, shown.out());
    printed.push(shown.out());
    const effective = JSON.parse(shown.out()) as { mqtt: { password: string; keyPassphrase: string }; http: { token: string }; foxglove: { token: string } };
    assert.deepEqual([effective.mqtt.password, effective.mqtt.keyPassphrase, effective.http.token, effective.foxglove.token], ["[redacted]", "[redacted]", "[redacted]", "[redacted]"]);

    const code = await within(refused.exited, 90_000, "the refused start to end");
    assert.notEqual(code, 0, refused.out());
    assert.match(refused.out(), new RegExp(`cannot connect to mqtts://(\\[redacted\\]@)?127\\.0\\.0\\.1:${broker.port}`));
    assert.match(refused.out(), /not authori[sz]ed|username or password/i); // Mosquitto answers a bad password with 0x87 on MQTT 5
    printed.push(refused.out());

    await waitFor(() => /"msg":"running"/.test(daemon.out()) || daemon.done(), "the daemon to start", 90_000);
    assert.ok(!daemon.done(), `the daemon exited at start: ${daemon.out()}`);

    // HTTP: 401 without the token, 200 with it.
    const base = `http://127.0.0.1:${httpPort}`;
    const auth = { authorization: `Bearer ${httpToken}` };
    for (const path of ["/readyz", "/healthz", "/metrics"]) {
      const refused = await fetch(`${base}${path}`);
      assert.equal(refused.status, 401, path);
      printed.push(await refused.text());
      const res = await fetch(`${base}${path}`, { headers: auth });
      assert.notEqual(res.status, 401, path);
      printed.push(await res.text());
    }
    assert.equal((await fetch(`${base}/readyz`, { headers: auth })).status, 200);

    // The live view: 401 without its token, 403 from a foreign page, open with the token.
    const ws = (headers: Record<string, string>): Promise<number | "open"> =>
      new Promise((resolve, reject) => {
        const s = new WebSocket(`ws://127.0.0.1:${foxPort}`, ["foxglove.websocket.v1"], { headers });
        s.once("open", () => (s.close(), resolve("open")));
        s.once("unexpected-response", (_q, r) => (resolve(r.statusCode ?? 0), s.terminate()));
        s.once("error", reject);
      });
    assert.equal(await ws({}), 401);
    assert.equal(await ws({ authorization: `Bearer ${foxgloveToken}`, origin: "https://evil.example" }), 403);
    assert.equal(await ws({ authorization: `Bearer ${foxgloveToken}` }), "open");

    // ZeroMQ: a subscriber whose key is not allowed is refused (and logged once with its public key).
    const stranger = curveKeyPair();
    const sub = new Subscriber({ linger: 0, curveServerKey: serverKeys.publicKey, curvePublicKey: stranger.publicKey, curveSecretKey: stranger.secretKey });
    cleanup.push(() => sub.close());
    sub.connect(`tcp://127.0.0.1:${zmqPort}`);
    sub.subscribe("");
    await waitFor(() => daemon.out().includes("ZeroMQ client refused") && daemon.out().includes(stranger.publicKey), "the daemon to log the refused CURVE key", 20_000);
    const counted = await (await fetch(`${base}/metrics`, { headers: auth })).text();
    assert.match(counted, /^fusiond_zmq_refused_total [1-9]\d*$/m, "refusals are counted in /metrics");
    printed.push(counted);

    daemon.child.kill("SIGTERM");
    assert.equal(await within(daemon.exited, 30_000, "the daemon to stop on SIGTERM"), 0, daemon.out());
    printed.push(daemon.out());

    const all = printed.join("\n");
    for (const [what, secret] of [
      ["the MQTT password", password],
      ["the URL's password", wrong],
      ["the key passphrase", passphrase],
      ["the HTTP token", httpToken],
      ["the Foxglove token", foxgloveToken],
      ["the CURVE secret key", zmqSecret],
    ] as const) {
      assert.ok(!all.includes(secret), `${what} appears in the output:\n${all.split("\n").filter((l) => l.includes(secret)).join("\n")}`);
    }
  });

  it("fails the start when the broker's ACL refuses a subscription, naming the topic, the reason and what to do", async () => {
    const c = pki.client(vehicle);
    const other = uniqueVehicle("notmine");
    const run = fusiond([
      "run", "--mqtt", dynsec.url, "--mqtt-ca", pki.ca, "--mqtt-cert", c.cert, "--mqtt-key", c.key,
      "--vehicle", other, "--model", MODEL, "--http", "off",
    ]);
    const code = await within(run.exited, 90_000, "the refused start to end");
    assert.equal(code, 1, run.out());
    assert.match(run.out(), new RegExp(`the MQTT broker refused the subscription to "vehicles/${other}/`));
    assert.match(run.out(), /not authorized \(0x87\)/);
    assert.match(run.out(), /ACL must let/);
    assert.match(run.out(), /"code":"subscribe_denied"/); // logged with its code; the one error line says what to do
    assert.match(run.out(), /^fusiond run: the MQTT broker refused the subscription to .*See docs\/deployment.md/m);
  });
});
