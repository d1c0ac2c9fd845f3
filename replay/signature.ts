/**
 * Signed recordings: an Ed25519 signature (node:crypto) over every byte of a closed MCAP file except the
 * signature itself, stored in the file as a Metadata record named `fusiond.signature` that MCAP readers
 * (Foxglove, the mcap CLI, ours) treat as any other metadata. docs/recording.md ("Signed recordings")
 * gives the exact bytes; verification is in signature-verify.ts.
 *
 * A signed file ends
 *
 *     [0, S)        magic, header, chunks, message indexes, metadata    ← SHA-256 → dataDigest
 *     [S, S+L)      Metadata "fusiond.signature" {scheme, keyId, signature}   (L fixed: SIGNATURE_RECORD_LENGTH)
 *     [S+L, T)      DataEnd (13 bytes: its CRC covers [0, S+L), signature included)
 *     [T, E)        summary, summary offsets, footer, magic              ← SHA-256 → tailDigest
 *
 * and the signature is Ed25519(private key, "fusiond-mcap-ed25519-v1\n" + keyId + "\n" + dataDigest + tailDigest).
 * Every byte of the file is therefore covered except the 88 characters of the signature and the 4-byte
 * data CRC, and verification pins those two as well (the record must be byte-for-byte the canonical one,
 * and the CRC must match). Chunks are hashed whole rather than by their CRC32s: a CRC32 can be made to
 * match after any change by rewriting 4 bytes, so signing CRCs would sign nothing.
 *
 * Why the summary can be signed before it is written out: it does not depend on the signature's value
 * (the metadata index holds the record's offset and length, which are fixed; the summary CRC does not
 * cover DataEnd). So the writer writes a placeholder of the same length, the sealer holds back the last
 * bytes of end() — placeholder, DataEnd, summary, footer — signs, and passes them on with the real
 * signature and a DataEnd CRC that covers it. Nothing reaches the disk in between: end() is synchronous.
 */
import { createHash, createPublicKey, sign, type KeyObject } from "node:crypto";
import { crc32 } from "node:zlib";
import { McapRecordBuilder, Opcode } from "@mcap/core";
import { FusiondError } from "../schemas/index.ts";
import type { McapFileWriter, WriterEndHook } from "./mcap-file-writer.ts";

/** Name of the Metadata record that holds the signature. */
export const SIGNATURE_RECORD = "fusiond.signature";
/** Name of the Metadata record `fusiond recover` adds: the file was rebuilt, and is not signed. */
export const RECOVERED_RECORD = "fusiond.recovered";
/** The scheme: what is signed and how (docs/recording.md). */
export const SIGNATURE_SCHEME = "fusiond-mcap-ed25519-v1";
/** DataEnd: opcode, length 4, CRC. */
export const DATA_END_LENGTH = 1 + 8 + 4;

/** A private key and its id, ready to sign recordings. */
export interface RecordingSigner {
  readonly privateKey: KeyObject;
  /** keyIdOf(the public key): names the key in the file and in errors. */
  readonly keyId: string;
}

/** A key's id: the first 16 hex digits of SHA-256 over its public key (SPKI DER). Same for either half. */
export function keyIdOf(key: KeyObject): string {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  return createHash("sha256").update(pub.export({ type: "spki", format: "der" })).digest("hex").slice(0, 16);
}

/** A signer from an Ed25519 private key; `what` names the key in the error for any other key. */
export function recordingSigner(privateKey: KeyObject, what = "the signing key"): RecordingSigner {
  if (privateKey.type !== "private" || privateKey.asymmetricKeyType !== "ed25519") {
    throw new FusiondError("bad_key", `${what} is not an Ed25519 private key (it is ${privateKey.asymmetricKeyType ?? "?"} ${privateKey.type}); make one with: fusiond sign-keygen --out NAME`);
  }
  return { privateKey, keyId: keyIdOf(privateKey) };
}

/** The signature record's bytes exactly as a signed file holds them (the canonical form verification checks). */
export function signatureRecordBytes(keyId: string, signature: Uint8Array): Uint8Array {
  const b = new McapRecordBuilder();
  b.writeMetadata({
    name: SIGNATURE_RECORD,
    metadata: new Map([
      ["scheme", SIGNATURE_SCHEME],
      ["keyId", keyId],
      ["signature", Buffer.from(signature).toString("base64")],
    ]),
  });
  return b.buffer;
}

/** Length of the signature record (keyId is 16 hex digits, an Ed25519 signature 64 bytes). */
export const SIGNATURE_RECORD_LENGTH = signatureRecordBytes("0".repeat(16), new Uint8Array(64)).length;

/** The message signed: scheme, key id, SHA-256 of [0, S), SHA-256 of [T, E). */
export function signedMessage(keyId: string, dataDigest: Uint8Array, tailDigest: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${SIGNATURE_SCHEME}\n${keyId}\n`, "utf8"), dataDigest, tailDigest]);
}

/**
 * Sits between an McapFileWriter and its output: passes every byte on (hashing the data section as it
 * goes) and, at end(), signs the file. Give `emit` and the hook to the writer (see `sealFile`).
 */
export class FileSealer implements WriterEndHook {
  private readonly hash = createHash("sha256");
  private crc = 0;
  private held: Uint8Array[] | undefined;

  constructor(
    private readonly signer: RecordingSigner,
    private readonly next: (bytes: Uint8Array) => void,
  ) {}

  readonly emit = (bytes: Uint8Array): void => {
    if (this.held) {
      this.held.push(bytes);
      return;
    }
    this.hash.update(bytes);
    this.crc = crc32(bytes, this.crc);
    this.next(bytes);
  };

  beforeDataEnd(writer: McapFileWriter): void {
    this.held = [];
    writer.addMetadata(SIGNATURE_RECORD, new Map([["scheme", SIGNATURE_SCHEME], ["keyId", this.signer.keyId], ["signature", "=".repeat(88)]]));
  }

  ended(): void {
    const held = Buffer.concat(this.held ?? []);
    this.held = undefined;
    const L = SIGNATURE_RECORD_LENGTH;
    // The writer's end() order (placeholder, DataEnd, summary…footer) is what this relies on; say so if it changes.
    if (held.length < L + DATA_END_LENGTH || held[0] !== Opcode.METADATA || held[L] !== Opcode.DATA_END) {
      throw new FusiondError("sign_failed", "cannot sign the recording: the writer's last records are not the signature placeholder and DataEnd");
    }
    const tail = held.subarray(L + DATA_END_LENGTH);
    const message = signedMessage(this.signer.keyId, this.hash.digest(), createHash("sha256").update(tail).digest());
    const record = signatureRecordBytes(this.signer.keyId, sign(null, message, this.signer.privateKey));
    const dataEnd = Buffer.from(held.subarray(L, L + DATA_END_LENGTH));
    dataEnd.writeUInt32LE(crc32(record, this.crc), 9);
    this.next(record);
    this.next(dataEnd);
    this.next(tail);
  }
}

/** The writer options that sign a file with `signer` (just `emit` when there is none). */
export function sealFile(signer: RecordingSigner | undefined, emit: (bytes: Uint8Array) => void): { emit: (bytes: Uint8Array) => void; onEnd?: WriterEndHook } {
  if (!signer) return { emit };
  const sealer = new FileSealer(signer, emit);
  return { emit: sealer.emit, onEnd: sealer };
}
