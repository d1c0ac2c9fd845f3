/** `fusiond demo`'s closing summary in words, and the latency quantiles it reports. */

export function quantile(latencies: number[], q: number): number {
  if (!latencies.length) return 0;
  const s = [...latencies].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}
export const p99 = (latencies: number[]): number => quantile(latencies, 0.99);

/** What demo-summary.json holds and the text shows. */
export interface DemoSummary {
  scenario: string;
  weather: readonly string[];
  transport: string;
  model: string;
  backend: string;
  simulatedS: number;
  distanceM: number;
  routeCompletion: number;
  collisions: number;
  nearMisses: number;
  stopLineViolations: number;
  speedLimitViolations: number;
  voiceCompliance: number;
  messages: number;
  rejected: number;
  frames: number;
  decisions: number;
  dropped: number;
  latencyP99Ms: number;
  sensorToDecisionP50Ms: number;
  sensorToDecisionP99Ms: number;
  log: string;
  replay: string | undefined;
}

export function summaryText(summary: DemoSummary, files: readonly string[]): string {
  return (
    `\nfusiond demo — ${summary.scenario} (${summary.weather.join(",")}) over ${summary.transport}\n` +
    `  drove        ${summary.distanceM} m in ${summary.simulatedS} s (route ${(summary.routeCompletion * 100).toFixed(0)}%), collisions ${summary.collisions}, near misses ${summary.nearMisses}\n` +
    `  rules        stop-line violations ${summary.stopLineViolations}, speed-limit violations ${summary.speedLimitViolations}, voice compliance ${summary.voiceCompliance}\n` +
    `  pipeline     ${summary.messages} messages (${summary.rejected} rejected), ${summary.frames} frames, ${summary.decisions} decisions, ${summary.dropped} dropped\n` +
    `  latency      sensor to decision p50 ${summary.sensorToDecisionP50Ms} ms, p99 ${summary.sensorToDecisionP99Ms} ms (after the last input arrived: p99 ${summary.latencyP99Ms} ms)\n` +
    `  model        ${summary.model} on ${summary.backend}\n` +
    `  recording    ${files.join(", ") || "(none)"}\n  log          ${summary.log}\n` +
    (summary.replay ? `\nRun it again, deterministically:\n  ${summary.replay}\n` : "")
  );
}
