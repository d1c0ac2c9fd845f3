/**
 * A recording as a source of SensorMessages, through the same MessageDecoder as live transports, so
 * replay exercises exactly the live decode path. Undecodable messages become counted rejections.
 */
import { MessageDecoder, type Rejection, type SensorMessage } from "../schemas/index.ts";
import type { McapRecording, ReadOptions, RecordedMessage } from "./reader.ts";

export interface DecodedReplay {
  /** The decoded message, or why it was rejected. */
  message?: SensorMessage;
  rejection?: Rejection;
  recorded: RecordedMessage;
}

/** Decodes recorded protobuf messages in log_time order; JSON channels (diagnostics) are skipped. */
export async function* decodeRecording(
  recording: McapRecording,
  options: ReadOptions = {},
  decoder: MessageDecoder = new MessageDecoder(),
): AsyncGenerator<DecodedReplay> {
  for await (const recorded of recording.messages(options)) {
    if (recorded.messageEncoding !== "protobuf") continue;
    const r = decoder.decode({ topic: recorded.topic, payload: recorded.bytes, receiveNs: recorded.receiveNs });
    yield r.ok ? { message: r.message, recorded } : { rejection: r.rejection, recorded };
  }
}
