/**
 * Nothing half-written: a command's output file is written under a temporary name beside it and renamed into
 * place only when it is complete, so a failed or interrupted command leaves either the old file or none — never
 * a truncated one that a later `info` calls damaged. (Live recordings are the exception: they are closed
 * properly when the data stops, see `fusiond record`.) `-` as a path means stdout, for text outputs.
 */
import { existsSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** Temporary paths not yet renamed into place; removed if the process exits first. */
const pending = new Set<string>();
let hooked = false;

function removePendingOnExit(): void {
  if (hooked) return;
  hooked = true;
  process.once("exit", () => {
    for (const p of pending) rmSync(p, { recursive: true, force: true });
  });
}

/** The temporary name for `path`: hidden, beside it (same file system, so the rename is atomic). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.partial-${process.pid}`);
}

/** Where the report of a command that writes its output to `path` goes: stderr when the output is stdout. */
export function reportStream(path: string | undefined): NodeJS.WriteStream {
  return path === "-" ? process.stderr : process.stdout;
}

/**
 * Runs `write` on a temporary path and renames the result (a file or a directory) to `path` when it resolves;
 * when it throws, removes whatever it wrote and rethrows. An existing directory at `path` is replaced whole.
 * `-` writes straight to stdout (/dev/stdout), e.g. `fusiond filter IN -o - | ...`.
 */
export async function writeAtomically<T>(path: string, write: (tmp: string) => Promise<T> | T): Promise<T> {
  if (path === "-") return write("/dev/stdout");
  const tmp = tempPathFor(path);
  rmSync(tmp, { recursive: true, force: true });
  pending.add(tmp);
  removePendingOnExit();
  try {
    const result = await write(tmp);
    if (existsSync(path) && statSync(path).isDirectory()) {
      // rename() cannot replace a non-empty directory: move the old one aside first, then drop it.
      const old = `${tmp}.old`;
      renameSync(path, old);
      renameSync(tmp, path);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, path);
    }
    return result;
  } finally {
    pending.delete(tmp);
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Writes text to `path` atomically, or to stdout when `path` is `-`. */
export async function writeTextOutput(path: string, text: string): Promise<void> {
  if (path === "-") {
    await new Promise<void>((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
    return;
  }
  await writeAtomically(path, (tmp) => writeFileSync(tmp, text));
}
