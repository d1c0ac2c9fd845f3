"""Shared helpers for the fusiond Python examples: the public protocol only.

- Topics are the default layout of fusiond (docs/simulator.md, DESIGN.md section 2), `{v}` the vehicle id.
- Payloads are protobuf bytes of the types the topic registry names; the Python classes come from
  `protoc --python_out` run on fusiond's schemas/proto (nothing generated is committed):

      protoc -I schemas/proto -I /usr/include --python_out=PB_DIR \
          fusiond/driving_decision.proto fusiond/ego_state.proto fusiond/radar_scan.proto fusiond/sim.proto \
          foxglove/CompressedImage.proto foxglove/LocationFix.proto foxglove/RawAudio.proto \
          foxglove/RawImage.proto foxglove/KeyValuePair.proto foxglove/Vector3.proto foxglove/Color.proto

- MQTT is paho-mqtt 1.6 (Debian's python3-paho-mqtt), MQTT 3.1.1, so that it works on Mosquitto and on
  fusiond's embedded aedes broker alike. The type of a message comes from its topic, never from a property.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import time
from urllib.parse import urlparse

# DrivingAction enum values (fusiond/driving_decision.proto): a wire contract.
ACTIONS = ["ACTION_UNSPECIFIED", "KEEP", "ACCELERATE", "DECELERATE", "BRAKE_HARD", "LANE_LEFT", "LANE_RIGHT", "STOP", "PULL_OVER"]


def load_protos(pb_dir: str | None):
    """Imports the generated modules from pb_dir (or $FUSIOND_PB); returns a namespace of message classes."""
    pb_dir = pb_dir or os.environ.get("FUSIOND_PB")
    if not pb_dir or not os.path.isdir(os.path.join(pb_dir, "fusiond")):
        sys.exit("generated protobuf modules not found: run protoc --python_out=DIR (see README.md) and pass --pb DIR")
    sys.path.insert(0, pb_dir)
    dd = importlib.import_module("fusiond.driving_decision_pb2")
    ego = importlib.import_module("fusiond.ego_state_pb2")
    radar = importlib.import_module("fusiond.radar_scan_pb2")
    sim = importlib.import_module("fusiond.sim_pb2")
    img = importlib.import_module("foxglove.CompressedImage_pb2")
    fix = importlib.import_module("foxglove.LocationFix_pb2")

    class P:
        DrivingDecision = dd.DrivingDecision
        EgoState = ego.EgoState
        RadarScan = radar.RadarScan
        RadarReturn = radar.RadarReturn
        SimStep = sim.SimStep
        GroundTruth = sim.GroundTruth
        CompressedImage = img.CompressedImage
        LocationFix = fix.LocationFix

    return P


class Topics:
    """The default topic layout for one vehicle."""

    def __init__(self, vehicle: str):
        base = f"vehicles/{vehicle}"
        self.camera = f"{base}/sensors/camera/front"
        self.radar = f"{base}/sensors/radar/front"
        self.gnss = f"{base}/sensors/gnss/main"
        self.voice = f"{base}/sensors/voice/cabin"
        self.ego = f"{base}/ego"
        self.decision = f"{base}/decision"
        self.step = f"{base}/sim/step"
        self.truth = f"{base}/sim/truth"


def stamp_ns(ts) -> int:
    """google.protobuf.Timestamp -> int nanoseconds."""
    return ts.seconds * 1_000_000_000 + ts.nanos


def set_stamp(ts, ns: int) -> None:
    ts.seconds, ts.nanos = divmod(ns, 1_000_000_000)


def connect(url: str, client_id: str):
    """Connects a paho 1.6 client (MQTT 3.1.1) and starts its network thread; waits for the CONNACK."""
    import paho.mqtt.client as mqtt

    u = urlparse(url)
    client = mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv311, clean_session=True)
    connected = threading.Event()
    client.on_connect = lambda c, userdata, flags, rc: connected.set() if rc == 0 else None
    client.connect(u.hostname or "127.0.0.1", u.port or 1883, keepalive=30)
    client.loop_start()
    if not connected.wait(5):
        client.loop_stop()
        sys.exit(f"could not connect to {url}")
    return client


def subscribe_all(client, topics_qos: list[tuple[str, int]], timeout_s: float = 5.0) -> None:
    """Subscribes and waits for the SUBACK, so that nothing published afterwards is missed."""
    acked = threading.Event()
    client.on_subscribe = lambda c, userdata, mid, granted: acked.set()
    client.subscribe(topics_qos)
    if not acked.wait(timeout_s):
        sys.exit("no SUBACK from the broker")


def emit(obj) -> None:
    """One JSON line on stdout, flushed (the examples' machine-readable output)."""
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()


def now_ns() -> int:
    return time.time_ns()
