/**
 * Reason codes for model_status events: what the device says about why a
 * version was refused or would not start. Codes, never the message itself:
 * error texts can carry file paths, URLs or device details, and a fixed
 * vocabulary can be counted on the server.
 */
export const MODEL_REASON_CODES = [
  'manifest-entry',
  'input',
  'outputs',
  'embedding-size',
  'no-other-label',
  'labels-unnamed',
  'labels-sha256',
  'sha256-mismatch',
  'size-mismatch',
  'head-pack-damaged',
  'session-create',
  'wrong-version-loaded',
  'run-error',
  'other',
] as const;
export type ModelReasonCode = (typeof MODEL_REASON_CODES)[number];

// Matched against the app's own sentences (src/model/compat.ts, the worker's model store and engine).
const RULES: Array<[RegExp, ModelReasonCode]> = [
  [/manifest entry/i, 'manifest-entry'],
  [/its input/i, 'input'],
  [/outputs/i, 'outputs'],
  [/embedding has/i, 'embedding-size'],
  [/no "other" class/i, 'no-other-label'],
  [/cannot be named/i, 'labels-unnamed'],
  [/labels do not match/i, 'labels-sha256'],
  [/head pack/i, 'head-pack-damaged'],
  [/larger than its manifest|size/i, 'size-mismatch'],
  [/integrity|sha-?256/i, 'sha256-mismatch'],
  [/was loaded instead/i, 'wrong-version-loaded'],
  [/could not be started|session|onnx|protobuf|wasm/i, 'session-create'],
];

export function modelReasonCode(message: string): ModelReasonCode {
  for (const [re, code] of RULES) if (re.test(message)) return code;
  return 'other';
}
