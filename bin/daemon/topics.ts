/**
 * The daemon's topics, from its config: the registry of its vehicle, the sensor ids it accepts (others are
 * rejected as unknown_topic), the decoder, the patterns it subscribes to and what recording.topics records.
 */
import type { Logger } from "pino";
import type { DaemonConfig } from "../../pipeline/daemon-config.ts";
import { DEFAULT_SENSOR_IDS, MessageDecoder, SensorAllowList, TopicRegistry, topicMatches } from "../../schemas/index.ts";

export interface DaemonTopics {
  registry: TopicRegistry;
  acceptTopic: (topic: string) => boolean;
  decoder: MessageDecoder;
  decisionTopic: string;
  /** What the daemon subscribes to: config.topics, else every sensor topic of the registry. */
  patterns: string[];
  /** recording.topics lets this topic in (default: every accepted topic). */
  recorded: (topic: string) => boolean;
}

export function daemonTopics(config: DaemonConfig, logger: Logger): DaemonTopics {
  const registry = new TopicRegistry(config.vehicle);
  // Only named sensor ids get in: a made-up id must not become a frame trigger, a buffer, a recording
  // channel, a health entry or a metric label (issue 22). Others are rejected as unknown_topic.
  const allowList = new SensorAllowList(registry, config.sensors ?? SensorAllowList.idsIn(registry, config.topics) ?? DEFAULT_SENSOR_IDS);
  const acceptTopic = (topic: string): boolean => allowList.accepts(topic);
  const decoder = new MessageDecoder({ registry, acceptTopic });
  logger.info({ sensors: [...allowList.ids] }, "accepted sensor ids (others are rejected as unknown_topic and counted under topic \"(other)\")");
  const decisionTopic = registry.topicFor("decision");
  const patterns = config.topics ?? registry.topics.filter((t) => t.kind !== "decision" && !t.kind.startsWith("sim")).map((t) => t.pattern);
  // recording.topics: MQTT-style patterns of what to record (sensors that passed validation, and the decisions);
  // default every accepted topic.
  const recordPatterns = config.recording?.topics;
  const recorded = (topic: string): boolean => !recordPatterns || recordPatterns.some((p) => topicMatches(p, topic));
  return { registry, acceptTopic, decoder, decisionTopic, patterns, recorded };
}
