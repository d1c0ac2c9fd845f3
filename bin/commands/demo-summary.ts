/**
 * What `fusiond demo` tells its user: the decisions counted as they come (latencies kept bounded), the live
 * status line on a terminal, and the closing summary (demo-summary.json, and in words) with its latency quantiles.
 */
import type { DrivingDecision } from "../../fusion/index.ts";
import type { PipelineMetrics, TopicHealth } from "../../pipeline/index.ts";
import type { LiveStatus } from "../../sim/live.ts";
import type { EpisodeScore } from "../../sim/score.ts";
import { SENSOR_SCHEDULE } from "../../sim/episode.ts";

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
  /** From the camera frame's capture to the frame's last input received, ms: the sensors' own delivery (and any wait for a later sample). */
  inputsInP50Ms: number;
  inputsInP99Ms: number;
  log: string;
  replay: string | undefined;
}

const CAMERA_DELIVERY = SENSOR_SCHEDULE.camera.latencyMs.join("–");

export function summaryText(summary: DemoSummary, files: readonly string[]): string {
  return (
    `\nfusiond demo — ${summary.scenario} (${summary.weather.join(",")}) over ${summary.transport}\n` +
    `  drove        ${summary.distanceM} m in ${summary.simulatedS} s (route ${(summary.routeCompletion * 100).toFixed(0)}%), collisions ${summary.collisions}, near misses ${summary.nearMisses}\n` +
    `  rules        stop-line violations ${summary.stopLineViolations}, speed-limit violations ${summary.speedLimitViolations}, voice compliance ${summary.voiceCompliance}\n` +
    `  pipeline     ${summary.messages} messages (${summary.rejected} rejected), ${summary.frames} frames, ${summary.decisions} decisions, ${summary.dropped} dropped\n` +
    `  latency      sensor to decision p50 ${summary.sensorToDecisionP50Ms} ms, p99 ${summary.sensorToDecisionP99Ms} ms: capture to the frame's last input received p50 ${summary.inputsInP50Ms} ms, p99 ${summary.inputsInP99Ms} ms (the simulator delivers camera frames ${CAMERA_DELIVERY} ms after capture, as a vehicle's camera would), then the daemon p99 ${summary.latencyP99Ms} ms\n` +
    `  model        ${summary.model} on ${summary.backend}\n` +
    `  recording    ${files.join(", ") || "(none)"}\n  log          ${summary.log}\n` +
    (summary.replay ? `\nRun it again, deterministically:\n  ${summary.replay}\n` : "")
  );
}

/** A word the shell passes through as it is (quoted when it needs to be). */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The daemon's decisions as the demo sees them (its onDecision): a count, the last action, recent latencies. */
export class DecisionTally {
  decisions = 0;
  lastAction = "-";
  /** After the last input arrived, ms. */
  readonly latencies: number[] = [];
  /** Sensor to decision: from the camera frame's capture stamp to the decision, ms (what a user sees). */
  readonly sensorLatencies: number[] = [];
  /** Capture to the frame's last input received, ms (sensor to decision less the daemon's part after it). */
  readonly inputLatencies: number[] = [];
  private lastDecisions = 0;
  private lastT = 0;

  /** The status line's decision rate counts from here (the simulator's start). */
  start(t: number): void {
    this.lastT = t;
  }

  readonly onDecision = (d: DrivingDecision, latencyNs: bigint): void => {
    this.decisions++;
    this.lastAction = d.action;
    this.latencies.push(Number(latencyNs) / 1e6);
    if (this.latencies.length > 2000) this.latencies.splice(0, 1000);
    this.sensorLatencies.push(d.sensor_to_decision_ms);
    if (this.sensorLatencies.length > 2000) this.sensorLatencies.splice(0, 1000);
    this.inputLatencies.push(Math.max(0, d.sensor_to_decision_ms - Number(latencyNs) / 1e6));
    if (this.inputLatencies.length > 2000) this.inputLatencies.splice(0, 1000);
  };

  /** The status line: simulated time, speed, lane, the last action, live sensor kinds, decision rate, p99. */
  statusLine(s: LiveStatus, health: readonly TopicHealth[]): string {
    const now = Date.now();
    const rate = ((this.decisions - this.lastDecisions) * 1000) / Math.max(1, now - this.lastT);
    this.lastDecisions = this.decisions;
    this.lastT = now;
    const alive = health.filter((h) => h.alive).map((h) => h.kind);
    const kinds = [...new Set(alive)].join(",") || "none";
    return `t=${s.simS.toFixed(1)}/${s.durationS}s  speed ${(s.speedMps * 3.6).toFixed(0)} km/h  lane ${s.lane}  action ${this.lastAction.padEnd(10)}  sensors ${kinds}  ${rate.toFixed(1)} dec/s  sensor→decision p99 ${p99(this.sensorLatencies).toFixed(1)} ms  collisions ${s.collisions}`;
  }
}

/** The summary of a demo run, from the drive's score, the pipeline's counts and the tally. */
export function demoSummary(r: {
  scenario: { name: string; weather: readonly string[] };
  zmq: boolean;
  model: { id: string; backend: string; dir: string };
  score: EpisodeScore;
  wallS: number;
  metrics: PipelineMetrics;
  tally: DecisionTally;
  files: string[];
  log: string;
}): DemoSummary & { wallS: number; recording: string[] } {
  const { score, metrics: m, tally, files } = r;
  return {
    scenario: r.scenario.name,
    weather: r.scenario.weather,
    transport: r.zmq ? "zeromq" : "mqtt (embedded aedes)",
    model: r.model.id,
    backend: r.model.backend,
    simulatedS: Number(score.durationS.toFixed(1)),
    wallS: Number(r.wallS.toFixed(1)),
    distanceM: Math.round(score.distanceM),
    routeCompletion: Number(score.routeCompletion.toFixed(3)),
    collisions: score.collisions,
    nearMisses: score.nearMisses,
    stopLineViolations: score.stopLineViolations,
    speedLimitViolations: score.speedLimitViolations,
    voiceCompliance: Number(score.voiceCompliance.toFixed(2)),
    messages: m.messagesIn,
    rejected: m.rejected,
    frames: m.frames,
    decisions: m.decisions,
    dropped: m.dropsTotal,
    latencyP99Ms: Number(p99(tally.latencies).toFixed(2)),
    sensorToDecisionP50Ms: Number(quantile(tally.sensorLatencies, 0.5).toFixed(2)),
    sensorToDecisionP99Ms: Number(p99(tally.sensorLatencies).toFixed(2)),
    inputsInP50Ms: Number(quantile(tally.inputLatencies, 0.5).toFixed(2)),
    inputsInP99Ms: Number(p99(tally.inputLatencies).toFixed(2)),
    recording: files,
    log: r.log,
    // Runs as printed from a clone after npm install (npx finds the project's own bin), or installed.
    replay: files[0] ? `npx fusiond replay ${shellWord(files[0])} --model ${shellWord(r.model.dir)}` : undefined,
  };
}
