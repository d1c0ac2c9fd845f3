/**
 * Issue 22, points 6 and 7, end to end: the daemon records with a password in its config and a signing
 * key; no output holds the password; `fusiond verify`, `sign-keygen`, `recover`, `replay` and `eval`
 * tell a signed file from a tampered, unsigned or recovered one; replay never opens a path a recording names.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import sinon from "sinon";
import { EmbeddedBroker } from "../../sensors/index.ts";
import { MessageDecoder, nsToTimestamp, redactText } from "../../schemas/index.ts";
import { readSigningKey, recordToFile } from "../../replay/index.ts";
import { syntheticDrive } from "../replay/synthetic.ts";
import { startDaemon } from "../../bin/daemon/daemon.ts";
import evalCmd from "../../bin/commands/eval.ts";
import recover from "../../bin/commands/recover.ts";
import replay, { runReplay, type ReplayOpts } from "../../bin/commands/replay.ts";
import signKeygen from "../../bin/commands/sign-keygen.ts";
import verify from "../../bin/commands/verify.ts";
import { moveRadarReturns } from "../replay/tamper.ts";
import { uniqueVehicle } from "../sensors/helpers.ts";
import { capturedLogger, daemonConfig, simulatorOn, tearDown, untrainedModel } from "./daemon-helpers.ts";

const FUSIOND = fileURLToPath(new URL("../../bin/fusiond.js", import.meta.url));
/** The real executable (slow to start on a loaded machine: used where the wiring itself is under test). */
const spawned = (...args: string[]) => spawnSync(process.execPath, [FUSIOND, ...args], { encoding: "utf8" });

/** The commands in process, as bin/main.ts runs them: stdout, stderr (errors as main prints them) and the exit status. */
async function fusiond(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const program = new Command("fusiond").exitOverride();
  for (const register of [verify, signKeygen, recover, replay, evalCmd]) register(program);
  const out: string[] = [];
  const err: string[] = [];
  const so = sinon.stub(process.stdout, "write").callsFake((s: string | Uint8Array) => (out.push(String(s)), true));
  const se = sinon.stub(process.stderr, "write").callsFake((s: string | Uint8Array) => (err.push(String(s)), true));
  const saved = process.exitCode;
  process.exitCode = undefined;
  let status = 0;
  try {
    await program.parseAsync(["node", "fusiond", ...args]);
    status = Number(process.exitCode ?? 0);
  } catch (e) {
    const x = e as Error & { code?: string; exitCode?: number };
    status = e instanceof CommanderError ? x.exitCode! : 1;
    if (!(e instanceof CommanderError)) err.push(redactText(`fusiond: ${x.message}${x.code ? ` [${x.code}]` : ""}`) + "\n");
  } finally {
    so.restore();
    se.restore();
    process.exitCode = saved;
  }
  return { status, stdout: out.join(""), stderr: err.join("") };
}

describe("secrets and signed recordings (issue 22: 6, 7)", function () {
  this.timeout(120_000);
  let dir: string;
  let key: string;
  let pub: string;
  let signed: string;
  let forged: string;
  let unsigned: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "fusiond-integrity-"));
    const made = await fusiond("sign-keygen", "--out", join(dir, "rec"));
    assert.equal(made.status, 0, made.stderr);
    key = join(dir, "rec.key");
    pub = join(dir, "rec.pub");
    const drive = syntheticDrive({ durationS: 2 });
    const write = async (file: string, signer: boolean): Promise<void> => {
      const rec = await recordToFile(file, { ...(signer ? { signer: readSigningKey(key) } : {}), metadata: { vehicle: "ego1" } });
      for (const m of drive) rec.addMessage(m);
      await rec.close();
    };
    signed = join(dir, "signed.mcap");
    unsigned = join(dir, "unsigned.mcap");
    forged = join(dir, "forged.mcap");
    await write(signed, true);
    await write(unsigned, false);
    writeFileSync(forged, await moveRadarReturns(readFileSync(signed)));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("sign-keygen writes a private key only its owner can read, and never overwrites one", async () => {
    assert.equal(statSync(key).mode & 0o777, 0o600);
    assert.match(readFileSync(pub, "utf8"), /^-----BEGIN PUBLIC KEY-----/);
    const again = await fusiond("sign-keygen", "--out", join(dir, "rec"));
    assert.equal(again.status, 1);
    assert.match(again.stderr, /rec\.key exists; not overwriting a key/);
  });

  it("fusiond verify: 0 for an untouched file; 1 with a one-line reason for tampered, unsigned, recovered, wrong key", async () => {
    const ok = await fusiond("verify", signed, "--key", pub);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^.*signed\.mcap: valid: signed with key [0-9a-f]{16}; every byte as signed\n$/);

    const bad = spawned("verify", forged, "--key", pub);
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /^.*forged\.mcap: tampered: the signature does not match the file's bytes: it was changed after it was signed with key [0-9a-f]{16}\n$/);

    const none = await fusiond("verify", unsigned, "--key", pub, "--json");
    assert.equal(none.status, 1);
    const j = JSON.parse(none.stdout) as { status: string; reason: string };
    assert.equal(j.status, "unsigned");

    const fixed = join(dir, "fixed.mcap");
    const rec = await fusiond("recover", signed, "--out", fixed);
    assert.equal(rec.status, 0, rec.stderr);
    assert.match(rec.stdout, /fixed\.mcap is not signed \(marked fusiond\.recovered\); the input's signature was dropped/);
    const r = await fusiond("verify", fixed, "--key", pub);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /fixed\.mcap: unsigned: rebuilt by fusiond recover from .*signed\.mcap; a recovered file is not signed\n$/);

    await fusiond("sign-keygen", "--out", join(dir, "other"));
    const wrong = await fusiond("verify", signed, "--key", join(dir, "other.pub"));
    assert.equal(wrong.status, 1);
    assert.match(wrong.stdout, /wrong_key: signed with key [0-9a-f]{16}, not with the key given \([0-9a-f]{16}\)/);

    const noKey = await fusiond("verify", signed, "--key", join(dir, "missing.pub"));
    assert.equal(noKey.status, 2);
    assert.match(noKey.stderr, /cannot read --key .*missing\.pub: ENOENT \(make a key pair with: fusiond sign-keygen --out NAME\)/);
  });

  it("replay and eval refuse the tampered file when given a key, before reading anything else; they warn on an unsigned one", async () => {
    const rep = await fusiond("replay", forged, "--model", join(dir, "no-model"), "--verify-key", pub);
    assert.equal(rep.status, 1);
    assert.match(rep.stderr, /forged\.mcap: tampered: the signature does not match .*; refused \[recording_tampered\]/);
    const ev = await fusiond("eval", "--model", join(dir, "no-model"), "--data", signed, forged, "--verify-key", pub);
    assert.equal(ev.status, 1);
    assert.match(ev.stderr, /forged\.mcap: tampered: .*refused \[recording_tampered\]/);
    const un = await fusiond("replay", unsigned, "--model", join(dir, "no-model"), "--verify-key", pub);
    assert.equal(un.status, 1);
    assert.match(un.stderr, /unsigned\.mcap: unsigned: no fusiond\.signature record.*refused \(pass --allow-unsigned to use it anyway\) \[recording_unsigned\]/);
    // Past the check, replay goes on to the model (which does not exist here): the signature was not the problem.
    const opts = { model: join(dir, "no-model"), ignore: "", tolerance: "0", quiet: true } satisfies ReplayOpts;
    const warnings: string[] = [];
    await assert.rejects(runReplay(signed, { ...opts, verifyKey: pub, onWarning: (w) => warnings.push(w) }), (e: Error & { code?: string }) => !String(e.code).startsWith("recording_"));
    await assert.rejects(runReplay(unsigned, { ...opts, onWarning: (w) => warnings.push(w) }), (e: Error & { code?: string }) => !String(e.code).startsWith("recording_"));
    assert.deepEqual(warnings.map((w) => w.replace(dir, "DIR")), [
      "warning: DIR/unsigned.mcap: unsigned: no fusiond.signature record: it was recorded without a signing key (recording.signingKey / --signing-key) (pass --verify-key PUB to check signatures)",
    ]);
  });

  it("replay never opens a path named inside a recording: a crafted config naming a file is ignored, with a warning", async () => {
    const model = await untrainedModel();
    const secretFile = join(dir, "not-a-map.txt");
    writeFileSync(secretFile, "root:x:0:0:TOP-SECRET-MARKER:/root:/bin/bash\n");
    const crafted = join(dir, "crafted.mcap");
    const rec = await recordToFile(crafted, { metadata: { vehicle: "sim", config: `vehicle: sim\nmqtt:\n  url: mqtt://127.0.0.1:1883\nmap: ${secretFile}\n` } });
    const codec = new MessageDecoder().codec;
    for (let i = 1; i <= 5; i++) {
      const ns = BigInt(i) * 100_000_000n;
      rec.addMessage({ topic: "vehicles/sim/ego", type: "fusiond.EgoState", bytes: codec.encode("fusiond.EgoState", { timestamp: nsToTimestamp(ns), speed_mps: 3 }), receiveNs: ns, stampNs: ns });
    }
    await rec.close();
    const warnings: string[] = [];
    const report = await runReplay(crafted, { model, backend: "wasm", ignore: "", tolerance: "0", quiet: true, onWarning: (w) => warnings.push(w) });
    assert.equal(report.messages, 5);
    assert.ok(warnings.includes("the recorded config names a road map but the recording holds none; deciding without map context (pass --map FILE to use one)"), warnings.join("\n"));
    assert.ok(!JSON.stringify(report).includes("TOP-SECRET") && !warnings.join("").includes("TOP-SECRET"));
    // The same file given explicitly is read, and still not quoted.
    await assert.rejects(runReplay(crafted, { model, backend: "wasm", ignore: "", tolerance: "0", quiet: true, map: secretFile, onWarning: () => {} }), (e: Error & { code?: string }) => e.code === "bad_map" && !e.message.includes("root:") && !e.message.includes("TOP-SECRET"));
  });

  it("the daemon refuses to start with a signing key it cannot use, saying which and what to do", async () => {
    const config = daemonConfig("ego1", "mqtt://127.0.0.1:9", join(dir, "no-model"), { recording: { dir: join(dir, "r"), signingKey: join(dir, "nope.key") } });
    await assert.rejects(startDaemon({ config, logger: capturedLogger().logger }), (e: Error & { code?: string }) =>
      e.code === "bad_key" && /^cannot read recording\.signingKey .*nope\.key: ENOENT \(make a key pair with: fusiond sign-keygen --out NAME\)$/.test(e.message));
    await assert.rejects(startDaemon({ config: { ...config, recording: { ...config.recording!, signingKey: pub } }, logger: capturedLogger().logger }), (e: Error & { code?: string }) =>
      e.code === "bad_key" && /recording\.signingKey .*rec\.pub is not a PEM private key/.test(e.message));
  });

  it("the daemon with mqtt.password and recording.signingKey: the recording is signed, and neither it, `info --json` nor the logs hold the password", async () => {
    const model = await untrainedModel();
    const broker = await EmbeddedBroker.start({ port: 0 });
    const password = "pw-Qz7-hunter2";
    const vehicle = uniqueVehicle();
    const recDir = join(dir, "recordings");
    const url = broker.url.replace("mqtt://", `mqtt://fusiond:${password}@`);
    const configText = `vehicle: ${vehicle}\nmqtt:\n  url: ${url}\n  username: fusiond\n  password: ${password}\nrecording:\n  dir: ${recDir}\n  signingKey: ${key}\n`;
    const config = daemonConfig(vehicle, url, model, { mqtt: { url, username: "fusiond", password, protocolVersion: 4 }, recording: { dir: recDir, signingKey: key } });
    const log = capturedLogger();
    const daemon = await startDaemon({ config, configText, logger: log.logger });
    const feed = await simulatorOn(broker.url, vehicle, 30);
    try {
      await new Promise((r) => setTimeout(r, 2500));
    } finally {
      await tearDown(feed, daemon, broker);
    }
    const files = readdirSync(recDir).filter((f) => f.endsWith(".mcap"));
    assert.equal(files.length, 1);
    const file = join(recDir, files[0]!);
    const bytes = readFileSync(file);
    assert.equal(bytes.indexOf(password), -1, "the password is not in the recording's bytes");
    assert.ok(bytes.indexOf("[redacted]") > 0, "the config was recorded, redacted");
    const info = spawned("info", file, "--json");
    assert.equal(info.status, 0, info.stderr);
    assert.ok(!info.stdout.includes(password));
    assert.equal((JSON.parse(info.stdout) as { signature: { status: string } }).signature.status, "signed");
    assert.equal((await fusiond("verify", file, "--key", pub)).status, 0);
    assert.ok(!JSON.stringify(log.lines).includes(password), "no log line holds the password");
  });
});
