/**
 * Decode cost of the daemon's one decode path (MessageDecoder.decode: registry lookup, size limit,
 * strict wire check, protobufjs decode, stamp) for a 64x64 JPEG camera frame and a radar scan, with the
 * strict wire check (the default) and without it (strict: false, the decode path before the check).
 * Run: npx tsx scripts/measure-decode.ts [iterations]   (prints µs per decode, best of 5 rounds)
 */
import { encodeJpeg } from "../sim/sensors/camera.ts";
import { MessageDecoder, TopicRegistry, defaultCodec, nsToTimestamp } from "../schemas/index.ts";

const iterations = Number(process.argv[2] ?? 200_000);
const codec = defaultCodec();
const registry = new TopicRegistry("ego1");
const decoders = { strict: new MessageDecoder({ registry, codec }), lenient: new MessageDecoder({ registry, codec, strict: false }) };
const stamp = nsToTimestamp(1_700_000_000_000_000_000n);

const rgba = new Uint8Array(64 * 64 * 4).map((_, i) => (i * 37) & 255);
const camera = codec.encode("foxglove.CompressedImage", { timestamp: stamp, frame_id: "front", data: encodeJpeg(rgba, 64, 64), format: "jpeg" });
const returns = Array.from({ length: 32 }, (_, i) => ({ range_m: 5 + i, azimuth_rad: -0.5 + i / 32, elevation_rad: 0.01, radial_velocity_mps: -3 + i / 10, rcs_dbsm: 7 }));
const radar = codec.encode("fusiond.RadarScan", { timestamp: stamp, frame_id: "front", returns, seq: 9 });

/** Best of 5 rounds for each decoder, the rounds interleaved so that both see the same machine load. */
function measure(name: string, topic: string, payload: Uint8Array): void {
  const raw = { topic, payload, receiveNs: 1_700_000_000_000_000_000n };
  const best = { strict: Infinity, lenient: Infinity };
  for (let round = 0; round < 5; round++) {
    for (const mode of ["lenient", "strict"] as const) {
      const decoder = decoders[mode];
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++) if (!decoder.decode(raw).ok) throw new Error(`${name} rejected`);
      best[mode] = Math.min(best[mode], Number(process.hrtime.bigint() - t0) / iterations / 1000);
    }
  }
  console.log(
    `${name} (${payload.length} B): strict ${best.strict.toFixed(3)} µs, lenient (protobufjs decode alone, as before) ${best.lenient.toFixed(3)} µs per decode (best of 5 × ${iterations})`,
  );
}

measure("CompressedImage 64x64 jpeg", "vehicles/ego1/sensors/camera/front", camera);
measure("RadarScan 32 returns", "vehicles/ego1/sensors/radar/front", radar);
