#!/usr/bin/python3
"""A decider in lockstep with a simulator that speaks fusiond's lockstep protocol (docs/simulator.md).

It plays the daemon's part against `fusiond sim --mqtt URL --lockstep` (or any simulator that follows the
protocol): it reads the radar and ego topics, and for every SimStep that is not `done` it publishes exactly
one fusiond.DrivingDecision whose frame_stamp echoes the SimStep's stamp, on vehicles/{v}/decision (QoS 1).
The rule is deliberately simple (radar time-to-collision in the ego's corridor, cruise otherwise): this is a
protocol example, not a driver.

    /usr/bin/python3 examples/python/lockstep_decider.py --mqtt mqtt://127.0.0.1:1883 --vehicle sim --pb /tmp/fusiond_pb

Prints one JSON line per decision with --verbose, and always a final {"summary": ...} line: steps seen, gaps,
duplicates, decisions sent. Exits 0 when the episode ended (done), 1 when no step came for --idle-timeout s.
"""

from __future__ import annotations

import argparse
import math
import queue
import sys
import time

from fusiond_mqtt import ACTIONS, Topics, connect, emit, load_protos, set_stamp, stamp_ns, subscribe_all


def decide(returns, speed: float, cruise: float) -> tuple[str, float, str]:
    """(action, target speed m/s, why) from the latest radar returns and ego speed."""
    ttc = math.inf
    nearest = math.inf
    for r in returns:
        lateral = r.range_m * math.sin(r.azimuth_rad)
        if abs(lateral) > 1.6 or r.range_m > 120:
            continue
        nearest = min(nearest, r.range_m)
        if r.radial_velocity_mps < -0.5:
            ttc = min(ttc, r.range_m / -r.radial_velocity_mps)
    if ttc < 2.5:
        return "BRAKE_HARD", 0.0, f"ttc {ttc:.1f} s"
    if nearest < 12.0:
        return "STOP", 0.0, f"nearest {nearest:.0f} m"
    if ttc < 5.0 or nearest < 2.0 * speed + 10.0:
        return "DECELERATE", max(0.0, speed - 3.0), f"ttc {ttc:.1f} s, nearest {nearest:.0f} m"
    if speed < cruise - 1.0:
        return "ACCELERATE", cruise, "below cruise"
    return "KEEP", cruise, "cruise"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mqtt", default="mqtt://127.0.0.1:1883")
    ap.add_argument("--vehicle", default="sim")
    ap.add_argument("--pb", help="directory of the protoc --python_out modules (or $FUSIOND_PB)")
    ap.add_argument("--cruise", type=float, default=12.0, help="cruise speed, m/s")
    ap.add_argument("--idle-timeout", type=float, default=30.0, help="give up after this long without a SimStep, s")
    ap.add_argument("--skip-every", type=int, default=0, help="do not answer every N-th step (to exercise the simulator's timeout policy)")
    ap.add_argument("--verbose", action="store_true", help="one JSON line per decision")
    a = ap.parse_args()

    P = load_protos(a.pb)
    t = Topics(a.vehicle)
    inbox: queue.Queue = queue.Queue()
    client = connect(a.mqtt, f"fusiond-py-decider-{a.vehicle}")
    # The network thread only queues; all decoding and deciding happens here, in order of arrival.
    client.on_message = lambda c, userdata, msg: inbox.put((msg.topic, msg.payload))
    subscribe_all(client, [(t.radar, 0), (t.ego, 0), (t.step, 1)])
    print(f"ready: vehicle {a.vehicle} on {a.mqtt}", file=sys.stderr, flush=True)

    returns, speed = [], 0.0
    steps: list[int] = []
    sent = 0
    done = False
    while not done:
        try:
            topic, payload = inbox.get(timeout=a.idle_timeout)
        except queue.Empty:
            break
        if topic == t.radar:
            returns = list(P.RadarScan.FromString(payload).returns)
        elif topic == t.ego:
            speed = P.EgoState.FromString(payload).speed_mps
        elif topic == t.step:
            s = P.SimStep.FromString(payload)
            steps.append(s.step)
            if s.done:
                done = True
                break
            if a.skip_every and s.step % a.skip_every == a.skip_every - 1:
                continue
            action, target, why = decide(returns, speed, a.cruise)
            d = P.DrivingDecision()
            set_stamp(d.frame_stamp, stamp_ns(s.stamp))
            d.action = ACTIONS.index(action)
            d.model_action = d.action
            d.target_speed_mps = target
            d.model_id = "python-example-rules"
            d.backend = "python"
            d.modalities_used.extend(["radar", "ego"])
            d.vehicle_id = a.vehicle
            d.seq = sent
            client.publish(t.decision, d.SerializeToString(), qos=1)
            sent += 1
            if a.verbose:
                emit({"step": s.step, "action": action, "target_speed_mps": round(target, 2), "why": why})

    time.sleep(0.2)  # let the last QoS 1 publish be acknowledged
    client.disconnect()
    client.loop_stop()
    gaps = [b for a_, b in zip(steps, steps[1:]) if b > a_ + 1]
    dups = sorted({s for s in steps if steps.count(s) > 1})
    emit({"summary": {"steps": len(steps), "first": steps[0] if steps else None, "last": steps[-1] if steps else None,
                      "gaps": gaps, "duplicates": dups, "decisions": sent, "done": done}})
    return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main())
