/** `fusiond sign-keygen --out NAME`: an Ed25519 key pair for signed recordings (NAME.key, NAME.pub). */
import type { Command } from "commander";
import { writeKeyPair } from "../../replay/index.ts";

export default function register(program: Command): void {
  program
    .command("sign-keygen")
    .description("make an Ed25519 key pair for signing recordings: NAME.key (private, mode 0600) and NAME.pub")
    .requiredOption("-o, --out <name>", "path and name of the pair, without extension")
    .addHelpText(
      "after",
      `
The private key (PKCS#8 PEM) goes to the vehicle: recording.signingKey in the daemon config, or
fusiond record --signing-key. The public key (SPKI PEM) goes to whoever checks recordings:
fusiond verify FILE --key NAME.pub, fusiond eval/score --verify-key NAME.pub. Existing files are
never overwritten. openssl makes the same files: openssl genpkey -algorithm ed25519 -out NAME.key;
openssl pkey -in NAME.key -pubout -out NAME.pub.

Examples:
  fusiond sign-keygen --out /etc/fusiond/recording`,
    )
    .action((opts: { out: string }) => {
      const keyId = writeKeyPair(`${opts.out}.key`, `${opts.out}.pub`);
      process.stdout.write(`wrote ${opts.out}.key (private) and ${opts.out}.pub (public); key id ${keyId}\n`);
    });
}
