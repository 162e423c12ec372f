/**
 * The metadata segments of a JPEG, read by walking its markers (written for the tests, independent of the app's EXIF
 * reading): APP1 Exif with the tags of IFD0 and whether it points at a GPS IFD, APP1 XMP, and any other APPn.
 */
export interface JpegMetadata {
  /** IFD0 tag numbers of the Exif segment; undefined when there is none. */
  exifTags?: number[];
  /** XMP packets as text. */
  xmp: string[];
  /** Every APPn marker present (0xe0-0xef), and COM (0xfe). */
  markers: number[];
}

/** IFD0 tag of the pointer to the GPS IFD. */
export const GPS_IFD_POINTER = 0x8825;

export function readJpegMetadata(jpeg: Buffer): JpegMetadata {
  if (jpeg.readUInt16BE(0) !== 0xffd8) throw new Error('not a JPEG');
  const result: JpegMetadata = { xmp: [], markers: [] };
  for (let at = 2; at + 4 <= jpeg.length; ) {
    if (jpeg[at] !== 0xff) throw new Error(`no marker at ${at}`);
    const marker = jpeg[at + 1];
    if (marker === 0xda || marker === 0xd9) break; // start of scan: no metadata after it in a baseline file
    const length = jpeg.readUInt16BE(at + 2);
    const body = jpeg.subarray(at + 4, at + 2 + length);
    if ((marker >= 0xe0 && marker <= 0xef) || marker === 0xfe) result.markers.push(marker);
    if (marker === 0xe1 && body.subarray(0, 6).toString('latin1') === 'Exif\0\0') result.exifTags = ifd0Tags(body.subarray(6));
    if (marker === 0xe1 && body.toString('latin1').startsWith('http://ns.adobe.com/xap/1.0/')) result.xmp.push(body.toString('utf8'));
    at += 2 + length;
  }
  return result;
}

function ifd0Tags(tiff: Buffer): number[] {
  const little = tiff.toString('latin1', 0, 2) === 'II';
  const u16 = (offset: number) => (little ? tiff.readUInt16LE(offset) : tiff.readUInt16BE(offset));
  const u32 = (offset: number) => (little ? tiff.readUInt32LE(offset) : tiff.readUInt32BE(offset));
  const ifd = u32(4);
  return Array.from({ length: u16(ifd) }, (_, i) => u16(ifd + 2 + i * 12));
}
