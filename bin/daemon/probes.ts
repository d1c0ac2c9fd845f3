/**
 * What /healthz and /readyz answer, from the daemon's state: pure functions of what the caller read, so the
 * rule is in one place and the daemon only gathers the facts.
 */
import type { DecisionLiveness, TopicHealth } from "../../pipeline/index.ts";

export interface ProbeAnswer {
  ok: boolean;
  detail: Record<string, unknown>;
}

/** /readyz: not ready once no input was accepted for this long (ms). */
export const INPUT_QUIET_MS = 5000;

/**
 * /healthz: healthy while the transport is connected, every camera and radar topic is alive and decisions
 * flow. `topics`: health of the accepted topics only.
 */
export function healthAnswer(topics: readonly TopicHealth[], liveness: DecisionLiveness, transportUp: number): ProbeAnswer {
  const critical = topics.filter((t) => t.kind === "camera" || t.kind === "radar");
  const ok = transportUp === 1 && critical.length > 0 && critical.every((t) => t.alive) && !liveness.stalled;
  return {
    ok,
    detail: {
      transport: transportUp ? "connected" : "disconnected (reconnecting)",
      decisions: liveness.stalled ? `stalled: ${liveness.reason}` : "flowing",
      sensors: Object.fromEntries(topics.map((t) => [t.topic, { alive: t.alive, rateOk: t.rateOk, valid: t.valid, rateHz: t.rateHz }])),
    },
  };
}

export interface ReadinessFacts {
  transportUp: number;
  /** The recording's state: "off", "ok" or "failed: ...". */
  recording: string;
  /** ms since an input was last accepted (or since intake started, when none was). */
  quietMs: number;
  /** The topic patterns subscribed to, named in the answer when nothing arrives. */
  patterns: readonly string[];
  model: string;
  backend: string;
  realtime: string;
}

/**
 * /readyz: ready while connected, recording (when configured) works and inputs arrive. Connected but nothing
 * accepted for a while — a broker whose ACL grants a subscription and delivers nothing (Mosquitto's acl_file),
 * sensors not started, a wrong vehicle id — is not ready, and it says so.
 */
export function readinessAnswer(f: ReadinessFacts): ProbeAnswer {
  const inputs = f.quietMs <= INPUT_QUIET_MS ? "flowing" : `none accepted for ${(f.quietMs / 1000).toFixed(1)} s (sensors on ${f.patterns.join(" ")}? a broker ACL that lets this client read them? the vehicle id?)`;
  return {
    ok: f.transportUp === 1 && !f.recording.startsWith("failed") && inputs === "flowing",
    detail: { model: f.model, backend: f.backend, transport: f.transportUp ? "connected" : "disconnected", inputs, recording: f.recording, realtime: f.realtime },
  };
}
