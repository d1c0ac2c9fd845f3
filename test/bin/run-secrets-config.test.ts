/** Where `fusiond run` takes its secrets from (file, environment, flags), and that what it prints or stores of its config has none. */
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configFromFlags } from "../../bin/commands/run.ts";
import { configSecrets, parseDaemonConfig } from "../../pipeline/daemon-config.ts";
import { redactSecrets, withoutUserinfo } from "../../schemas/index.ts";

describe("bin: run's secrets — sources and redaction", () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), "fusiond-secrets-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("takes a secret from the flag over the environment over the file, and the MQTT ones only where MQTT is configured", () => {
    const file = join(dir, "a.yaml");
    writeFileSync(file, "mqtt:\n  url: mqtts://broker:8883\n  password: from-file\nhttp:\n  token: file-token-0123456789\n");
    const env = { FUSIOND_MQTT_PASSWORD: "from-env", FUSIOND_HTTP_TOKEN: "env-token-0123456789", FUSIOND_MQTT_KEY_PASSPHRASE: "env-pass" };
    const fromEnv = configFromFlags({ config: file }, env).config;
    assert.equal(fromEnv.mqtt?.password, "from-env");
    assert.equal(fromEnv.mqtt?.keyPassphrase, "env-pass");
    assert.equal(fromEnv.http.token, "env-token-0123456789");
    assert.equal(configFromFlags({ config: file, httpToken: "flag-token-0123456789" }, env).config.http.token, "flag-token-0123456789");
    assert.equal(configFromFlags({ config: file }, {}).config.mqtt?.password, "from-file");
    // A ZeroMQ-only daemon ignores the MQTT secrets in its environment rather than failing on mqtt.url.
    const zmqOnly = configFromFlags({ zmq: ["tcp://127.0.0.1:5555"] }, env).config;
    assert.equal(zmqOnly.mqtt, undefined);
    const flags = configFromFlags({ mqtt: "mqtts://b:8883", mqttCa: "/ca.pem", mqttCert: "/c.pem", mqttKey: "/k.pem", foxglove: "8765", foxgloveOrigin: ["https://app.foxglove.dev"] }, { FUSIOND_FOXGLOVE_TOKEN: "fox-token-0123456789" }).config;
    assert.deepEqual([flags.mqtt?.caFile, flags.mqtt?.certFile, flags.mqtt?.keyFile], ["/ca.pem", "/c.pem", "/k.pem"]);
    assert.deepEqual(flags.foxglove, { listen: "127.0.0.1:8765", token: "fox-token-0123456789", allowedOrigins: ["https://app.foxglove.dev"] });
  });

  it("stores the config text (for recordings) and prints the config (--print-config) without a secret", () => {
    const file = join(dir, "b.yaml");
    writeFileSync(file, "mqtt:\n  url: mqtts://user:url-secret@broker:8883\n  password: file-secret\nhttp:\n  token: file-token-0123456789\n");
    const { config, text } = configFromFlags({ config: file }, { FUSIOND_MQTT_KEY_PASSPHRASE: "env-pass" });
    for (const s of ["url-secret", "file-secret", "file-token-0123456789"]) assert.ok(!text.includes(s), `${s} in the stored text: ${text}`);
    assert.deepEqual(configSecrets(config).sort(), ["env-pass", "file-secret", "file-token-0123456789", "url-secret"].sort());
    const shown = JSON.stringify(redactSecrets(config));
    for (const s of configSecrets(config)) assert.ok(!shown.includes(s), `${s} in ${shown}`);
    assert.equal(redactSecrets(config).mqtt?.url, "mqtts://[redacted]@broker:8883");
    assert.equal(redactSecrets(config).mqtt?.password, "[redacted]");
    assert.equal(config.mqtt?.password, "file-secret", "redaction copies; the config itself keeps its secrets");
    // Flags only (no file): the stored text is the flags as JSON, with the environment's secrets cut out too.
    const flagsOnly = configFromFlags({ mqtt: "mqtt://127.0.0.1:1883", httpToken: "flag-token-0123456789" }, { FUSIOND_MQTT_PASSWORD: "env-secret" });
    assert.ok(!flagsOnly.text.includes("env-secret") && !flagsOnly.text.includes("flag-token-0123456789"), flagsOnly.text);
  });

  it("strips userinfo from URLs, and refuses a short token and a malformed CURVE key with the key named", () => {
    assert.equal(withoutUserinfo("mqtts://u:p%40ss@broker:8883/x"), "mqtts://broker:8883/x");
    assert.equal(withoutUserinfo("mqtt://127.0.0.1:1883"), "mqtt://127.0.0.1:1883");
    assert.equal(withoutUserinfo("mqtt://u:p@ss@host:1"), "mqtt://host:1");
    assert.throws(() => parseDaemonConfig({ mqtt: { url: "mqtt://h:1" }, http: { token: "short" } }), /http\.token: expected at least 16 printable characters/);
    assert.throws(() => parseDaemonConfig({ zmq: { subscribe: ["tcp://h:1"], curve: { secretKeyFile: "k", allow: ["nope"] } } }), /zmq\.curve\.allow\.0: expected a 40-character Z85 CURVE key/);
    assert.throws(() => parseDaemonConfig({ mqtt: { url: "mqtt://h:1" }, foxglove: { listen: "127.0.0.1:8765", allowedOrigins: ["app.foxglove.dev"] } }), /foxglove\.allowedOrigins\.0: expected an origin/);
  });
});
