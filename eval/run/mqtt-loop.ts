/**
 * Closed loop over MQTT: the same episode as in process, but the simulator and the pipeline talk through a
 * broker, each on its own connection, with the lockstep protocol of docs/simulator.md — sensor messages,
 * GroundTruth and SimStep from the simulator; one DrivingDecision per step back, matched by frame stamp.
 * The pipeline runs on the wall clock (asyncScheduler), as the daemon does. Each episode gets its own
 * vehicle id, so episodes can run side by side on one broker.
 */
import { asyncScheduler } from "rxjs";
import { roadMapView } from "../../fusion/index.ts";
import { FusiondError, MessageDecoder, TopicRegistry, type SimStepMessage } from "../../schemas/index.ts";
import { MqttTransport, SensorSink, SensorSource } from "../../sensors/index.ts";
import { Episode } from "../../sim/episode.ts";
import { DecisionMailbox, runLockstep, type DecisionLike } from "../../sim/lockstep.ts";
import { buildScenario } from "../../sim/scenario.ts";
import { wallNs } from "../../sensors/wall-clock.ts";
import { actionName, StepLog, type EpisodeResult, type runEpisodeInProcess } from "./closed-loop.ts";
import { makeDecide, sensorStatus } from "./decider.ts";
import { EvalHarness } from "./harness.ts";
import { evalAligner, simCamerasFor } from "./model-cameras.ts";
import { isExpert } from "./expert.ts";
import { StepResponder } from "./responder.ts";

let episodes = 0;

/** Resolves once the broker has processed every subscription made so far on this connection. */
function subscriptionsSettled(t: MqttTransport, probe: string): Promise<void> {
  return new Promise((resolve, reject) => t.client.subscribe(probe, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
}

export function mqttEpisodeRunner(url: string, options: { timeoutMs?: number } = {}): typeof runEpisodeInProcess {
  return async (spec, model, o): Promise<EpisodeResult> => {
    if (isExpert(model.info)) throw new FusiondError("expert_over_mqtt", "the expert drives from the simulator's truth in process, not through a broker: run it without --mqtt");
    const vehicle = `eval${process.pid}x${episodes++}`;
    const registry = new TopicRegistry(vehicle);
    const decoder = new MessageDecoder({ registry });
    const connect = (): Promise<MqttTransport> => MqttTransport.connect({ url, now: wallNs, registry, protocolVersion: "auto" });
    const sim = await connect();
    let dec: MqttTransport | undefined;
    const closers: Array<() => unknown> = [];
    try {
      dec = await connect();
      const decisionTopic = registry.topicFor("decision");
      const map = roadMapView(buildScenario(spec).map);
      const cameraSet = simCamerasFor(model.spec);
      const ep = new Episode(spec, { vehicle, startNs: wallNs(), ...(cameraSet ? { cameraSet } : {}) });
      const log = new StepLog(ep.startNs);
      const responder = new StepResponder();
      let placeholders = 0;

      // The decider: the pipeline on the sensor and simulator topics, answering each SimStep.
      const source = new SensorSource(dec, decoder);
      closers.push(() => source.close());
      const decisions = new SensorSink(dec, { codec: decoder.codec, registry });
      const patterns = registry.topics.filter((t) => t.kind !== "decision").map((t) => t.pattern);
      const h: EvalHarness = new EvalHarness({
        scheduler: asyncScheduler,
        sources: source.messages(patterns),
        rejections: source.rejections,
        aligner: evalAligner(model.spec, vehicle),
        decide: makeDecide(model, { mask: o.mask, ...(o.supervisor ? { supervisor: o.supervisor } : {}), nowNs: wallNs, mapAt: () => map }),
        onDecision: (d) => responder.onDecision(d),
        onTruth: (t, m) => log.truth(t, m.stampNs),
        onStep: async (step: SimStepMessage, m) => {
          if (step.done) return;
          await h.settle(0);
          let answer: DecisionLike | undefined = responder.answer(m.stampNs);
          log.answered(answer ? actionName(answer.action) : "none", responder.latest ? sensorStatus(responder.latest.frame, o.mask) : {});
          // No frame decided yet: KEEP without a target speed, the command the ego starts with.
          if (!answer) {
            placeholders++;
            answer = { action: "KEEP", target_speed_mps: 0, frame_stamp: step.stamp as DecisionLike["frame_stamp"] };
          }
          await decisions.publish(decisionTopic, { ...answer, model_id: model.info.id, vehicle_id: vehicle });
        },
      });
      closers.push(() => h.close());

      // The simulator: publishes with the registry's QoS, takes decisions from its own subscription.
      const mailbox = new DecisionMailbox({ setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (x) => clearTimeout(x as NodeJS.Timeout) }, "stamp");
      closers.push(() => mailbox.cancel());
      const simSource = new SensorSource(sim, decoder);
      const sub = simSource.messages([decisionTopic]).subscribe((m) => mailbox.offer(m.message as DecisionLike));
      closers.push(() => sub.unsubscribe(), () => simSource.close());
      await Promise.all([subscriptionsSettled(dec, `fusiond/eval/probe/${vehicle}`), subscriptionsSettled(sim, `fusiond/eval/probe/${vehicle}`)]);
      const simSink = new SensorSink(sim, { codec: decoder.codec, registry });
      const result = await runLockstep(
        ep,
        {
          publish: async (m) => void (await simSink.publish(m.topic, m.message)),
          awaitDecision: (ref, ms) => mailbox.take(ref, ms),
        },
        {
          timeoutMs: options.timeoutMs ?? 5000,
          onTimeout: "hold",
          maxConsecutiveTimeouts: 5,
          onStep: (ref) => o.onStep?.({ scenario: spec.name, step: ref.step, steps: Math.round(spec.durationS * 20), collisions: log.tracker.collisions }),
        },
      );
      await h.settle(0);
      return log.finish(spec, { score: result.score, decisions: result.decisions - placeholders, stepsWithoutDecision: result.timeouts + placeholders, aborted: result.aborted });
    } finally {
      for (const c of closers.reverse()) c();
      await dec?.close();
      await sim.close();
    }
  };
}
