import { strict as assert } from "node:assert";
import { generateKeyPairSync } from "node:crypto";
import fc from "fast-check";
import { McapIndexedReader, McapStreamReader } from "@mcap/core";
import { decompressHandlers } from "../../replay/compression.ts";
import { MemorySink, MemorySource } from "../../replay/io.ts";
import { McapRecorder } from "../../replay/recorder.ts";
import { recoverRecording } from "../../replay/recover.ts";
import { keyIdOf, recordingSigner, SIGNATURE_RECORD, SIGNATURE_RECORD_LENGTH } from "../../replay/signature.ts";
import { signatureState, verifyRecording } from "../../replay/signature-verify.ts";
import { syntheticDrive } from "./synthetic.ts";
import { moveRadarReturns } from "./tamper.ts";
import { hex, recordToMemory } from "./helpers.ts";

const pair = () => {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { signer: recordingSigner(privateKey), publicKey };
};
const verify = (bytes: Uint8Array, key: ReturnType<typeof pair>["publicKey"], name = "drive.mcap") => verifyRecording(new MemorySource(bytes, name), key);

describe("replay/signature (signed recordings)", function () {
  this.timeout(60_000);
  const drive = syntheticDrive({ durationS: 3 });
  const { signer, publicKey } = pair();
  let signed: Uint8Array;
  before(async () => {
    signed = await recordToMemory(drive, { signer, metadata: { vehicle: "ego1", config: "vehicle: ego1\n" } });
  });

  it("an untouched signed file verifies; it stays a valid MCAP file that both @mcap/core readers read, CRCs included", async () => {
    const c = await verify(signed, publicKey);
    assert.equal(c.status, "valid", c.reason);
    assert.equal(c.keyId, signer.keyId);
    assert.equal((await signatureState(new MemorySource(signed))).status, "signed");
    const indexed = await McapIndexedReader.Initialize({ readable: new MemorySource(signed), decompressHandlers });
    const names: string[] = [];
    for await (const m of indexed.readMetadata()) names.push(m.name);
    assert.deepEqual(names, ["fusiond", SIGNATURE_RECORD]);
    let n = 0;
    for await (const _ of indexed.readMessages()) n++;
    assert.equal(n, drive.length);
    const stream = new McapStreamReader({ decompressHandlers, validateCrcs: true });
    stream.append(signed);
    for (let r; (r = stream.nextRecord()); ) void r;
    assert.ok(stream.done(), "the streaming reader (which checks the data section CRC) reached the end");
  });

  it("signing keeps the file a function of its input: same messages, same key, same bytes (Ed25519 is deterministic)", async () => {
    const again = await recordToMemory(drive, { signer, metadata: { vehicle: "ego1", config: "vehicle: ego1\n" } });
    assert.equal(hex(again), hex(signed));
    const unsigned = await recordToMemory(drive, { metadata: { vehicle: "ego1", config: "vehicle: ego1\n" } });
    const indexEntry = 1 + 8 + 8 + 8 + 4 + SIGNATURE_RECORD.length;
    assert.equal(signed.length - unsigned.length, SIGNATURE_RECORD_LENGTH + indexEntry, "the record and its metadata index entry");
  });

  it("radar ranges rewritten and every CRC recomputed, the signature put back: tampered", async () => {
    const forged = await moveRadarReturns(signed);
    assert.notEqual(hex(forged), hex(signed));
    // The forgery is a well-formed file: the library reads it with CRC checks on.
    const stream = new McapStreamReader({ decompressHandlers, validateCrcs: true });
    stream.append(forged);
    for (let r; (r = stream.nextRecord()); ) void r;
    assert.ok(stream.done());
    const c = await verify(forged, publicKey, "forged.mcap");
    assert.equal(c.status, "tampered");
    assert.match(c.reason, /does not match the file's bytes: it was changed after it was signed/);
  });

  it("any one byte changed anywhere in the file: never valid, never a throw (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: signed.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, x) => {
        const bad = signed.slice();
        bad[at] = bad[at]! ^ x;
        const c = await verify(bad, publicKey); // never throws: a damaged file is an answer, not a crash
        assert.notEqual(c.status, "valid", `byte ${at} ^ ${x}: ${c.reason}`);
      }),
      { numRuns: 300 },
    );
  });

  it("appended, truncated or with the signature record altered: not valid, with the reason", async () => {
    assert.equal((await verify(Buffer.concat([signed, Buffer.from("x")]), publicKey)).status, "unsigned");
    const cut = await verify(signed.subarray(0, signed.length - 100), publicKey);
    assert.equal(cut.status, "unsigned");
    assert.match(cut.reason, /not closed/);
    // The signature's base64 replaced by other valid base64 of the same length.
    const sigAt = Buffer.from(signed).indexOf("signature", Buffer.from(signed).indexOf("keyId")) + "signature".length + 4;
    const other = signed.slice();
    other[sigAt] = other[sigAt] === 0x41 ? 0x42 : 0x41;
    assert.equal((await verify(other, publicKey)).status, "tampered");
  });

  it("signed by another key: wrong_key, naming both keys", async () => {
    const other = pair();
    const c = await verify(signed, other.publicKey);
    assert.equal(c.status, "wrong_key");
    assert.equal(c.reason, `signed with key ${signer.keyId}, not with the key given (${keyIdOf(other.publicKey)})`);
  });

  it("an unsigned file: unsigned, saying it was recorded without a key", async () => {
    const plain = await recordToMemory(drive, { metadata: { vehicle: "ego1" } });
    const c = await verify(plain, publicKey);
    assert.equal(c.status, "unsigned");
    assert.match(c.reason, /no fusiond\.signature record: it was recorded without a signing key/);
    assert.equal((await signatureState(new MemorySource(plain))).status, "unsigned");
  });

  it("recover drops the signature and marks what it rebuilt: unsigned, 'rebuilt by fusiond recover'", async () => {
    for (const input of [signed, signed.subarray(0, Math.floor(signed.length * 0.8))]) {
      const sink = new MemorySink("fixed.mcap");
      const report = await recoverRecording(new MemorySource(input, "signed.mcap"), sink);
      assert.equal(report.droppedSignature, true);
      const c = await verify(sink.bytes(), publicKey, "fixed.mcap");
      assert.equal(c.status, "unsigned");
      assert.equal(c.reason, "rebuilt by fusiond recover from signed.mcap; a recovered file is not signed");
    }
  });

  it("rotation: every file is signed on its own", async () => {
    const sinks: MemorySink[] = [];
    const rec = await McapRecorder.create({ open: (i) => (sinks[i] = new MemorySink(`r${i}.mcap`)), signer, rotate: { maxDurationNs: 1_000_000_000n } });
    for (const m of drive) rec.addMessage(m);
    await rec.close();
    assert.ok(sinks.length >= 3, `${sinks.length} files`);
    for (const s of sinks) assert.equal((await verify(s.bytes(), publicKey, s.name)).status, "valid", s.name);
  });

  it("the recorded metadata holds no secret: the bytes of the file do not contain the password", async () => {
    const password = "hunter2-Zq8";
    const config = `vehicle: ego1\nmqtt:\n  url: mqtt://fusiond:${password}@127.0.0.1:1883\n  username: fusiond\n  password: ${password}\n`;
    const bytes = await recordToMemory(drive, { signer, metadata: { vehicle: "ego1", config, note: `from mqtts://u:${password}@h` } });
    assert.equal(Buffer.from(bytes).indexOf(password), -1, "the password is nowhere in the file");
    assert.equal((await verify(bytes, publicKey)).status, "valid");
  });
});
