import assert from "node:assert/strict";
import { inTunnel } from "../../../domain/road-map.ts";
import { timestampToNs, type TimestampLike } from "../../../schemas/time.ts";
import { Episode, type SimMessage } from "../../../sim/episode.ts";
import { pcmToFloat } from "../../../sim/sensors/voice.ts";
import { loadClipCatalog, type Clip } from "../../../sim/voice-clips.ts";

function run(ep: Episode): SimMessage[] {
  const out = [...ep.start()];
  while (!ep.done) out.push(...ep.advance({ action: ep.label.action, targetSpeedMps: ep.label.targetSpeedMps }));
  return out;
}

describe("sim sensors: GNSS and voice", function () {
  this.timeout(60_000);

  it("GNSS has no fix inside tunnels and a fix on most of the open road", () => {
    const ep = new Episode({ name: "tunnel", seed: 31, durationS: 70, weather: ["clear"], events: ["tunnel"] }, { sensors: ["gnss"] });
    const msgs = run(ep);
    const map = ep.world.map;
    assert.ok(map.tunnels.length > 0);
    const truth = msgs.filter((m) => m.kind === "sim_truth");
    const stationAt = (ns: bigint): number => {
      const i = truth.findIndex((t) => t.stampNs > ns);
      return (truth[Math.max(0, i - 1)]!.message.station_m as number) ?? 0;
    };
    let inside = 0;
    let open = 0;
    let openFix = 0;
    for (const m of msgs.filter((x) => x.kind === "gnss")) {
      const s = stationAt(m.stampNs);
      const nearEdge = map.tunnels.some((t) => Math.abs(s - t.startM) < 3 || Math.abs(s - t.endM) < 3);
      if (nearEdge) continue;
      const fix = (m.message.metadata as { key: string; value: string }[]).find((k) => k.key === "fix")!.value;
      if (inTunnel(map, s)) {
        inside++;
        assert.equal(fix, "none");
        assert.ok(Number.isNaN(m.message.latitude as number) && Number.isNaN(m.message.longitude as number));
        assert.equal(m.message.position_covariance_type, "UNKNOWN");
      } else {
        open++;
        if (fix === "3d") openFix++;
      }
    }
    assert.ok(inside > 20, `samples inside: ${inside}`);
    assert.ok(openFix / open > 0.85, `fixes on the open road: ${openFix}/${open}`);
  });

  it("every voice message's truth names its command, and the measured SNR matches the drawn one", () => {
    const catalog = loadClipCatalog();
    const clips = Object.values(catalog).flat() as Clip[];
    const ep = new Episode({ name: "voice", seed: 41, durationS: 120, weather: ["clear"], events: ["voice"] }, { sensors: ["voice"] });
    const msgs = run(ep);
    const utterances = msgs
      .filter((m) => m.kind === "sim_truth")
      .flatMap((t) => t.message.voice_utterances as { stamp: TimestampLike; command: string; snr_db: number; speech_offset_s: number; clip: string; gain_db: number }[]);
    const audio = msgs.filter((m) => m.kind === "voice");
    assert.ok(audio.length >= 5, `voice messages: ${audio.length}`);
    assert.equal(utterances.length, audio.length);
    for (const m of audio) {
      const u = utterances.find((x) => timestampToNs(x.stamp) === m.stampNs);
      assert.ok(u, "a truth entry for every voice message");
      assert.equal(m.message.sample_rate, 16000);
      const x = pcmToFloat(m.message.data as Uint8Array);
      const off = Math.round(u.speech_offset_s * 16000);
      const g = Math.pow(10, u.gain_db / 20);
      // Which clip is in the audio? The one leaving the least residual energy over the speech.
      const residual = (c: Clip): number => {
        let e = 0;
        for (let i = 0; i < c.samples.length && off + i < x.length; i++) e += (x[off + i]! - c.samples[i]! * g) ** 2;
        return e / c.samples.length;
      };
      const best = clips.reduce((a, c) => (residual(c) < residual(a) ? c : a));
      assert.equal(best.command, u.command, "the audio speaks the command its truth names");
      assert.equal(best.file, u.clip);
      const measured = 10 * Math.log10((best.power * g * g) / residual(best));
      assert.ok(Math.abs(measured - u.snr_db) < 0.6, `SNR drawn ${u.snr_db} dB, measured ${measured.toFixed(2)} dB`);
    }
  });
});
