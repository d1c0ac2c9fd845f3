/** The --ros-map flag of the commands that take a ROS recording as it is (replay/ros/input.ts converts it). */
export const ROS_MAP_OPTION = ["--ros-map <ros.yaml>", "for a ROS 1 bag or ROS 2 MCAP input: the topic mapping (docs/ros.md; default: common types by type)"] as const;
