/**
 * Strict wire check: does a payload's protobuf wire format fit a message type exactly? Every field
 * number must be one the type declares and every field must arrive with the wire type its
 * declaration implies (length-delimited for packed repeated scalars too), recursively into nested
 * messages. protobufjs' decode skips unknown fields and reads a known field whatever its wire type,
 * so an EgoState published on a camera topic decodes as a CompressedImage; this walk is what tells
 * them apart (protobuf carries no type tag, only field numbers and wire types).
 *
 * The walk uses protobufjs' own Reader (varints, skipping) and its wire-type tables
 * (`protobuf.types.basic`, `protobuf.types.packed`), over a plan compiled once per type.
 */
import protobuf from "protobufjs";

/** Field number → what may arrive under it. */
interface FieldRule {
  name: string;
  /** Wire type of the field's plain encoding. */
  wire: number;
  /** Repeated scalar (or enum): wire type 2 (packed) is accepted too; the value is its element size (0: varint). */
  packedSize: number | undefined;
  /** Nested message type, checked recursively. */
  nested: Plan | undefined;
}

interface Plan {
  typeName: string;
  /** Indexed by field number (sparse). */
  fields: Array<FieldRule | undefined>;
}

/** Deepest nesting walked; our types nest at most 3 deep, a recursive type can't make the walk run away. */
const MAX_DEPTH = 32;

const plans = new WeakMap<protobuf.Type, Plan>();

function planOf(type: protobuf.Type): Plan {
  let plan = plans.get(type);
  if (plan) return plan;
  plan = { typeName: type.fullName.slice(1), fields: [] };
  plans.set(type, plan); // before the fields: a recursive type refers to its own plan
  for (const field of type.fieldsArray) {
    field.resolve();
    const rt = field.resolvedType;
    let wire: number;
    let packedSize: number | undefined;
    let nested: Plan | undefined;
    if (field instanceof protobuf.MapField) {
      wire = 2; // each entry is a length-delimited key/value message; not used by our schemas, skipped whole
    } else if (rt instanceof protobuf.Type) {
      wire = 2;
      nested = planOf(rt);
    } else if (rt instanceof protobuf.Enum) {
      wire = 0;
      if (field.repeated) packedSize = 0;
    } else {
      const basic = protobuf.types.basic[field.type as keyof typeof protobuf.types.basic];
      if (basic === undefined) throw new Error(`wire-check: ${plan.typeName}.${field.name} has unknown type ${field.type}`);
      wire = basic;
      if (field.repeated && field.type in protobuf.types.packed) packedSize = basic === 1 ? 8 : basic === 5 ? 4 : 0;
    }
    plan.fields[field.id] = { name: field.name, wire, packedSize, nested };
  }
  return plan;
}

/** Thrown for bytes that are not protobuf at all (truncated, overrunning lengths): a decode error, not a wrong type. */
export class MalformedWire extends Error {
  override readonly name = "MalformedWire";
}

const WIRE_NAMES = ["varint", "fixed64", "length-delimited", "start-group", "end-group", "fixed32", "wire type 6", "wire type 7"];

/**
 * Checks `reader`'s bytes from its position to `end` against the type. Returns why they are not
 * that type (an unknown field number or a wire-type mismatch), or undefined when they fit. Throws
 * MalformedWire (or protobufjs' RangeError) on bytes that are not protobuf. Leaves the reader at `end`.
 */
function walk(reader: protobuf.Reader, end: number, plan: Plan, depth: number): string | undefined {
  if (depth > MAX_DEPTH) throw new MalformedWire(`nested deeper than ${MAX_DEPTH}`);
  const fields = plan.fields;
  const buf = reader.buf;
  while (reader.pos < end) {
    // A one-byte tag (field numbers below 16: all of ours) read in place; longer ones by the Reader.
    const first = buf[reader.pos]!;
    const tag = first < 0x80 ? (reader.pos++, first) : reader.uint32();
    const id = tag >>> 3;
    const wt = tag & 7;
    const rule = fields[id];
    if (rule === undefined) return `${plan.typeName} has no field ${id} (${WIRE_NAMES[wt]})`;
    if (wt === rule.wire) {
      if (rule.nested) {
        const b = buf[reader.pos]!;
        const len = b < 0x80 && reader.pos < end ? (reader.pos++, b) : reader.uint32();
        const subEnd = reader.pos + len;
        if (subEnd > end) throw new MalformedWire(`${plan.typeName}.${rule.name}: length ${len} past the end`);
        const inner = walk(reader, subEnd, rule.nested, depth + 1);
        if (inner !== undefined) return inner;
      } else if (wt === 1 || wt === 5) {
        // Fixed-size: move past it here (reader.skipType costs a call and a switch per field: radar scans are hundreds of doubles).
        reader.pos += wt === 1 ? 8 : 4;
        if (reader.pos > end) throw new MalformedWire(`${plan.typeName}.${rule.name}: truncated`);
      } else {
        reader.skipType(wt);
      }
    } else if (wt === 2 && rule.packedSize !== undefined) {
      const len = reader.uint32();
      if (rule.packedSize > 0 && len % rule.packedSize !== 0) {
        throw new MalformedWire(`${plan.typeName}.${rule.name}: packed length ${len} is not a multiple of ${rule.packedSize}`);
      }
      reader.skip(len);
    } else {
      return `${plan.typeName}.${rule.name} (field ${id}) arrived as ${WIRE_NAMES[wt]}, declared ${WIRE_NAMES[rule.wire]}`;
    }
  }
  if (reader.pos !== end) throw new MalformedWire(`${plan.typeName}: field runs past the end of its message`);
  return undefined;
}

/**
 * Why `bytes` are not a `type` message on the wire, or undefined when every field fits. Throws
 * MalformedWire / RangeError on bytes that are not protobuf at all (not well-formed as top-level fields). `reader` may be passed to reuse
 * one over the same bytes (its position is reset to 0 before and after).
 */
export function wireMismatch(type: protobuf.Type, bytes: Uint8Array, reader: protobuf.Reader = protobuf.Reader.create(bytes)): string | undefined {
  reader.pos = 0;
  const why = walk(reader, bytes.length, planOf(type), 0);
  // Another type only if it is protobuf at all: bytes that are not well-formed past the first
  // mismatch stay a decode error (random bytes are not "the wrong type").
  if (why !== undefined) wellFormed(reader, bytes.length);
  reader.pos = 0;
  return why;
}

/** Throws unless the bytes are a well-formed sequence of top-level fields (any numbers, any wire types). */
function wellFormed(reader: protobuf.Reader, end: number): void {
  reader.pos = 0;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag >>> 3 === 0) throw new MalformedWire("field number 0");
    reader.skipType(tag & 7);
  }
  if (reader.pos !== end) throw new MalformedWire("a field runs past the end");
}
