/** A small tmpfs for full-disk tests (mounting needs root, as CI has); elsewhere the reason it cannot be had. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Mounts a tmpfs of `kb` KiB at a new directory, or says why it cannot. */
export function tmpfs(kb: number): { dir: string; unmount: () => void } | { why: string } {
  const dir = mkdtempSync(join(tmpdir(), "fusiond-fulldisk-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${kb}k`, "tmpfs", dir], { stdio: "pipe" });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    return { why: `cannot mount a tmpfs (${(err as Error).message.split("\n")[0]}): run as root, as CI does` };
  }
  return {
    dir,
    unmount: () => {
      // Lazy: a test that failed half-way may still hold a file there; the mount goes once it is released.
      execFileSync("umount", ["-l", dir], { stdio: "pipe" });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
