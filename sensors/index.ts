/** sensors/: transports (MQTT, ZeroMQ, embedded broker, in-memory fake) as sources and sinks. */
export * from "./embedded-broker.ts";
export * from "./memory-transport.ts";
export * from "./mqtt-connect.ts";
export * from "./mqtt-transport.ts";
export * from "./patterns.ts";
export * from "./publish-gate.ts";
export * from "./sensor-sink.ts";
export * from "./sensor-source.ts";
export * from "./transport.ts";
export * from "./zmq-transport.ts";
export * from "./zmq-curve.ts";
export * from "./zmq-zap.ts";
