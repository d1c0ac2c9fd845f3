/**
 * The signature check `replay` and `eval` run on their input files before anything in them is believed, and
 * `fusiond verify` runs on each file it is given: is the recording signed by this key, and unchanged since?
 */
import { FusiondError } from "../schemas/index.ts";
import { fileSource } from "./io.ts";
import { readVerifyKey } from "./signature-keys.ts";
import { signatureState, verifyRecording, type SignatureCheck } from "./signature-verify.ts";

export interface IntegrityOptions {
  /** Public key file (PEM) to verify with; without it, files are only looked at (signed or not). */
  verifyKey?: string;
  /** With a key: replay unsigned files anyway (with a warning) instead of refusing them. */
  allowUnsigned?: boolean;
}

/** One line for a check: "FILE: status: reason". */
export const checkLine = (c: SignatureCheck): string => `${c.file}: ${c.status}: ${c.reason}`;

/** One recording's signature: verified with `key`, or (without one) only whether it is signed. */
export async function checkSignature(file: string, key: ReturnType<typeof readVerifyKey> | undefined): Promise<SignatureCheck> {
  const source = await fileSource(file);
  try {
    return key ? await verifyRecording(source, key) : await signatureState(source);
  } finally {
    await source.close();
  }
}

/**
 * Checks recordings before they are replayed or evaluated. Without a key: warns about unsigned files
 * (and about a signature record that was moved or altered). With a key: refuses (throws
 * `recording_tampered`) a file that does not verify, and an unsigned one unless `allowUnsigned`, since
 * stripping the signature would otherwise get any change past the check.
 */
export async function checkRecordings(files: readonly string[], opts: IntegrityOptions, warn: (line: string) => void): Promise<SignatureCheck[]> {
  const key = opts.verifyKey ? readVerifyKey(opts.verifyKey, "--verify-key") : undefined;
  const checks: SignatureCheck[] = [];
  for (const file of files) {
    const c = await checkSignature(file, key);
    checks.push(c);
    if (c.status === "valid" || c.status === "signed") continue;
    const refuse = key !== undefined && (c.status !== "unsigned" || !opts.allowUnsigned);
    if (refuse) {
      const hint = c.status === "unsigned" ? " (pass --allow-unsigned to use it anyway)" : "";
      throw new FusiondError(c.status === "unsigned" ? "recording_unsigned" : "recording_tampered", `${checkLine(c)}; refused${hint}`, { file, status: c.status });
    }
    warn(`warning: ${checkLine(c)}${key ? "" : " (pass --verify-key PUB to check signatures)"}`);
  }
  return checks;
}
