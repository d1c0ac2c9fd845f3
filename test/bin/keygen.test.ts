/** `fusiond keygen`: a CURVE key pair as CZMQ certificate files, the secret one mode 0600, that works on real sockets. */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readCurveSecretFile } from "../../bin/daemon/curve-keys.ts";
import type { RawMessage } from "../../schemas/index.ts";
import { parseCurveCertificate, ZmqSink, ZmqSource } from "../../sensors/index.ts";
import { now, radar, sleep } from "../sensors/helpers.ts";
import { curveKeyPair } from "zeromq";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const fusiond = (...args: string[]) => spawnSync(process.execPath, ["bin/fusiond.js", ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });

describe("fusiond keygen", function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), "fusiond-keygen-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("writes PATH.key and PATH.key_secret (0600), prints the public key, refuses to overwrite without --force, and --json names the files", () => {
    const out = join(dir, "fusiond");
    const r = fusiond("keygen", "--out", out);
    assert.equal(r.status, 0, r.stderr);
    const printed = r.stdout.trim();
    assert.match(printed, /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/);
    assert.equal(statSync(`${out}.key_secret`).mode & 0o777, 0o600);
    const pub = parseCurveCertificate(readFileSync(`${out}.key`, "utf8"), "pub");
    const sec = parseCurveCertificate(readFileSync(`${out}.key_secret`, "utf8"), "sec");
    assert.equal(pub.publicKey, printed);
    assert.equal(sec.publicKey, printed);
    assert.equal(pub.secretKey, undefined, "the public file holds no secret");
    assert.ok(!r.stdout.includes(sec.secretKey!) && !r.stderr.includes(sec.secretKey!), "the secret key is never printed");

    const again = fusiond("keygen", "--out", out);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /exists: not overwritten \(pass --force/);
    assert.equal(parseCurveCertificate(readFileSync(`${out}.key`, "utf8"), "pub").publicKey, printed, "the old pair is untouched");

    chmodSync(`${out}.key_secret`, 0o644);
    const forced = fusiond("keygen", "--out", out, "--force", "--json");
    assert.equal(forced.status, 0, forced.stderr);
    const j = JSON.parse(forced.stdout) as { publicKey: string; publicFile: string; secretFile: string };
    assert.deepEqual(Object.keys(j).sort(), ["publicFile", "publicKey", "secretFile"]);
    assert.notEqual(j.publicKey, printed);
    assert.equal(j.secretFile, `${out}.key_secret`);
    assert.equal(statSync(j.secretFile).mode & 0o777, 0o600, "--force also makes the replaced secret file 0600");
  });

  it("the pair it writes serves CURVE: a client that knows the printed public key gets the data", async () => {
    const out = join(dir, "server");
    const r = fusiond("keygen", "--out", out, "--json");
    assert.equal(r.status, 0, r.stderr);
    const serverKey = (JSON.parse(r.stdout) as { publicKey: string }).publicKey;
    const warnings: string[] = [];
    const keys = readCurveSecretFile(`${out}.key_secret`, (m) => warnings.push(m));
    assert.deepEqual(warnings, []);
    const client = curveKeyPair();
    const sink = await ZmqSink.open({ endpoint: "tcp://127.0.0.1:*", curve: { role: "server", secretKey: keys.secretKey, allow: [client.publicKey] } });
    const src = new ZmqSource({ endpoint: sink.endpoint, now, curve: { role: "client", ...client, serverKey } });
    const got: RawMessage[] = [];
    const sub = src.subscribe(["t"]).subscribe((m) => got.push(m));
    try {
      for (let i = 0; got.length === 0; i++) {
        await sink.publish("t", radar(i), { qos: 0 });
        await sleep(20);
        if (i > 250) throw new Error("no message over CURVE with the generated pair");
      }
    } finally {
      sub.unsubscribe();
      await src.close();
      await sink.close();
    }
  });

  it("the daemon's reader refuses a public certificate as the secret file and warns about one others can read", () => {
    const out = join(dir, "loose");
    assert.equal(fusiond("keygen", "--out", out).status, 0);
    assert.throws(() => readCurveSecretFile(`${out}.key`, () => {}), /holds only a public key/);
    chmodSync(`${out}.key_secret`, 0o640);
    const warnings: string[] = [];
    readCurveSecretFile(`${out}.key_secret`, (m) => warnings.push(m));
    assert.match(warnings[0] ?? "", /chmod 600/);
    writeFileSync(join(dir, "junk"), "not a certificate");
    assert.throws(() => readCurveSecretFile(join(dir, "junk"), () => {}), (e: Error & { code?: string }) => e.code === "bad_curve_key" && !e.message.includes("not a certificate"));
  });
});
