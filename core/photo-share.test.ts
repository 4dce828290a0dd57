import { describe, expect, it } from 'vitest';
import { checkSharedPhoto } from './photo-share.ts';
import { jpegMetadataSegments } from './image-probe.ts';

/** Minimal JPEG: SOI, optional APP1, SOF0 with the size, SOS, a byte of data, EOI. */
function jpeg(width: number, height: number, app1?: string, { end = true } = {}): Uint8Array {
  const seg = (marker: number, body: number[]) => [0xff, marker, ((body.length + 2) >> 8) & 255, (body.length + 2) & 255, ...body];
  const app = app1 ? seg(0xe1, [...Array.from(app1, (c) => c.charCodeAt(0)), 0, 0, 0x4d, 0x4d]) : [];
  const sof = seg(0xc0, [8, height >> 8, height & 255, width >> 8, width & 255, 1, 1, 0x11, 0]);
  const sos = seg(0xda, [1, 1, 0, 0, 63, 0]);
  return Uint8Array.from([0xff, 0xd8, ...app, ...sof, ...sos, 0x12, ...(end ? [0xff, 0xd9] : [])]);
}
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const photo = (bytes: Uint8Array, width = 640, height = 480) => ({ dataBase64: b64(bytes), width, height });

describe('checkSharedPhoto', () => {
  it('accepts a complete JPEG without metadata of the size it claims', () => {
    expect(checkSharedPhoto(photo(jpeg(640, 480)))).toEqual({ ok: true });
  });
  it('refuses Exif and XMP metadata', () => {
    expect(checkSharedPhoto(photo(jpeg(640, 480, 'Exif')))).toEqual({ ok: false, reason: 'photo-exif', message: expect.stringMatching(/Exif metadata .*GPS/) });
    expect(checkSharedPhoto(photo(jpeg(640, 480, 'http://ns.adobe.com/xap/1.0/')))).toEqual({ ok: false, reason: 'photo-exif', message: expect.stringMatching(/XMP/) });
  });
  it('refuses a photo that lies about its size', () => {
    expect(checkSharedPhoto(photo(jpeg(640, 480), 1024, 480))).toEqual({ ok: false, reason: 'photo-dimensions', message: 'the JPEG is 640 x 480 but photo says 1024 x 480' });
  });
  it('refuses what is not base64, not a JPEG, or a JPEG cut off', () => {
    expect(checkSharedPhoto({ dataBase64: 'not base64!', width: 640, height: 480 })).toMatchObject({ ok: false, reason: 'photo-invalid', message: expect.stringMatching(/base64/) });
    expect(checkSharedPhoto(photo(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4])))).toMatchObject({ ok: false, reason: 'photo-invalid', message: expect.stringMatching(/readable JPEG/) });
    expect(checkSharedPhoto(photo(jpeg(640, 480, undefined, { end: false })))).toMatchObject({ ok: false, reason: 'photo-invalid', message: expect.stringMatching(/cut off/) });
  });
});

describe('jpegMetadataSegments', () => {
  it('finds APP1 segments by kind and stops at the image data', () => {
    expect(jpegMetadataSegments(jpeg(8, 8))).toEqual([]);
    expect(jpegMetadataSegments(jpeg(8, 8, 'Exif'))).toEqual(['exif']);
    expect(jpegMetadataSegments(jpeg(8, 8, 'http://ns.adobe.com/xap/1.0/'))).toEqual(['xmp']);
  });
});
