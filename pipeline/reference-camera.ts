/**
 * Which camera messages trigger frames — one answer for the aligner and for the pipeline's decision-liveness
 * monitor. A configured reference topic (the first of aligner.cameras, or referenceTopic) is the reference.
 * Without one, the first camera topic taken is, for good: a single-camera vehicle needs no configuration, and a
 * vehicle with several unlisted cameras gets one reference rather than one per camera.
 */
import type { SensorMessage } from "../schemas/types.ts";

export class ReferenceCamera {
  private first: string | undefined;

  constructor(private readonly configured: string | undefined) {}

  /** The reference topic: the configured one, else the first camera topic taken so far (undefined before it). */
  get topic(): string | undefined {
    return this.configured ?? this.first;
  }

  /** Whether msg is on the reference topic, without choosing one. */
  matches(msg: Pick<SensorMessage, "kind" | "topic">): boolean {
    return msg.kind === "camera" && msg.topic === this.topic;
  }

  /** Whether msg is on the reference topic; without a configured one, the first camera message taken chooses it. */
  take(msg: Pick<SensorMessage, "kind" | "topic">): boolean {
    if (msg.kind !== "camera") return false;
    if (this.configured === undefined) this.first ??= msg.topic;
    return msg.topic === this.topic;
  }
}
