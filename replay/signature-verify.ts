/**
 * Checking a recording's signature (replay/signature.ts says what is signed). `signatureState` only looks
 * (is there a well-formed signature, by which key?) and reads a few hundred bytes; `verifyRecording`
 * hashes the whole file and checks the signature against a public key.
 */
import { createHash, verify, type KeyObject } from "node:crypto";
import { crc32 } from "node:zlib";
import { McapStreamReader, Opcode } from "@mcap/core";
import type { ByteSource } from "./io.ts";
import { McapRecording } from "./reader.ts";
import {
  DATA_END_LENGTH,
  keyIdOf,
  RECOVERED_RECORD,
  SIGNATURE_RECORD,
  SIGNATURE_RECORD_LENGTH,
  SIGNATURE_SCHEME,
  signatureRecordBytes,
  signedMessage,
} from "./signature.ts";

/**
 * valid: signed by the key given, and not a byte changed since. signed: a well-formed signature, not
 * checked (no key given). unsigned: no signature (never signed, not closed, or rebuilt by recover).
 * tampered: a signature that does not match the bytes, or a signature record that was moved or altered.
 * wrong_key: signed, but by another key.
 */
export type SignatureStatus = "valid" | "signed" | "unsigned" | "tampered" | "wrong_key";

export interface SignatureCheck {
  file: string;
  status: SignatureStatus;
  /** One line: why (for unsigned, tampered, wrong_key) or what (valid, signed). */
  reason: string;
  /** The key id the file names (when it has a signature record). */
  keyId?: string;
  /** The key id of the public key it was checked against. */
  checkedWith?: string;
}

const FOOTER_LENGTH = 1 + 8 + 8 + 8 + 4;
const MAGIC = Buffer.from([0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a]);
const READ_BYTES = 4 * 1024 * 1024;

interface Located {
  /** Offset of the signature record (S), of the summary (T), the file's length (E). */
  s: bigint;
  t: bigint;
  e: bigint;
  record: Uint8Array;
  dataEnd: Uint8Array;
  keyId: string;
  signature: Buffer;
}

type Found = { located: Located } | { check: Omit<SignatureCheck, "file"> };

/** Finds the signature record where signing puts it, just before DataEnd; or says why there is none. */
async function locate(source: ByteSource): Promise<Found> {
  const e = await source.size();
  if (e < BigInt(MAGIC.length * 2 + FOOTER_LENGTH + DATA_END_LENGTH)) return { check: { status: "unsigned", reason: "too short to be a closed MCAP file" } };
  const end = await source.read(e - BigInt(FOOTER_LENGTH + MAGIC.length), BigInt(FOOTER_LENGTH + MAGIC.length));
  const footer = Buffer.from(end);
  if (!footer.subarray(FOOTER_LENGTH).equals(MAGIC) || footer[0] !== Opcode.FOOTER || footer.readBigUInt64LE(1) !== 20n) {
    return { check: { status: "unsigned", reason: "not closed (no footer), so never signed; `fusiond recover` rebuilds it, unsigned" } };
  }
  const footerAt = e - BigInt(FOOTER_LENGTH + MAGIC.length);
  const summaryStart = footer.readBigUInt64LE(9);
  const t = summaryStart === 0n ? footerAt : summaryStart;
  const s = t - BigInt(DATA_END_LENGTH + SIGNATURE_RECORD_LENGTH);
  if (t > footerAt || s < BigInt(MAGIC.length)) return { check: await whyNoSignature(source) };
  const both = Buffer.from(await source.read(s, BigInt(SIGNATURE_RECORD_LENGTH + DATA_END_LENGTH)));
  const record = both.subarray(0, SIGNATURE_RECORD_LENGTH);
  const dataEnd = both.subarray(SIGNATURE_RECORD_LENGTH);
  if (record[0] !== Opcode.METADATA || dataEnd[0] !== Opcode.DATA_END || dataEnd.readBigUInt64LE(1) !== 4n) return { check: await whyNoSignature(source) };
  const reader = new McapStreamReader({ noMagicPrefix: true, validateCrcs: false });
  reader.append(record);
  let parsed;
  try {
    parsed = reader.nextRecord();
  } catch {
    parsed = undefined;
  }
  if (parsed?.type !== "Metadata" || parsed.name !== SIGNATURE_RECORD) return { check: await whyNoSignature(source) };
  const keyId = parsed.metadata.get("keyId") ?? "";
  const signature = Buffer.from(parsed.metadata.get("signature") ?? "", "base64");
  const scheme = parsed.metadata.get("scheme");
  if (scheme !== SIGNATURE_SCHEME) {
    return { check: { status: "tampered", reason: `the signature record names scheme "${scheme ?? ""}", not ${SIGNATURE_SCHEME}`, keyId } };
  }
  if (signature.length !== 64 || !Buffer.from(signatureRecordBytes(keyId, signature)).equals(record)) {
    return { check: { status: "tampered", reason: `the signature record at byte offset ${s} was altered (it is not in its canonical form)`, keyId } };
  }
  return { located: { s, t, e, record, dataEnd, keyId, signature } };
}

/** Why a file has no signature record in its place: recovered, moved (tampered) or never signed. */
async function whyNoSignature(source: ByteSource): Promise<Omit<SignatureCheck, "file">> {
  let names: Map<string, Map<string, string>> | undefined;
  try {
    names = await (await McapRecording.open(source)).metadata();
  } catch {
    names = undefined;
  }
  const recovered = names?.get(RECOVERED_RECORD);
  if (recovered) return { status: "unsigned", reason: `rebuilt by fusiond recover${recovered.get("from") ? ` from ${recovered.get("from")}` : ""}; a recovered file is not signed` };
  if (names?.has(SIGNATURE_RECORD)) {
    return { status: "tampered", reason: `the ${SIGNATURE_RECORD} record is not where signing puts it (just before DataEnd): the file was rewritten after signing` };
  }
  return { status: "unsigned", reason: `no ${SIGNATURE_RECORD} record: it was recorded without a signing key (recording.signingKey / --signing-key)` };
}

/** Whether `source` carries a well-formed signature, and whose; reads a few hundred bytes, checks nothing cryptographic. */
export async function signatureState(source: ByteSource): Promise<SignatureCheck> {
  const found = await locate(source);
  if ("check" in found) return { file: source.name, ...found.check };
  return { file: source.name, status: "signed", reason: `signed with key ${found.located.keyId} (not verified: no public key given)`, keyId: found.located.keyId };
}

/** Checks `source`'s signature against `publicKey`: reads and hashes the whole file. */
export async function verifyRecording(source: ByteSource, publicKey: KeyObject): Promise<SignatureCheck> {
  const checkedWith = keyIdOf(publicKey);
  const found = await locate(source);
  if ("check" in found) return { file: source.name, checkedWith, ...found.check };
  const { s, t, e, record, dataEnd, keyId, signature } = found.located;
  const result = (status: SignatureStatus, reason: string): SignatureCheck => ({ file: source.name, status, reason, keyId, checkedWith });
  if (keyId !== checkedWith) return result("wrong_key", `signed with key ${keyId}, not with the key given (${checkedWith})`);

  const dataHash = createHash("sha256");
  let crc = 0;
  for (let at = 0n; at < s; at += BigInt(READ_BYTES)) {
    const n = s - at < BigInt(READ_BYTES) ? s - at : BigInt(READ_BYTES);
    const bytes = await source.read(at, n);
    dataHash.update(bytes);
    crc = crc32(bytes, crc);
  }
  const tailHash = createHash("sha256");
  for (let at = t; at < e; at += BigInt(READ_BYTES)) tailHash.update(await source.read(at, e - at < BigInt(READ_BYTES) ? e - at : BigInt(READ_BYTES)));
  const dataDigest = dataHash.digest();
  const ok = verify(null, signedMessage(keyId, dataDigest, tailHash.digest()), publicKey, signature);
  if (!ok) return result("tampered", `the signature does not match the file's bytes: it was changed after it was signed with key ${keyId}`);
  const wantCrc = Buffer.from(dataEnd).readUInt32LE(9);
  if (wantCrc !== 0 && wantCrc !== crc32(record, crc)) return result("tampered", "the data section CRC in DataEnd was altered");
  return result("valid", `signed with key ${keyId}; every byte as signed`);
}
