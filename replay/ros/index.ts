/** replay/ros: ROS 1 bags and ROS 2 MCAP recordings read, mapped and converted to fusiond recordings. */
export * from "./bag1.ts";
export * from "./convert.ts";
export * from "./convert-file.ts";
export * from "./convert-message.ts";
export * from "./decode.ts";
export * from "./ego-merger.ts";
export * from "./mapping.ts";
export * from "./open.ts";
export * from "./ros2-mcap.ts";
export * from "./types.ts";
export * from "./input.ts";
