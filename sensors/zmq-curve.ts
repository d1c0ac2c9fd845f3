/**
 * ZeroMQ CURVE keys: Z85 text, the CZMQ certificate files they are kept in (the format pyzmq's
 * zmq.auth.load_certificate and CZMQ's zcert read), and the socket options for each end.
 * Pure: reading and writing the files happens in bin/.
 */
import { FusiondError } from "../schemas/index.ts";

/** A CURVE key pair in Z85 (40 characters each). */
export interface CurveKeyPair {
  publicKey: string;
  secretKey: string;
}

/** The serving end (usually the one that binds): proves itself with its secret key; clients must know its public key. */
export interface ZmqCurveServer {
  role: "server";
  secretKey: string;
  /** Client public keys (Z85) allowed in, checked by the ZAP handler; absent = any CURVE client. */
  allow?: readonly string[];
  /** Called for each refused client (its public key in Z85, and its address). */
  onDenied?: (denial: ZapDenial) => void;
}

/** The connecting end: its own key pair, and the server's public key. */
export interface ZmqCurveClient {
  role: "client";
  publicKey: string;
  secretKey: string;
  serverKey: string;
}

export type ZmqCurve = ZmqCurveServer | ZmqCurveClient;

export interface ZapDenial {
  /** The client's public key (Z85), or "" when it did not use CURVE. */
  clientKey: string;
  address: string;
  reason: string;
}

const Z85_CHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
export const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

/** Z85 (ZeroMQ RFC 32) of bytes whose length is a multiple of 4: a 32-byte key gives 40 characters. */
export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) throw new RangeError(`Z85 encodes multiples of 4 bytes, got ${bytes.length}`);
  let out = "";
  for (let i = 0; i < bytes.length; i += 4) {
    let v = ((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!) >>> 0;
    const chunk: string[] = [];
    for (let k = 0; k < 5; k++) {
      chunk.push(Z85_CHARS[v % 85]!);
      v = Math.floor(v / 85);
    }
    out += chunk.reverse().join("");
  }
  return out;
}

/**
 * A CZMQ certificate file: `NAME.key` holds the public key, `NAME.key_secret` both keys. The secret
 * one says so at the top; both are what `zmq.auth.create_certificates` (pyzmq) writes.
 */
export function formatCurveCertificate(pair: CurveKeyPair, kind: "public" | "secret", createdIso: string): string {
  const header =
    kind === "secret"
      ? "#   ****  Generated on " + createdIso + " by fusiond keygen  ****\n#   ZeroMQ CURVE **Secret** Certificate\n#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n"
      : "#   ****  Generated on " + createdIso + " by fusiond keygen  ****\n#   ZeroMQ CURVE Public Certificate\n#   Exchange securely, or use a secure mechanism to verify the contents\n#   of this file after exchange. Store public certificates in your home\n#   directory, in the .curve subdirectory.\n";
  const keys = `    public-key = "${pair.publicKey}"\n` + (kind === "secret" ? `    secret-key = "${pair.secretKey}"\n` : "");
  return `${header}\nmetadata\ncurve\n${keys}`;
}

/** Reads a CZMQ certificate's keys. `file` names it in errors (never its contents: they may hold a secret key). */
export function parseCurveCertificate(text: string, file: string): { publicKey: string; secretKey?: string } {
  const field = (name: string): string | undefined => {
    const m = new RegExp(`^\\s*${name}\\s*=\\s*"([^"]*)"`, "m").exec(text);
    return m?.[1];
  };
  const publicKey = field("public-key");
  const secretKey = field("secret-key");
  if (!publicKey || !Z85_KEY.test(publicKey)) {
    throw new FusiondError("bad_curve_key", `${file} has no valid public-key (a 40-character Z85 key); make a key pair with "fusiond keygen --out PATH"`, { file });
  }
  if (secretKey !== undefined && !Z85_KEY.test(secretKey)) {
    throw new FusiondError("bad_curve_key", `${file} has a secret-key that is not a 40-character Z85 key; make a key pair with "fusiond keygen --out PATH"`, { file });
  }
  return secretKey === undefined ? { publicKey } : { publicKey, secretKey };
}
