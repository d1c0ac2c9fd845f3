/** `fusiond eval`'s progress on stderr: one line, redrawn, with a bar for the closed loop. */
import type { SuiteProgress } from "../../eval/run/closed-loop.ts";

/** A progress line on stderr, redrawn at most 5 times a second (only on a terminal unless forced). */
export function progressLine(enabled: boolean): { draw: (s: string, force?: boolean) => void; end: () => void } {
  let last = 0;
  let drawn = false;
  return {
    draw(s, force = false) {
      if (!enabled) return;
      const now = performance.now();
      if (!force && now - last < 200) return;
      last = now;
      drawn = true;
      process.stderr.write(`\r\x1b[2K${s}`);
    },
    end() {
      if (drawn) process.stderr.write("\n");
      drawn = false;
    },
  };
}

const bar = (fraction: number, width = 24): string => {
  const f = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return `[${"#".repeat(f)}${".".repeat(width - f)}]`;
};

export function closedLoopProgressText(model: string, p: SuiteProgress, elapsedS: number): string {
  const partial = p.running.reduce((a, r) => a + Math.min(1, r.step / Math.max(1, r.steps)), 0);
  const frac = (p.done + partial) / Math.max(1, p.episodes);
  const now = p.running.map((r) => `${r.scenario} ${r.step}/${r.steps}`).slice(0, 2).join(", ");
  return `closed loop ${model} ${bar(frac)} ${p.done}/${p.episodes} episodes · collisions ${p.collisions} · ${elapsedS.toFixed(0)} s${now ? ` · ${now}` : ""}`;
}
