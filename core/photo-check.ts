import { probeImage, type ImageProbe } from './image-probe.ts';
import { DECODE_SHORTER, jpegDecodeSize } from './decode-size.ts';

/**
 * Limits a photo must meet before we spend memory decoding it. The pixel
 * limit is on the pixels that will actually be decoded: a JPEG is decoded
 * at 1/2, 1/4 or 1/8 scale when it is that much bigger than the model needs
 * (core/decode-size.ts), so a 108 or 200 MP phone photo costs about what a
 * 12 MP one does; other formats are decoded whole.
 */
export const PHOTO_LIMITS = {
  minShortSide: 64,
  maxMegapixels: 50,
  maxBytes: 30 * 1024 * 1024,
} as const;

export type PhotoErrorCode = 'empty' | 'not-an-image' | 'unsupported-format' | 'corrupt' | 'truncated' | 'too-small' | 'too-many-pixels' | 'too-large-file' | 'decode-failed';

/** An error whose message is written for the person holding the phone. */
export class PhotoError extends Error {
  readonly code: PhotoErrorCode;
  constructor(code: PhotoErrorCode, message: string) {
    super(message);
    this.name = 'PhotoError';
    this.code = code;
  }
}

const FORMAT_NAMES: Record<string, string> = {
  heic: 'HEIC (iPhone) photos',
  avif: 'AVIF images',
  tiff: 'TIFF images',
  svg: 'SVG drawings',
  ico: 'icon files',
};

const mb = (bytes: number) => (bytes / (1024 * 1024)).toFixed(1);

/** The size limit alone, for a file whose bytes have not been read (no need to read 31 MB to refuse them). */
export function checkFileSize(size: number, name = 'This file'): void {
  if (size > PHOTO_LIMITS.maxBytes) {
    throw new PhotoError('too-large-file', `${name} is ${mb(size)} MB; photos up to ${PHOTO_LIMITS.maxBytes / (1024 * 1024)} MB can be identified.`);
  }
}

/**
 * Checks a photo's bytes against the limits and returns its probe, or throws a
 * PhotoError that says what is wrong in plain words. Pure: the same check runs
 * in the worker, in the UI before a file is sent to the worker, and in Node.
 */
/**
 * The size a photo will be decoded at: a big JPEG at the reduced scale the
 * worker asks the decoder for (keeping `minShorter` pixels on the short
 * side), anything else at full size.
 */
export function decodedSize(probe: Pick<ImageProbe, 'format' | 'width' | 'height'>, minShorter = DECODE_SHORTER): { width: number; height: number; scale: number } {
  const reduced = probe.format === 'jpeg' && Math.min(probe.width, probe.height) >= 2 * minShorter ? jpegDecodeSize(probe.width, probe.height, minShorter) : null;
  return reduced ?? { width: probe.width, height: probe.height, scale: 1 };
}

export function checkPhoto(bytes: Uint8Array, name = 'This file', minShorter = DECODE_SHORTER): ImageProbe {
  checkFileSize(bytes.length, name);
  const result = probeImage(bytes);
  if (!result.ok) {
    switch (result.reason) {
      case 'empty':
        throw new PhotoError('empty', `${name} is empty (0 bytes). Pick the photo again.`);
      case 'not-an-image':
        throw new PhotoError('not-an-image', `${name} is not an image. Pick a JPEG, PNG or WebP photo.`);
      case 'unsupported':
        throw new PhotoError('unsupported-format', `${FORMAT_NAMES[result.format]} are not supported yet. Save the photo as JPEG or PNG and try again.`);
      case 'corrupt':
        throw new PhotoError('corrupt', `${name} looks damaged: its ${result.format === 'unknown' ? 'image' : result.format.toUpperCase()} header cannot be read.`);
    }
  }
  const probe = result.probe;
  if (!probe.complete) {
    throw new PhotoError('truncated', `${name} is incomplete (it was cut off while saving or copying). Pick the original photo.`);
  }
  const shortSide = Math.min(probe.width, probe.height);
  if (shortSide < PHOTO_LIMITS.minShortSide) {
    throw new PhotoError('too-small', `${name} is ${probe.width} x ${probe.height} pixels; photos need at least ${PHOTO_LIMITS.minShortSide} pixels on the short side to be identified.`);
  }
  const mp = (probe.width * probe.height) / 1e6;
  const decoded = decodedSize(probe, minShorter);
  const decodedMp = (decoded.width * decoded.height) / 1e6;
  if (decodedMp > PHOTO_LIMITS.maxMegapixels) {
    throw new PhotoError(
      'too-many-pixels',
      decoded.scale < 1
        ? `${name} is ${mp.toFixed(0)} megapixels, ${decodedMp.toFixed(0)} even when decoded at 1/${1 / decoded.scale} scale; photos up to ${PHOTO_LIMITS.maxMegapixels} megapixels as decoded can be identified.`
        : `${name} is ${mp.toFixed(0)} megapixels; photos up to ${PHOTO_LIMITS.maxMegapixels} megapixels can be identified.`,
    );
  }
  return probe;
}

/** Message for a file that passed the header checks but would not decode. */
export function decodeFailed(name = 'This file'): PhotoError {
  return new PhotoError('decode-failed', `${name} could not be decoded; it may be damaged. Try another photo.`);
}
