/**
 * What signing costs: recording a synthetic drive to memory with and without a signer (best of 7, alternated,
 * after a warm-up), verifying the signed file, and bare SHA-256 over the same bytes as the raw baseline.
 * Run: npx tsx test/replay/measure-signing.ts [seconds of drive, default 60] [image bytes, default 50000]
 */
import { createHash, generateKeyPairSync } from "node:crypto";
import { performance } from "node:perf_hooks";
import { MemorySource } from "../../replay/io.ts";
import { recordingSigner } from "../../replay/signature.ts";
import { verifyRecording } from "../../replay/signature-verify.ts";
import { syntheticDrive } from "./synthetic.ts";
import { recordToMemory } from "./helpers.ts";

const seconds = Number(process.argv[2] ?? 60);
const imageBytes = Number(process.argv[3] ?? 50_000);
const drive = syntheticDrive({ durationS: seconds, imageBytes });
const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const signer = recordingSigner(privateKey);

const best = async <T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> => {
  let ms = Infinity;
  let value!: T;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    value = await f();
    ms = Math.min(ms, performance.now() - t);
  }
  return { ms, value };
};

// Warm up, then alternate the two so that load on the machine falls on both alike.
await recordToMemory(drive);
await recordToMemory(drive, { signer });
const plain = { ms: Infinity };
const signed: { ms: number; value: Uint8Array } = { ms: Infinity, value: new Uint8Array() };
for (let i = 0; i < 7; i++) {
  let t = performance.now();
  await recordToMemory(drive);
  plain.ms = Math.min(plain.ms, performance.now() - t);
  t = performance.now();
  const value = await recordToMemory(drive, { signer });
  signed.ms = Math.min(signed.ms, performance.now() - t);
  signed.value = value;
}
const sha = await best(async () => createHash("sha256").update(signed.value).digest());
const check = await best(() => verifyRecording(new MemorySource(signed.value), publicKey));
const mb = signed.value.length / 1e6;
console.log(`drive: ${seconds} s, ${drive.length} messages, file ${mb.toFixed(1)} MB (zstd)`);
console.log(`record unsigned: ${plain.ms.toFixed(0)} ms; signed: ${signed.ms.toFixed(0)} ms (+${(signed.ms - plain.ms).toFixed(0)} ms, ${((signed.ms / plain.ms - 1) * 100).toFixed(1)}%)`);
console.log(`bare SHA-256 of the file: ${sha.ms.toFixed(1)} ms (${(mb / (sha.ms / 1e3)).toFixed(0)} MB/s)`);
console.log(`verify: ${check.ms.toFixed(1)} ms (${(mb / (check.ms / 1e3)).toFixed(0)} MB/s), status ${check.value.status}`);
