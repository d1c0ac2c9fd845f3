import assert from "node:assert/strict";
import fc from "fast-check";
import { stringify } from "yaml";
import { isSecretKey, REDACTED, redactConfigText, redactMetadata, redactSecrets, redactText } from "../../schemas/redact.ts";

/** Secret values carry a marker no other generated value can contain, so "survives" means "appears". */
const secretValue = fc.stringMatching(/^[A-Za-z0-9]{4,12}$/).map((s) => `S3CRET${s}`);
const secretKey = fc.constantFrom(
  "password",
  "passwd",
  "keyPassphrase",
  "key_passphrase",
  "token",
  "bearerToken",
  "apiKey",
  "api-key",
  "secret",
  "curveSecretKey",
  "privateKey",
  "key",
  "credentials",
  "authorization",
);
const plainKey = fc.stringMatching(/^[a-z][a-zA-Z]{0,9}$/).filter((k) => !isSecretKey(k));
const plainValue = fc.oneof(fc.stringMatching(/^[a-z0-9 ./:-]{0,16}$/), fc.integer(), fc.boolean(), fc.constant(null));

type Tree = unknown;
/** JSON-shaped trees with secrets (of any shape: strings, numbers, objects) under secret keys at any depth. */
const tree: fc.Arbitrary<Tree> = fc.letrec<{ node: Tree; secretHolder: Tree }>((tie) => ({
  secretHolder: fc.oneof(secretValue, fc.record({ inner: secretValue }), fc.array(secretValue, { minLength: 1, maxLength: 2 })),
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    plainValue,
    fc.array(tie("node"), { maxLength: 3 }),
    fc
      .tuple(fc.dictionary(plainKey, tie("node"), { maxKeys: 4 }), fc.array(fc.tuple(secretKey, tie("secretHolder")), { maxLength: 2 }))
      .map(([plain, secrets]) => ({ ...plain, ...Object.fromEntries(secrets) })),
  ),
})).node;

const survives = (text: string): boolean => /S3CRET/.test(text);

describe("schemas/redact", () => {
  it("no value under a secret key survives redactSecrets, at any depth, whatever its type (property)", () => {
    fc.assert(
      fc.property(tree, (t) => {
        const out = redactSecrets(t);
        assert.ok(!survives(JSON.stringify(out)), JSON.stringify(out));
      }),
      { numRuns: 500 },
    );
  });

  it("redactSecrets keeps everything that is not a secret (property)", () => {
    fc.assert(
      fc.property(tree, (t) => {
        // Remove the secrets by hand: what is left must be unchanged.
        const strip = (v: unknown): unknown =>
          Array.isArray(v) ? v.map(strip) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, isSecretKey(k) ? REDACTED : strip(x)])) : v;
        assert.deepEqual(redactSecrets(t), strip(t));
      }),
      { numRuns: 300 },
    );
  });

  it("no value under a secret key survives redactConfigText, as YAML or as JSON (property)", () => {
    fc.assert(
      fc.property(tree.filter((t) => t !== null && typeof t === "object" && !Array.isArray(t)), fc.boolean(), (t, json) => {
        const text = json ? JSON.stringify(t, null, 2) : stringify(t);
        const out = redactConfigText(text);
        assert.ok(!survives(out), out);
      }),
      { numRuns: 300 },
    );
  });

  it("config text: secrets replaced, comments, other keys and paths to key files kept", () => {
    const text = [
      "# drive config",
      "vehicle: ego1",
      "mqtt:",
      "  url: mqtts://alice:hunter2@broker.example:8883",
      "  username: alice",
      "  password: hunter2 # the broker password",
      "  keyFile: /etc/fusiond/client.key",
      "zmq:",
      "  curveSecretKey: 'rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7'",
      "recording:",
      "  dir: /data",
      "  signingKey: /etc/fusiond/recording.pem",
      "",
    ].join("\n");
    const out = redactConfigText(text);
    assert.ok(!/hunter2|rM>/.test(out), out);
    assert.match(out, /# drive config/);
    assert.match(out, /username: alice/);
    assert.match(out, /keyFile: \/etc\/fusiond\/client\.key/);
    assert.match(out, /signingKey: \/etc\/fusiond\/recording\.pem/);
    assert.match(out, /url: mqtts:\/\/\[redacted\]@broker\.example:8883/);
    assert.match(out, /password: "\[redacted\]"/);
  });

  it("config text that does not parse is still redacted line by line", () => {
    const out = redactConfigText("mqtt: {password: hunter2\n  token=abc123 url=mqtt://u:p@h:1\n");
    assert.ok(!/hunter2|abc123|u:p@/.test(out), out);
  });

  it("free text: URL userinfo, secret query parameters, PEM private keys, key=value pairs", () => {
    assert.equal(redactText("mqtt://alice:hunter2@127.0.0.1:1883"), "mqtt://[redacted]@127.0.0.1:1883");
    assert.equal(redactText("wss://host/mqtt?token=abc&client=ego1"), "wss://host/mqtt?token=[redacted]&client=ego1");
    assert.equal(redactText("mqtt://127.0.0.1:1883"), "mqtt://127.0.0.1:1883");
    assert.equal(
      redactText("fusiond: cannot connect to mqtt://u:p%40ss@h:1883 (MQTT 5): Not authorized [mqtt_connect_failed]"),
      "fusiond: cannot connect to mqtt://[redacted]@h:1883 (MQTT 5): Not authorized [mqtt_connect_failed]",
    );
    const pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIBd0\n-----END PRIVATE KEY-----";
    assert.equal(redactText(`key was ${pem} here`), "key was [redacted] PEM private key here");
    assert.equal(redactText('{"password":"x y","keyFile":"/k"} token: abc'), '{"password":"[redacted]","keyFile":"/k"} token: [redacted]');
    // Idempotent.
    const once = redactText("password=abc mqtt://a:b@h");
    assert.equal(redactText(once), once);
  });

  it("no URL password or secret query value survives redactText, whatever surrounds the URL (property)", () => {
    const word = fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/);
    fc.assert(
      fc.property(
        fc.constantFrom("mqtt", "mqtts", "ws", "wss", "tcp", "ssl", "https", "redis"),
        word,
        secretValue,
        fc.stringMatching(/^[a-z0-9.-]{1,20}$/),
        fc.constantFrom("token", "access_token", "apiKey", "password"),
        fc.string({ maxLength: 20 }),
        fc.string({ maxLength: 20 }),
        (scheme, user, pass, host, param, before, after) => {
          const text = `${before} ${scheme}://${user}:${pass}@${host}:1883/x?${param}=${pass}X&n=1 ${after}`;
          const out = redactText(text);
          assert.ok(!survives(out), out);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("recording metadata: config redacted as config text, secret keys and URLs in other values too", () => {
    const out = redactMetadata({
      fusiond: { vehicle: "ego1", config: "mqtt:\n  url: mqtt://h:1\n  password: hunter2\n", note: "from mqtt://a:hunter2@h", apiToken: "hunter2" },
    });
    assert.ok(!JSON.stringify(out).includes("hunter2"), JSON.stringify(out));
    assert.equal(out["fusiond"]!["vehicle"], "ego1");
    assert.equal(out["fusiond"]!["apiToken"], REDACTED);
  });

  it("which key names are secret", () => {
    for (const k of ["password", "mqtt.password", "keyPassphrase", "bearer_token", "curveSecretKey", "api-key", "privateKey", "key", "auth", "clientSecret"]) {
      assert.equal(isSecretKey(k), true, k);
    }
    for (const k of ["url", "username", "keyFile", "tokenPath", "signingKey", "curvePublicKey", "curveServerKey", "keyId", "map", "config", "dir"]) {
      assert.equal(isSecretKey(k), false, k);
    }
  });
});
