/**
 * Page cursors for the admin lists: the (receivedAt, eventId) of the last
 * item, as URL-safe base64 so clients treat it as opaque and pass it back.
 */
import type { PageCursor } from '../../../storage/types.ts';
import { HttpError } from '../../../plugins/app/errors.ts';

export const encodeCursor = (c: PageCursor | null): string | null => (c ? Buffer.from(JSON.stringify([c.receivedAt, c.eventId])).toString('base64url') : null);

export function decodeCursor(text: string | undefined): PageCursor | undefined {
  if (text === undefined || text === '') return undefined;
  try {
    const [receivedAt, eventId] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if (typeof receivedAt === 'string' && typeof eventId === 'string') return { receivedAt, eventId };
  } catch {
    /* reported below */
  }
  throw new HttpError(400, 'invalid request', 'query/after: not a cursor from a previous page (use the "next" value as it was given)');
}
