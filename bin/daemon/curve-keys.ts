/** Reading the daemon's CURVE key pair (zmq.curve.secretKeyFile, written by `fusiond keygen`). */
import { readFileSync, statSync } from "node:fs";
import { FusiondError } from "../../schemas/index.ts";
import { parseCurveCertificate, type CurveKeyPair } from "../../sensors/index.ts";

/**
 * The key pair in a CZMQ secret certificate. Errors name the file, never its contents. `warn` hears
 * about a secret file others can read (as ssh does for its keys).
 */
export function readCurveSecretFile(file: string, warn: (msg: string) => void): CurveKeyPair {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new FusiondError("config_unreadable", `cannot read zmq.curve.secretKeyFile ${file}: ${(err as Error).message} (make one with "fusiond keygen --out PATH")`, { file });
  }
  const keys = parseCurveCertificate(text, file);
  if (keys.secretKey === undefined) {
    throw new FusiondError("bad_curve_key", `${file} holds only a public key: zmq.curve.secretKeyFile must name the .key_secret file that "fusiond keygen" wrote`, { file });
  }
  if ((statSync(file).mode & 0o077) !== 0) warn(`${file} can be read by other users: chmod 600 it (it holds the CURVE secret key)`);
  return { publicKey: keys.publicKey, secretKey: keys.secretKey };
}
