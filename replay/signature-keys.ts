/**
 * Ed25519 key files for signed recordings: PEM, the private key as PKCS#8 (`-----BEGIN PRIVATE KEY-----`,
 * mode 0600), the public key as SPKI (`-----BEGIN PUBLIC KEY-----`), as `openssl genpkey -algorithm
 * ed25519` and `openssl pkey -pubout` write them. Errors name the file and what to do.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { FusiondError } from "../schemas/index.ts";
import { keyIdOf, recordingSigner, type RecordingSigner } from "./signature.ts";

const MAKE_ONE = "make a key pair with: fusiond sign-keygen --out NAME";

function readKeyFile(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new FusiondError("bad_key", `cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (${MAKE_ONE})`, { file });
  }
}

/** Reads a signing (private) key; `what` names it in errors, e.g. "recording.signingKey". */
export function readSigningKey(file: string, what = "signing key"): RecordingSigner {
  const text = readKeyFile(file, what);
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch {
    // The parser's message can quote the file; say only what it is not.
    throw new FusiondError("bad_key", `${what} ${file} is not a PEM private key (${MAKE_ONE})`, { file });
  }
  return recordingSigner(key, `${what} ${file}`);
}

/** Reads a public key to verify with (a private key file is accepted too: its public half is used). */
export function readVerifyKey(file: string, what = "public key"): KeyObject {
  const text = readKeyFile(file, what);
  let key: KeyObject;
  try {
    key = createPublicKey(text);
  } catch {
    throw new FusiondError("bad_key", `${what} ${file} is not a PEM public key (${MAKE_ONE})`, { file });
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new FusiondError("bad_key", `${what} ${file} is an ${key.asymmetricKeyType ?? "unknown"} key, not Ed25519 (${MAKE_ONE})`, { file });
  }
  return key;
}

/** Writes a new key pair: `privateFile` (mode 0600) and `publicFile`; refuses to overwrite either. Returns the key id. */
export function writeKeyPair(privateFile: string, publicFile: string): string {
  for (const file of [privateFile, publicFile]) {
    if (existsSync(file)) throw new FusiondError("key_write_failed", `${file} exists; not overwriting a key (remove it first, or choose another --out)`, { file });
  }
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const write = (file: string, text: string, mode: number): void => {
    try {
      writeFileSync(file, text, { mode, flag: "wx" });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new FusiondError("key_write_failed", code === "EEXIST" ? `${file} exists; not overwriting a key (remove it first, or choose another --out)` : `cannot write ${file}: ${(err as Error).message}`, { file });
    }
  };
  write(privateFile, privateKey.export({ type: "pkcs8", format: "pem" }) as string, 0o600);
  write(publicFile, publicKey.export({ type: "spki", format: "pem" }) as string, 0o644);
  return keyIdOf(publicKey);
}
