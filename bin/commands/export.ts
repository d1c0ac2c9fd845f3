/** `fusiond export --model DIR`: writes model.onnx beside model.json (and the command recogniser's), hashes in the cards. */
import type { Command } from "commander";
import { exportModelDir, loadModelDir, renderCard } from "../../fusion/index.ts";

export default function register(program: Command): void {
  program
    .command("export")
    .description("write a model directory's ONNX form (model.onnx, opset 13) for the onnx and onnx-webgpu backends")
    .requiredOption("--model <dir...>", "model directory (repeatable)")
    .option("--json", "print what was written as JSON")
    .addHelpText(
      "after",
      `
The converter is fusiond's own (TypeScript, no Python): every layer of the early, intermediate, late and
attention strategies and of the ensembles. model.onnx's sha256 and the model hash it was made from go into
card.json and card.md; the onnx backends refuse a file that does not match them. \`fusiond train\` writes
model.onnx itself; run this for models made before it did, or after editing a model by hand.

Examples:
  fusiond export --model models/default
  fusiond export --model models/*/ --json`,
    )
    .action(async (opts: { model: string[]; json?: boolean }) => {
      const written: { dir: string; file: string; sha256?: string; bytes?: number; error?: string }[] = [];
      for (const dir of opts.model) {
        const loaded = await loadModelDir(dir);
        const entries = exportModelDir(loaded, renderCard);
        const dirs = [loaded.dir, ...(loaded.commands ? [loaded.commands.dir] : [])];
        entries.forEach((e, i) => written.push({ dir: dirs[i]!, ...e }));
        loaded.model.dispose();
        loaded.commands?.model.dispose();
      }
      if (opts.json) process.stdout.write(JSON.stringify(written, null, 2) + "\n");
      else for (const w of written) process.stdout.write(w.sha256 ? `${w.dir}/${w.file}: ${w.bytes} bytes, sha256 ${w.sha256}\n` : `${w.dir}: no ONNX form: ${w.error}\n`);
      if (written.some((w) => w.error)) process.exitCode = 1;
    });
}
