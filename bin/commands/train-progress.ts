/** `fusiond train`'s progress on stderr: a bar redrawn on a terminal, one line per epoch in a log file. */
import type { EpochReport, Progress } from "../../fusion/index.ts";

export function progressBar(label: string, quiet = false): (p: Progress) => void {
  let lastDraw = 0;
  return (p) => {
    if (quiet) return;
    const now = performance.now();
    // A log file (no terminal) gets one line per epoch, not a redraw every 200 ms.
    if (p.batch !== p.batches && (now - lastDraw < 200 || !process.stderr.isTTY)) return;
    lastDraw = now;
    const width = 30;
    const filled = Math.round((p.batch / p.batches) * width);
    process.stderr.write(`\r${label} epoch ${p.epoch}/${p.epochs} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${p.batch}/${p.batches} loss ${p.loss.toFixed(4)}`);
    if (p.batch === p.batches) process.stderr.write("\n");
  };
}

/** One epoch in a line: loss, validation macro-F1 and accuracy, and * for the best so far. */
export const epochLine = (e: EpochReport): string =>
  `epoch ${e.epoch}${e.frozen ? " (encoders frozen)" : ""}: loss ${e.loss.toFixed(4)}, validation macro-F1 ${e.val.macroF1.toFixed(3)}, accuracy ${e.val.accuracy.toFixed(3)}${e.best ? " *" : ""}`;
