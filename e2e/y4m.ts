/**
 * A small YUV4MPEG2 writer for Chromium's fake camera
 * (--use-file-for-fake-video-capture): photos from ../shared decoded by
 * sharp to RGB, converted to full-range BT.601 I420 (C420jpeg), each held
 * for a number of frames. No ffmpeg needed.
 */
import { openSync, writeSync, closeSync } from 'node:fs';
import sharp from 'sharp';

export interface Scene {
  photo: string;
  seconds: number;
}

/** RGB (packed, 3 channels) to I420 planes, chroma averaged over each 2x2 block. */
export function rgbToI420(rgb: Uint8Array, width: number, height: number): Uint8Array {
  if (width % 2 || height % 2) throw new RangeError(`I420 needs an even frame size, got ${width}x${height}`);
  const out = new Uint8Array((width * height * 3) / 2);
  const u0 = width * height;
  const v0 = u0 + (width / 2) * (height / 2);
  for (let i = 0; i < width * height; i++) {
    out[i] = Math.round(0.299 * rgb[i * 3] + 0.587 * rgb[i * 3 + 1] + 0.114 * rgb[i * 3 + 2]);
  }
  for (let y = 0; y < height; y += 2)
    for (let x = 0; x < width; x += 2) {
      let r = 0,
        g = 0,
        b = 0;
      for (const [dx, dy] of [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ]) {
        const j = ((y + dy) * width + x + dx) * 3;
        r += rgb[j];
        g += rgb[j + 1];
        b += rgb[j + 2];
      }
      r /= 4;
      g /= 4;
      b /= 4;
      const c = (y / 2) * (width / 2) + x / 2;
      out[u0 + c] = Math.max(0, Math.min(255, Math.round(-0.168736 * r - 0.331264 * g + 0.5 * b + 128)));
      out[v0 + c] = Math.max(0, Math.min(255, Math.round(0.5 * r - 0.418688 * g - 0.081312 * b + 128)));
    }
  return out;
}

/** Writes the scenes one after the other to `file` at `fps`, each photo cropped to fill width x height. */
export async function writeY4m(file: string, scenes: Scene[], width: number, height: number, fps: number): Promise<{ frames: number }> {
  const fd = openSync(file, 'w');
  let frames = 0;
  try {
    writeSync(fd, `YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`);
    for (const scene of scenes) {
      const rgb = await sharp(scene.photo).rotate().resize(width, height, { fit: 'cover' }).removeAlpha().raw().toBuffer();
      const frame = rgbToI420(new Uint8Array(rgb), width, height);
      const n = Math.round(scene.seconds * fps);
      for (let i = 0; i < n; i++, frames++) {
        writeSync(fd, 'FRAME\n');
        writeSync(fd, frame);
      }
    }
  } finally {
    closeSync(fd);
  }
  return { frames };
}
