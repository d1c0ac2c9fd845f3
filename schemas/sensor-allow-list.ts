/**
 * Which sensor ids a daemon accepts. Topics with a sensor id (`vehicles/{v}/sensors/<kind>/{id}`)
 * are open-ended: anyone on the bus can make up a new id, and each new name would otherwise become
 * a frame trigger, a buffer, a recording channel, a health entry and a metric label. The allow-list
 * closes that set: only the named `<kind>/<id>` pairs are accepted; topics without an id (e.g.
 * `vehicles/{v}/ego`) are a fixed set already and always pass.
 */
import { FusiondError } from "./errors.ts";
import { DEFAULT_TOPICS, topicMatches, type TopicRegistry, type TopicSpec } from "./topics.ts";

/**
 * The sensor ids the built-in simulator publishes (sim/episode.ts): what is accepted when the
 * daemon's config names none.
 */
export const DEFAULT_SENSOR_IDS: readonly string[] = ["camera/front", "camera_raw/front", "radar/front", "gnss/main", "voice/cabin"];

const ID_SUFFIX = "/{id}";

/** The `<kind>` level of an id-bearing template ("camera" for vehicles/{v}/sensors/camera/{id}), else undefined. */
function idKindOf(spec: Pick<TopicSpec, "template">): string | undefined {
  if (!spec.template.endsWith(ID_SUFFIX)) return undefined;
  const head = spec.template.slice(0, -ID_SUFFIX.length);
  return head.slice(head.lastIndexOf("/") + 1);
}

/** The `<kind>` levels that take a sensor id in the default layout: camera, camera_raw, radar, gnss, voice. */
export function sensorIdKinds(specs: readonly TopicSpec[] = DEFAULT_TOPICS): string[] {
  return specs.map(idKindOf).filter((k): k is string => k !== undefined);
}

/** `<kind>/<id>` of a concrete topic: its last two levels. */
function kindIdOf(topic: string): string {
  const i = topic.lastIndexOf("/");
  return topic.slice(topic.lastIndexOf("/", i - 1) + 1);
}

export class SensorAllowList {
  /** The accepted `<kind>/<id>` pairs. */
  readonly ids: ReadonlySet<string>;

  /**
   * @param ids `<kind>/<id>` pairs, e.g. "camera/front". Throws FusiondError `bad_sensor_id` for an
   *   entry whose kind takes no id in the registry, or that is not two levels.
   */
  constructor(
    readonly registry: TopicRegistry,
    ids: readonly string[],
  ) {
    const kinds = new Set(registry.topics.map(idKindOf).filter((k) => k !== undefined));
    for (const id of ids) {
      const [kind, name, ...rest] = id.split("/");
      if (!kind || !name || rest.length || !kinds.has(kind) || /[+#]/.test(name)) {
        throw new FusiondError("bad_sensor_id", `sensor id "${id}" is not <kind>/<id> with kind one of ${[...kinds].join(", ")} (e.g. camera/front)`, { id });
      }
    }
    this.ids = new Set(ids);
  }

  /**
   * The sensor ids a subscription list (a config's `topics`) names: those of its concrete sensor
   * topics, plus the `defaults` whose topics its patterns match (a pattern names no id of its own:
   * `radar/+` beside `camera/left` means the default radar). Undefined when it names no concrete
   * sensor topic (the defaults apply as they are).
   */
  static idsIn(registry: TopicRegistry, topics: readonly string[] | undefined, defaults: readonly string[] = DEFAULT_SENSOR_IDS): string[] | undefined {
    const list = topics ?? [];
    const named = list.filter((t) => !/[+#]/.test(t) && idKindOf(registry.lookup(t) ?? { template: "" }) !== undefined).map(kindIdOf);
    if (!named.length) return undefined;
    const patterns = list.filter((t) => /[+#]/.test(t));
    const covered = patterns.length ? new SensorAllowList(registry, defaults).topics().filter((t) => patterns.some((p) => topicMatches(p, t))).map(kindIdOf) : [];
    return [...new Set([...named, ...covered])];
  }

  /** Is this concrete topic accepted? Unknown topics are not; registry topics without an id are. */
  accepts(topic: string): boolean {
    const spec = this.registry.lookup(topic);
    if (!spec) return false;
    if (!spec.template.endsWith(ID_SUFFIX)) return true;
    return this.ids.has(kindIdOf(topic));
  }

  /** The accepted sensor topics of a concrete vehicle (the registry's own by default). */
  topics(vehicle = this.registry.vehicle): string[] {
    const out: string[] = [];
    for (const spec of this.registry.topics) {
      const kind = idKindOf(spec);
      if (kind === undefined) continue;
      for (const id of this.ids) if (id.startsWith(`${kind}/`)) out.push(spec.template.replace("{v}", vehicle).replace("{id}", id.slice(kind.length + 1)));
    }
    return out.sort();
  }
}
