/**
 * Which content coding to send, from the request's Accept-Encoding
 * (RFC 9110 §12.5.3): brotli before gzip when both are acceptable, since it
 * is smaller for every file we send; q=0 refuses a coding, `*` stands for
 * any coding not named.
 */
export type ContentCoding = 'br' | 'gzip' | 'identity';

export function negotiateEncoding(header: string | string[] | undefined, available: ReadonlyArray<'br' | 'gzip'> = ['br', 'gzip']): ContentCoding {
  if (!header) return 'identity';
  const q = new Map<string, number>();
  for (const part of (Array.isArray(header) ? header.join(',') : header).split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = qParam ? Number(qParam.slice(2)) : 1;
    q.set(name === 'x-gzip' ? 'gzip' : name, Number.isFinite(value) ? value : 0);
  }
  const weight = (coding: string) => q.get(coding) ?? q.get('*') ?? 0;
  return available.find((c) => weight(c) > 0) ?? 'identity';
}
