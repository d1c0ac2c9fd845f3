#!/usr/bin/env bash
# The Debian packages the tests need (`npm test` runs this first, as `pretest`; so does .ci/run).
# All there: prints nothing and exits 0. Some missing: as root, installs them with apt-get; otherwise names
# the exact packages, prints the command that installs them, and exits 1 — never a test that fails later
# for a reason it does not say.
set -euo pipefail

# "how to tell it is there" -> package. Add a package here (and to README's test paragraph) when a test needs one.
need=()
command -v protoc >/dev/null || need+=(protobuf-compiler)
command -v mosquitto >/dev/null || need+=(mosquitto)
command -v mosquitto_pub >/dev/null || need+=(mosquitto-clients)
command -v openssl >/dev/null || need+=(openssl)
command -v python3 >/dev/null || need+=(python3)
command -v chromium >/dev/null || need+=(chromium)
[ -f /usr/include/google/protobuf/timestamp.proto ] || need+=(libprotobuf-dev)
/usr/bin/python3 -c 'import paho.mqtt' 2>/dev/null || need+=(python3-paho-mqtt)
/usr/bin/python3 -c 'import google.protobuf' 2>/dev/null || need+=(python3-protobuf)
command -v redis-server >/dev/null || need+=(redis-server)        # fleet tests (BullMQ); Redis >= 6.2
command -v curl >/dev/null || need+=(curl)                        # the deployment doc's examples, run as written
command -v umount >/dev/null || need+=(mount)                     # the full-disk tests mount a small tmpfs (root)
# ROS 1 bags for test/replay/ros (written by the real ROS 1 writer)
/usr/bin/python3 -c 'import rosbag, sensor_msgs.msg, nav_msgs.msg, geometry_msgs.msg, std_msgs.msg' 2>/dev/null ||
  need+=(python3-rosbag python3-sensor-msgs python3-nav-msgs python3-geometry-msgs python3-std-msgs)

[ "${#need[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "test-deps: installing the Debian packages the tests need: ${need[*]}" >&2
  apt-get update -qq >&2 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
  exit 0
fi

echo "test-deps: the tests need these Debian packages, which are missing: ${need[*]}" >&2
echo "test-deps: install them, then run npm test again:  sudo apt-get install -y ${need[*]}" >&2
exit 1
