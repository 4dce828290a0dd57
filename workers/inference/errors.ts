/**
 * Errors that cross from the worker to the page as { code, message }: the
 * page branches on the code, never on the wording, which may change (or
 * carry URLs and device details). Comlink structured-clones a thrown plain
 * object as it is, while an Error loses every field but name and message.
 */
export const WORKER_ERROR_CODES = [
  /** The call's AbortSignal fired: the worker stopped the work. */
  'aborted',
  /** No model could be loaded for the call. */
  'not-loaded',
  /** The model bytes could not be fetched (offline, HTTP error). */
  'download-failed',
  /** The bytes do not match the manifest's sha256 (or its size): refused, worth retrying later. */
  'sha256-mismatch',
  'size-mismatch',
  /** A head pack that is malformed, or whose bytes or assembled model do not match the manifest: refused, nothing kept. */
  'head-pack-damaged',
  /** The graph lacks the input or outputs the manifest promises. */
  'input',
  'outputs',
  /** onnxruntime could not create a session from the bytes. */
  'session-create',
  /** A shadow candidate that is not on the device. */
  'shadow-not-stored',
  /** An observation's photos were answered by another version than the one loaded now: they cannot be fused. */
  'version-changed',
  /** A species pack could not be kept (no storage, disk full), or is asked for but not on the device. */
  'storage',
  'pack-not-stored',
  'internal',
] as const;
export type WorkerErrorCode = (typeof WORKER_ERROR_CODES)[number];

export interface WireError {
  code: WorkerErrorCode;
  message: string;
}

/** Thrown inside the worker where the cause is known. */
export class WorkerError extends Error {
  constructor(
    readonly code: WorkerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WorkerError';
  }
}

export const isWireError = (x: unknown): x is WireError =>
  typeof x === 'object' && x !== null && typeof (x as WireError).code === 'string' && (WORKER_ERROR_CODES as readonly string[]).includes((x as WireError).code);

/** What the worker throws to the page: the code when known, else 'internal'. */
export function toWire(err: unknown): WireError {
  if (err instanceof WorkerError) return { code: err.code, message: err.message };
  return { code: 'internal', message: (err as Error)?.message ?? String(err) };
}
