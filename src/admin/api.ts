/** The admin API, with the token kept in sessionStorage only (gone when the tab closes). */
const TOKEN_KEY = 'wildsight.adminToken';

export const getToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (token: string | null) => (token ? sessionStorage.setItem(TOKEN_KEY, token) : sessionStorage.removeItem(TOKEN_KEY));

export class AdminError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

export async function adminFetch<T>(path: string, init: { method?: string; body?: unknown; token?: string } = {}): Promise<T> {
  const token = init.token ?? getToken();
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    headers: { Authorization: `Bearer ${token ?? ''}`, ...(init.body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    cache: 'no-store',
  });
  const text = await res.text();
  const body = text ? JSON.parse(text) : null;
  if (!res.ok) throw new AdminError(res.status, body?.message ?? `HTTP ${res.status}`);
  return body as T;
}

export interface LatencyStats { n: number; p50: number; p95: number }
export interface BucketMetrics {
  modelVersion: string; bucket: string; identifications: number; abstained: number; abstainRate: number;
  corrections: number; confirmations: number; correctionRate: number; confidenceHistogram: number[];
  predictions: Array<{ taxonId: string; count: number }>; latency: Record<string, LatencyStats>;
}
export interface MetricsResponse {
  from: string; to: string; bucket: 'day' | 'hour';
  series: BucketMetrics[];
  versions: Array<Omit<BucketMetrics, 'bucket'>>;
  correctedPairs: Array<{ modelVersion: string; predicted: string; corrected: string; count: number }>;
}
export interface DriftScore { psi: number; js: number; level: 'ok' | 'warn' | 'alert' }
export interface DriftPoint { modelVersion: string; day: string; n: number; inReference: boolean; prediction: DriftScore; confidence: DriftScore; level: DriftScore['level'] }
export interface Alert { modelVersion: string; day: string; metric: 'prediction' | 'confidence'; psi: number; js: number; level: 'warn' | 'alert'; n: number; reference: { from: string; to: string } }
export interface DriftResponse {
  from: string; to: string;
  thresholds: { psiWarn: number; psiAlert: number; jsWarn: number; jsAlert: number };
  minEvents: number;
  references: Record<string, { from: string; to: string; n: number }>;
  points: DriftPoint[];
  alerts: Alert[];
}
export interface QualityDay {
  day: string; duplicates: number; rejected: Record<string, number>; rejectedTotal: number; stored: number; errorRate: number;
  conflictingLabels: number; proposedNames: number;
}
export interface QualityResponse { from: string; to: string; errorRateDefinition: string; days: QualityDay[] }
export interface ReviewItem {
  eventId: string; correctsEventId: string; installId: string; modelVersion: string; hour: string; verdict: 'confirmed' | 'corrected';
  taxonId: string | null; proposedName: string | null; status: 'pending' | 'accepted' | 'rejected';
  label: string; predicted: string | null; confidence: number | null; agreement: string; installs: number; conflicts: number; hasPhoto: boolean;
}
