/** seek-bzip ships no types; the one call fusiond makes (replay/ros/bag1.ts). */
declare module "seek-bzip" {
  const Bunzip: { decode(input: Buffer, output?: Buffer): Buffer };
  export default Bunzip;
}
