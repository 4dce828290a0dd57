// The photo a user chose to send with a correction: checked from its bytes,
// on the server before it is stored (core/telemetry.ts's validateEvent calls
// this after the event's schema passed). The wire shape (PhotoSchema) stays in
// core/telemetry.ts; this module is about what the bytes hold.
import { decodeBase64 } from './base64.ts';
import { jpegMetadataSegments, probeImage } from './image-probe.ts';

/** The photo as the event carries it: base64 JPEG bytes and the size it claims. */
export interface SharedPhoto {
  dataBase64: string;
  width: number;
  height: number;
}

export type SharedPhotoReason = 'photo-invalid' | 'photo-exif' | 'photo-dimensions';
export type SharedPhotoResult = { ok: true } | { ok: false; reason: SharedPhotoReason; message: string };

const fail = (reason: SharedPhotoReason, message: string): SharedPhotoResult => ({ ok: false, reason, message });

/**
 * A complete, readable JPEG with no APP1 metadata (Exif can hold the GPS
 * position and the time to the second, which the event deliberately rounds),
 * whose real size is the one it claims.
 */
export function checkSharedPhoto(photo: SharedPhoto): SharedPhotoResult {
  const bytes = decodeBase64(photo.dataBase64);
  if (!bytes) return fail('photo-invalid', 'photo.dataBase64 is not valid base64');
  const probe = probeImage(bytes);
  if (!probe.ok || probe.probe.format !== 'jpeg') return fail('photo-invalid', 'photo.dataBase64 is not a readable JPEG');
  if (!probe.probe.complete) return fail('photo-invalid', 'the JPEG in photo.dataBase64 is cut off (no end marker)');
  const app1 = jpegMetadataSegments(bytes);
  if (app1.includes('exif')) return fail('photo-exif', 'the photo carries Exif metadata (which can hold GPS position and time); re-encode it without metadata before sending');
  if (app1.length) return fail('photo-exif', 'the photo carries an APP1 metadata segment (XMP); re-encode it without metadata before sending');
  if (probe.probe.width !== photo.width || probe.probe.height !== photo.height) {
    return fail('photo-dimensions', `the JPEG is ${probe.probe.width} x ${probe.probe.height} but photo says ${photo.width} x ${photo.height}`);
  }
  return { ok: true };
}
