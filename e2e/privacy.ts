/**
 * Watches every request a page sends and says what would break the privacy
 * promise: photo bytes without the opt-in, EXIF anywhere, or a location finer
 * than the 0.2-degree grid.
 */
import type { Page, Request } from '@playwright/test';
import { decodeBase64 } from '../core/base64.ts';
import { onGrid } from '../core/telemetry.ts';
import { jpegMetadataSegments } from '../core/image-probe.ts';

export interface Inspection {
  requests: string[];
  problems: string[];
  bodies: unknown[];
}

const JPEG_SOI = Buffer.from([0xff, 0xd8, 0xff]);
const PNG_SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

function inspectJson(value: unknown, where: string, opts: { photoOptIn: boolean }, problems: string[]) {
  if (Array.isArray(value)) {
    value.forEach((v, i) => inspectJson(v, `${where}[${i}]`, opts, problems));
    return;
  }
  if (!value || typeof value !== 'object') {
    if (typeof value === 'string' && value.length > 200) {
      const bytes = decodeBase64(value);
      if (bytes && (Buffer.from(bytes.subarray(0, 3)).equals(JPEG_SOI) || Buffer.from(bytes.subarray(0, 4)).equals(PNG_SIG))) {
        if (!opts.photoOptIn) problems.push(`${where}: image bytes sent without the photo opt-in`);
        if (jpegMetadataSegments(bytes).includes('exif')) problems.push(`${where}: a photo with EXIF`);
      }
    }
    return;
  }
  const o = value as Record<string, unknown>;
  for (const [k, v] of Object.entries(o)) {
    if (['lat', 'lon', 'latitude', 'longitude'].includes(k) && typeof v === 'number' && !onGrid(v)) problems.push(`${where}.${k} = ${v}: finer than the 0.2-degree grid`);
    if (k === 'photo' && !opts.photoOptIn) problems.push(`${where}.photo sent without the opt-in`);
    inspectJson(v, `${where}.${k}`, opts, problems);
  }
}

export function watchRequests(page: Page, opts: { photoOptIn: () => boolean } = { photoOptIn: () => false }): Inspection {
  const out: Inspection = { requests: [], problems: [], bodies: [] };
  const check = (req: Request) => {
    const url = new URL(req.url());
    if (url.protocol === 'blob:' || url.protocol === 'data:') return; // in-memory, never on the network
    out.requests.push(`${req.method()} ${url.pathname}${url.search}`);
    if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost') out.problems.push(`request to another host: ${req.url()}`);
    if (/lat|lon|location/i.test(url.search)) out.problems.push(`location in a query string: ${req.url()}`);
    const body = req.postDataBuffer();
    if (!body?.length) return;
    if (body.indexOf(JPEG_SOI) >= 0 || body.indexOf(PNG_SIG) >= 0) {
      if (!opts.photoOptIn()) out.problems.push(`${url.pathname}: raw image bytes in a request body`);
      if (body.indexOf(Buffer.from('Exif\0')) >= 0) out.problems.push(`${url.pathname}: EXIF in a request body`);
    }
    try {
      const json = JSON.parse(body.toString('utf8'));
      out.bodies.push(json);
      inspectJson(json, url.pathname, { photoOptIn: opts.photoOptIn() }, out.problems);
    } catch {
      if (!opts.photoOptIn()) out.problems.push(`${url.pathname}: a non-JSON body of ${body.length} bytes`);
    }
  };
  // The context sees every request: the page's, its workers' and the service worker's.
  page.context().on('request', check);
  return out;
}
