import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SHARED = path.resolve(process.env.WILDSIGHT_SHARED ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared'));
export const DATA = path.join(SHARED, 'data');
