/**
 * The simulator on a transport: live mode (real time, paced by the modelled receive stamps, the latest
 * decision driving the ego) and lockstep mode (one step per decision, docs/simulator.md). Reusable by any
 * composition root: `fusiond sim --mqtt/--zmq` and `fusiond demo` (with an in-process broker).
 *
 * No process-level concerns here: no process.exit, no signal handlers, no printing. The caller owns the
 * sink and the decision stream (opens and closes the transports), wires SIGINT to `stop()`, and prints
 * what `onStatus` and `done` give it.
 */
import type { Observable, Subscription } from "rxjs";
import { timestampToNs } from "../schemas/time.ts";
import { CameraEncodePool, type CameraEncodePoolStats, type EncodeOutcome } from "./camera-encode-pool.ts";
import { Episode, type SensorName, type SimMessage } from "./episode.ts";
import { DecisionMailbox, decisionToCommand, runLockstep, type DecisionLike, type MatchPolicy, type TimeoutPolicy } from "./lockstep.ts";
import type { ScenarioSpec } from "./scenario.ts";
import type { CameraSetSpec } from "./sensors/camera-set.ts";
import type { EpisodeScore } from "./score.ts";
import { SendLateness, type LatenessSummary } from "./send-lateness.ts";
import type { EgoCommand } from "./world/types.ts";

/** Where the simulator publishes (sensors/'s SensorSink: it encodes with the topic's type and QoS); delivery problems come back, never thrown. */
export interface SimSink {
  publish(topic: string, message: object): Promise<{ ok: boolean }>;
}

/** Wall clock, injected (tests may pass a fake); default: epoch ns from performance.now. */
export interface LiveClock {
  /** Epoch nanoseconds, monotonic. */
  nowNs(): bigint;
}

const ORIGIN_NS = BigInt(Math.round(performance.timeOrigin * 1e6));
/** Live mode's cap on publishes not yet completed (a step is ~10 messages: ~25 steps, 1.2 s at 20 Hz). */
export const MAX_PENDING_PUBLISHES = 256;
export const wallClock: LiveClock = { nowNs: () => ORIGIN_NS + BigInt(Math.round(performance.now() * 1e6)) };

export interface LockstepSettings {
  /** Wait per step for its decision, wall ms (default 1000). */
  timeoutMs?: number;
  /** On a timeout: hold the last command, stop, or abort the episode (default hold). */
  policy?: TimeoutPolicy;
  /** How a decision is matched to a step: by frame_stamp (default) or by arrival. */
  match?: MatchPolicy;
  /** Abort after this many timeouts in a row whatever the policy (default 10). */
  maxConsecutiveTimeouts?: number;
}

export interface LiveSimOptions {
  /** Where every message goes (topics and QoS from the sink's registry). Not closed here. */
  sink: SimSink;
  /** Decoded fusiond.DrivingDecision messages for this vehicle. Subscribed at start, released at the end. */
  decisions?: Observable<DecisionLike>;
  scenario: ScenarioSpec;
  /** Vehicle id in topic names (default "sim"). */
  vehicle?: string;
  sensors?: readonly SensorName[];
  cameraFormat?: "jpeg" | "raw";
  /** Cameras at real size (EpisodeOptions.cameraSet); absent: the single 64×64 front camera. */
  cameraSet?: CameraSetSpec | undefined;
  /**
   * Live mode with a JPEG camera set: worker threads that encode its frames (camera-encode-pool.ts), so that
   * the step's other messages leave on time and each frame as soon as it is encoded (never before it is due).
   * Default 1; 0 encodes on the main thread, inside the step, as before. The bytes are the same either way.
   */
  cameraWorkers?: number;
  /** Frames waiting for an encoding worker, beyond those in flight (default 8); the oldest is dropped and counted past it. */
  cameraQueue?: number;
  /** Scales the sensors' modelled transport latency (EpisodeOptions.latencyScale; default 1, 0: none). */
  latencyScale?: number;
  /** Who drives the ego: the decisions (closed loop, default) or the expert (open loop; decisions only counted). */
  driver?: "decisions" | "expert";
  /** Lockstep mode (one step per decision, no pacing); absent: live mode. */
  lockstep?: LockstepSettings;
  /**
   * Live mode: a decision is in force until this long (wall ms) passes without a new one; then `policy`
   * applies (hold: keep it; stop: brake to a standstill; abort: end the episode). Defaults 1000 ms, hold.
   */
  decisionTimeoutMs?: number;
  policy?: TimeoutPolicy;
  /** Live mode: simulated seconds per wall second (default 1, real time). */
  speed?: number;
  clock?: LiveClock;
  /** Stamp of the first step, ns (default: the clock's now, so that stamps and receive times agree). */
  startNs?: bigint;
  /** Called about every `statusEveryMs` of wall time (default 1000) and once at the end. */
  onStatus?: (s: LiveStatus) => void;
  statusEveryMs?: number;
}

export interface LiveStatus {
  mode: "live" | "lockstep";
  scenario: string;
  step: number;
  simS: number;
  durationS: number;
  wallS: number;
  published: number;
  publishFailed: number;
  decisions: number;
  /** Lockstep: steps whose decision timed out. Live: times the decision in force expired. */
  timeouts: number;
  /** Decisions that answered no step (lockstep) or came out of order (live). */
  stale: number;
  /** Live mode: how far publishing is behind the schedule now, and at worst, ms. */
  lagMs: number;
  maxLagMs: number;
  /** Camera frames never published: their encoding was dropped (queue full, worker failed, stopped). */
  cameraDropped: number;
  speedMps: number;
  lane: number;
  /** The action the ego executes. */
  action: string;
  collisions: number;
}

export interface LiveSimStats extends LiveStatus {
  steps: number;
  aborted: boolean;
  /** Ended by stop() before the episode was over. */
  stopped: boolean;
  /** Wall time at which each kind of message was handed to the sink, minus its stamp, ms (send-lateness.ts). */
  sendLateMs: Record<string, LatenessSummary>;
  /** The camera encoding workers' counters, when live mode used them. */
  cameraEncode?: CameraEncodePoolStats;
}

export type LiveSimResult = EpisodeScore & { stats: LiveSimStats };

export interface LiveSim {
  /** Resolves when the episode ends (or stop() ends it) with the score and the run's counters. */
  done: Promise<LiveSimResult>;
  /** Ends the episode early; `done` then resolves with the score so far. Idempotent. */
  stop(): void;
  status(): LiveStatus;
}

export function startLiveSim(o: LiveSimOptions): LiveSim {
  const clock = o.clock ?? wallClock;
  const mode = o.lockstep ? "lockstep" : "live";
  const deferCameras = mode === "live" && o.cameraSet !== undefined && (o.cameraFormat ?? "jpeg") === "jpeg" && (o.cameraWorkers ?? 1) > 0;
  const ep = new Episode(o.scenario, { vehicle: o.vehicle ?? "sim", ...(o.startNs !== undefined ? { startNs: o.startNs } : {}), ...(o.sensors ? { sensors: o.sensors } : {}), ...(o.cameraFormat ? { cameraFormat: o.cameraFormat } : {}), ...(o.cameraSet ? { cameraSet: o.cameraSet } : {}), ...(o.latencyScale !== undefined ? { latencyScale: o.latencyScale } : {}), ...(deferCameras ? { deferCameraEncode: true } : {}) });
  const pool = deferCameras ? new CameraEncodePool({ workers: o.cameraWorkers ?? 1, ...(o.cameraQueue !== undefined ? { maxQueued: o.cameraQueue } : {}) }) : undefined;
  // The clock is read after the episode is built (its camera warm-up takes ~0.3 s for 4 × 1280×720), and again
  // once the encoding workers are warm: stamps from a reading before would have every message leave that late.
  let wall0 = clock.nowNs();
  const restart = (): void => {
    wall0 = clock.nowNs();
    if (o.startNs === undefined) ep.restartAt(wall0);
  };
  restart();
  const counters = { published: 0, publishFailed: 0, decisions: 0, timeouts: 0, stale: 0, lagMs: 0, maxLagMs: 0, cameraDropped: 0 };
  const lateness = new SendLateness();
  let stopped = false;
  let wake: (() => void) | undefined;
  const mailbox = new DecisionMailbox(
    { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) },
    o.lockstep?.match ?? "stamp",
  );

  const status = (): LiveStatus => {
    const w = ep.world;
    return {
      mode,
      scenario: o.scenario.name,
      step: ep.step,
      simS: w.t,
      durationS: w.durationS,
      wallS: Number(clock.nowNs() - wall0) / 1e9,
      ...counters,
      stale: counters.stale + mailbox.stale,
      speedMps: w.ego.v,
      lane: w.ego.lane,
      action: w.ego.command.action,
      collisions: w.tick > 0 ? ep.scorer.result().collisions : 0,
    };
  };

  const publish = async (m: SimMessage): Promise<void> => {
    lateness.observe(m.kind, Number(clock.nowNs() - m.stampNs) / 1e6);
    const r = await o.sink.publish(m.topic, m.message);
    if (r.ok) counters.published++;
    else counters.publishFailed++;
  };

  /** Sleeps until the wall clock reaches `ns` (scaled by speed); stop() wakes it. */
  const speed = o.speed ?? 1;
  const until = async (simNs: bigint): Promise<void> => {
    const dueMs = Number(simNs - ep.startNs) / 1e6 / speed;
    const nowMs = Number(clock.nowNs() - wall0) / 1e6;
    const ahead = dueMs - nowMs;
    if (ahead > 1) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ahead);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = undefined;
    } else {
      counters.lagMs = Math.max(0, -ahead);
      counters.maxLagMs = Math.max(counters.maxLagMs, counters.lagMs);
    }
  };

  // Decisions: lockstep hands them to the mailbox; live keeps the newest.
  let latest: { command: EgoCommand; atNs: bigint; stampNs: bigint } | undefined;
  const onDecision = (d: DecisionLike): void => {
    if (mode === "lockstep") {
      mailbox.offer(d);
      return;
    }
    const stampNs = d.frame_stamp ? timestampToNs(d.frame_stamp) : -1n;
    if (latest && stampNs >= 0n && stampNs < latest.stampNs) {
      counters.stale++;
      return;
    }
    counters.decisions++;
    latest = { command: decisionToCommand(d), atNs: clock.nowNs(), stampNs };
  };
  const sub: Subscription | undefined = o.decisions?.subscribe({ next: onDecision, error: () => undefined });

  let statusTimer: ReturnType<typeof setInterval> | undefined;
  if (o.onStatus) statusTimer = setInterval(() => o.onStatus!(status()), o.statusEveryMs ?? 1000);

  const expertCommand = (): EgoCommand => ({ action: ep.label.action, targetSpeedMps: ep.label.targetSpeedMps });

  // Live mode does not wait for one instant's publishes before the next instant's: a QoS 1 message (the
  // simulator's SimStep and GroundTruth) completes only at its PUBACK, and a broker that sends PUBACKs with
  // Nagle on (Mosquitto without `set_tcp_nodelay true`, its default) held them ~40 ms each, so every sensor
  // message behind them left late and the lag never recovered (4 × 64×64 into Mosquitto: receive − stamp p50
  // 726 ms; 4 × 1280×720: 1.3 s). Sensors on a vehicle do not wait for acks either. Writes stay in order.
  const pending = new Set<Promise<void>>();
  let signalStop!: () => void;
  const stopSignal = new Promise<void>((resolve) => (signalStop = resolve));
  const send = (m: SimMessage): void => {
    const p: Promise<void> = publish(m).finally(() => pending.delete(p));
    pending.add(p);
  };

  const runLive = async (): Promise<{ aborted: boolean }> => {
    const timeoutNs = BigInt(Math.round((o.decisionTimeoutMs ?? 1000) * 1e6));
    const policy = o.policy ?? "hold";
    let command: EgoCommand = ep.world.ego.command;
    let expired = false;
    await sendStep(ep.start());
    while (!ep.done && !stopped) {
      // A step is computed at its start (t_k) and its messages go out at their receive times in (t_k, t_k+1]:
      // a decision that arrives during the step takes effect at the next one.
      await until(ep.stampNs);
      if (stopped) break;
      if (o.driver === "expert") command = expertCommand();
      else {
        const lastNs = latest?.atNs ?? wall0;
        if (latest) command = latest.command;
        if (clock.nowNs() - lastNs > timeoutNs) {
          if (!expired) counters.timeouts++;
          expired = true;
          if (policy === "abort") return { aborted: true };
          if (policy === "stop") command = { action: "STOP", targetSpeedMps: 0 };
        } else expired = false;
      }
      await sendStep(ep.advance(command));
    }
    // The episode's last messages complete before the score is reported — unless stop() is ending it.
    await Promise.race([Promise.all(pending), stopSignal]);
    return { aborted: false };
  };

  // Camera frames being encoded or published after their step moved on; awaited before the sink is given back.
  const cameraSends = new Set<Promise<void>>();
  const sendEncoded = async (m: SimMessage, encoded: Promise<EncodeOutcome>): Promise<void> => {
    const r = await encoded;
    if (!r.ok) {
      counters.cameraDropped++;
      return;
    }
    (m.message as { data: Uint8Array }).data = r.data;
    delete m.encode;
    await publish(m);
  };

  /**
   * Publishes a step's messages at their receive times. Messages received at the same instant go out together
   * (in order, without waiting for each other's writes), as a synchronised rig's cameras, triggered at once,
   * each on its own link, would send them. Measured with 4 × 1280×720 at sensor latency 0 into a bare
   * subscriber: the last frame of a set arrived 0.7 ms after the first (median) one after another, each
   * awaiting the previous write, 0.3 ms together. Frames still to be encoded go to the workers at once (the
   * step is computed ahead of its receive times) and out at their receive time or when encoded, whichever is
   * later, without holding up the messages after them.
   */
  const sendStep = async (msgs: SimMessage[]): Promise<void> => {
    const encoding = new Map<SimMessage, Promise<EncodeOutcome>>();
    for (const m of msgs) if (m.encode && pool) encoding.set(m, pool.encode(m.encode));
    for (let i = 0; i < msgs.length && !stopped; ) {
      const at = msgs[i]!.receiveNs;
      let j = i + 1;
      while (j < msgs.length && msgs[j]!.receiveNs === at) j++;
      await until(at);
      if (stopped) break;
      const now: SimMessage[] = [];
      for (const m of msgs.slice(i, j)) {
        const encoded = encoding.get(m);
        if (!encoded) now.push(m);
        else {
          const p = sendEncoded(m, encoded).finally(() => cameraSends.delete(p));
          cameraSends.add(p);
        }
      }
      for (const m of now) send(m);
      // Bounded: a broker that stops taking messages stalls the schedule here (counted as lag), not memory.
      while (pending.size > MAX_PENDING_PUBLISHES && !stopped) await Promise.race([...pending, stopSignal]);
      i = j;
    }
  };

  const runLock = async (): Promise<{ aborted: boolean }> => {
    const ls = o.lockstep!;
    const r = await runLockstep(
      ep,
      { publish, awaitDecision: (ref, ms) => mailbox.take(ref, ms) },
      {
        timeoutMs: ls.timeoutMs ?? 1000,
        onTimeout: ls.policy ?? "hold",
        maxConsecutiveTimeouts: ls.maxConsecutiveTimeouts ?? 10,
        stopped: () => stopped,
        onStep: (_ref, decided) => {
          if (decided) counters.decisions++;
          else counters.timeouts++;
        },
      },
    );
    return { aborted: r.aborted };
  };

  const done = (async (): Promise<LiveSimResult> => {
    try {
      if (pool) {
        await pool.warmUp(ep.cameraWarmUpJobs());
        restart();
      }
      const { aborted } = stopped ? { aborted: false } : await (mode === "lockstep" ? runLock() : runLive());
      // stop() ends the wait too: a sink that never completes must not keep Ctrl-C from ending the run.
      while (cameraSends.size && !stopped) await Promise.race([Promise.all([...cameraSends]), stopSignal]);
      const s = status();
      const stats: LiveSimStats = { ...s, steps: ep.step + 1, aborted, stopped: stopped && !ep.done, sendLateMs: lateness.summary(), ...(pool ? { cameraEncode: pool.stats() } : {}) };
      o.onStatus?.(s);
      return { ...ep.score(), stats };
    } finally {
      if (statusTimer) clearInterval(statusTimer);
      sub?.unsubscribe();
      mailbox.cancel();
      await pool?.close();
    }
  })();

  return {
    done,
    stop() {
      stopped = true;
      wake?.();
      signalStop();
      mailbox.cancel();
    },
    status,
  };
}
