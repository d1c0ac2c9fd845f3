/**
 * `fusiond keygen --out PATH`: a ZeroMQ CURVE key pair for zmq.curve, as CZMQ certificate files —
 * PATH.key (the public key, to hand to peers) and PATH.key_secret (both keys, mode 0600, for this
 * host only). Prints the public key; with --json, the public key and both paths.
 */
import { chmodSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import { curveKeyPair } from "zeromq";
import { FusiondError } from "../../schemas/index.ts";
import { formatCurveCertificate } from "../../sensors/index.ts";

export interface KeygenResult {
  publicKey: string;
  publicFile: string;
  secretFile: string;
}

/** Writes the pair; refuses to overwrite either file unless `force`. The secret file is created 0600. */
export function writeKeyPair(out: string, force = false): KeygenResult {
  const pair = curveKeyPair();
  const created = new Date().toISOString();
  const publicFile = `${out}.key`;
  const secretFile = `${out}.key_secret`;
  const flag = force ? "w" : "wx";
  const write = (file: string, text: string, mode: number): void => {
    try {
      writeFileSync(file, text, { mode, flag });
      chmodSync(file, mode); // an existing file replaced with --force keeps its old mode otherwise
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === "EEXIST") throw new FusiondError("file_exists", `${file} exists: not overwritten (pass --force to replace the key pair; peers holding the old public key will be refused)`, { file });
      throw new FusiondError("write_failed", `cannot write ${file}: ${e.message}`, { file });
    }
  };
  // The secret first: a failure leaves no public key behind without its secret.
  write(secretFile, formatCurveCertificate(pair, "secret", created), 0o600);
  write(publicFile, formatCurveCertificate(pair, "public", created), 0o644);
  return { publicKey: pair.publicKey, publicFile, secretFile };
}

export default function register(program: Command): void {
  program
    .command("keygen")
    .description("make a ZeroMQ CURVE key pair (PATH.key public, PATH.key_secret secret, mode 0600) for zmq.curve")
    .option("-o, --out <path>", "file name stem for PATH.key and PATH.key_secret", "fusiond")
    .option("--force", "replace an existing key pair")
    .option("--json", "print {publicKey, publicFile, secretFile} as JSON")
    .addHelpText(
      "after",
      `
The files are CZMQ certificates (what pyzmq's zmq.auth.create_certificates writes and
zmq.auth.load_certificate reads). Give the public key to the peers: zmq.curve.allow on a server,
zmq.curve.serverKey on a client. The secret file stays on this host (zmq.curve.secretKeyFile).

Examples:
  fusiond keygen --out /etc/fusiond/curve/fusiond
  fusiond keygen --out sensors --json | jq -r .publicKey`,
    )
    .action((opts: { out: string; force?: boolean; json?: boolean }) => {
      const r = writeKeyPair(opts.out, opts.force ?? false);
      process.stdout.write(opts.json ? JSON.stringify(r, null, 2) + "\n" : `${r.publicKey}\n`);
      if (!opts.json) process.stderr.write(`wrote ${r.publicFile} (public) and ${r.secretFile} (secret, mode 0600)\n`);
    });
}
