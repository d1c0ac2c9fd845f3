/**
 * `fusiond verify FILE... --key PUB`: is each recording signed by that key, and not a byte changed since?
 * The check itself (also run by `replay` and `eval` on their input files): replay/signature-check.ts.
 */
import type { Command } from "commander";
import { checkSignature, readVerifyKey, type SignatureCheck } from "../../replay/index.ts";
import { EXIT_USAGE } from "./types.ts";

export default function register(program: Command): void {
  program
    .command("verify")
    .description("check that recordings are signed by a key and unchanged since (exit 0 all valid, 1 otherwise)")
    .argument("<files...>", ".mcap recordings")
    .option("-k, --key <pub.pem>", "Ed25519 public key (PEM) the recordings must be signed with")
    .option("--json", "one JSON object per file: {file, status, reason, keyId, checkedWith}")
    .addHelpText(
      "after",
      `
A signed recording carries an Ed25519 signature over every byte of the file (chunks, schemas,
channels, metadata, summary) in a metadata record named fusiond.signature; docs/recording.md
gives the exact bytes. Status per file: valid, tampered (changed after signing, or the signature
record moved or altered), wrong_key (signed by another key), unsigned (recorded without a key,
never closed, or rebuilt by fusiond recover). Without --key only the presence of a signature is
reported (status signed), and the exit status is 1. A file that cannot be read is unreadable.

Sign recordings by giving the daemon recording.signingKey (or fusiond record --signing-key);
make a key pair with fusiond sign-keygen --out NAME.

Examples:
  fusiond verify drive.mcap --key recording.pub
  fusiond verify logs/*.mcap -k recording.pub --json | jq -c 'select(.status != "valid")'`,
    )
    .action(async (files: string[], opts: { key?: string; json?: boolean }) => {
      let key;
      try {
        key = opts.key ? readVerifyKey(opts.key, "--key") : undefined;
      } catch (err) {
        process.stderr.write(`fusiond verify: ${(err as Error).message}\n`);
        process.exitCode = EXIT_USAGE;
        return;
      }
      let allValid = true;
      for (const file of files) {
        let c: SignatureCheck | { file: string; status: "unreadable"; reason: string };
        try {
          c = await checkSignature(file, key);
        } catch (err) {
          c = { file, status: "unreadable", reason: (err as Error).message };
        }
        allValid &&= c.status === "valid";
        process.stdout.write(opts.json ? JSON.stringify(c) + "\n" : `${c.file}: ${c.status}: ${c.reason}\n`);
      }
      if (!allValid) process.exitCode = 1;
    });
}
