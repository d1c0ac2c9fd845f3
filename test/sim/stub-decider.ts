/**
 * A stub decider for the simulator tests, over any transport: it reads vehicles/{v}/sim/truth and
 * vehicles/{v}/sim/step and answers each SimStep (not done) on vehicles/{v}/decision with a decision whose
 * frame_stamp echoes the step's stamp. What it decides is up to `decide` (default: the expert's label from
 * the truth of the same step, so the drive is a sane one).
 */
import type { Subscription } from "rxjs";
import type { TruthMessage } from "../../schemas/messages.ts";
import { TopicRegistry } from "../../schemas/topics.ts";
import { SensorSink, SensorSource, type RawSink, type RawSource } from "../../sensors/index.ts";

export interface StubDecider {
  /** SimStep numbers in the order they arrived. */
  steps: number[];
  /** Whether the last SimStep said done. */
  done: boolean;
  answered: number;
  /** Messages seen per topic kind. */
  seen: Map<string, number>;
  close(): Promise<void>;
}

export interface StubDeciderOptions {
  vehicle: string;
  source: RawSource;
  sink: RawSink;
  /** The decision for a step, given its truth (decoded GroundTruth); undefined: do not answer. */
  decide?: (step: number, truth: TruthMessage | undefined) => { action: string | number; target_speed_mps: number } | undefined;
  /** Also count every other topic of the vehicle. */
  watchAll?: boolean;
}

export function stubDecider(o: StubDeciderOptions): StubDecider {
  const reg = new TopicRegistry(o.vehicle);
  const src = new SensorSource(o.source);
  const out = new SensorSink(o.sink);
  const decisionTopic = reg.topicFor("decision");
  const decide = o.decide ?? ((_s, t) => (t ? { action: t.expert_action as number, target_speed_mps: Number(t.expert_target_speed_mps) } : undefined));
  const state: StubDecider = {
    steps: [],
    done: false,
    answered: 0,
    seen: new Map(),
    close: async () => {
      sub.unsubscribe();
      src.close();
    },
  };
  let truth: TruthMessage | undefined;
  const patterns = o.watchAll ? [`vehicles/${o.vehicle}/#`] : [reg.topicFor("sim_truth"), reg.topicFor("sim_step")];
  const sub: Subscription = src.messages(patterns).subscribe((m) => {
    state.seen.set(m.kind, (state.seen.get(m.kind) ?? 0) + 1);
    if (m.kind === "sim_truth") truth = m.message;
    if (m.kind !== "sim_step") return;
    const step = Number(m.message.step);
    state.steps.push(step);
    state.done = m.message.done === true;
    if (state.done) return;
    const t = truth && Number(truth.step) === step ? truth : undefined;
    const d = decide(step, t);
    if (!d) return;
    state.answered++;
    void out.publish(decisionTopic, { frame_stamp: m.message.stamp, action: d.action, target_speed_mps: d.target_speed_mps, vehicle_id: o.vehicle });
  });
  return state;
}
