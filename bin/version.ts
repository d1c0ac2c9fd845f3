import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { FUSIOND_VERSION } from "../schemas/version.ts";

export { FUSIOND_VERSION };

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/**
 * The build: the git commit this copy was run from (`0.1.0 (git 1a2b3c4d, modified)`), or the package version
 * alone where it is not a git checkout (an installed package) or git is not there.
 */
export function buildVersion(root = ROOT): string {
  if (!existsSync(`${root}/.git`)) return FUSIOND_VERSION;
  try {
    const git = (...args: string[]): string => execFileSync("git", ["-C", root, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 5000 }).trim();
    const commit = git("rev-parse", "--short=10", "HEAD");
    const dirty = git("status", "--porcelain", "--untracked-files=no") !== "";
    return `${FUSIOND_VERSION} (git ${commit}${dirty ? ", modified" : ""})`;
  } catch {
    return FUSIOND_VERSION;
  }
}

/** What --version prints: the build where the arguments ask for it (git runs only then), else the package version. */
export function versionText(argv: readonly string[] = process.argv): string {
  return argv.includes("--version") || argv.includes("-V") ? buildVersion() : FUSIOND_VERSION;
}
