/**
 * Can this app run a model version? Checked before anything is downloaded:
 * a version whose input, outputs or labels the app cannot handle is refused
 * with a reason, and the device keeps what it has.
 */
import { Value } from '@sinclair/typebox/value';
import { ModelVersionSchema, labelsText } from '../../core/manifest.ts';
import { OTHER_LABEL, type Taxonomy } from '../../core/taxonomy.ts';
import { MAX_EMBEDDING_LENGTH } from '../../core/telemetry.ts';

/** Square centre crops this app's preprocessing supports (core/preprocess, OffscreenCanvas at 1:1). */
export const SUPPORTED_INPUT = { minSize: 32, maxSize: 512, layout: 'NCHW', channels: 'RGB', crop: 'center' } as const;

async function sha256Text(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** null when the app can run it; otherwise why not, in a sentence. */
export async function incompatibility(entry: unknown, taxonomy: Taxonomy): Promise<string | null> {
  if (!Value.Check(ModelVersionSchema, entry)) {
    const first = Value.Errors(ModelVersionSchema, entry).First();
    return `its manifest entry is not one this app understands (${first ? `${first.path || '/'}: ${first.message}` : 'invalid'})`;
  }
  const v = entry;
  const i = v.input;
  if (i.layout !== SUPPORTED_INPUT.layout || i.channels !== SUPPORTED_INPUT.channels || i.crop !== SUPPORTED_INPUT.crop) {
    return `its input is ${i.layout}/${i.channels}/${i.crop} crop; this app feeds ${SUPPORTED_INPUT.layout}/${SUPPORTED_INPUT.channels} centre crops`;
  }
  if (i.size < SUPPORTED_INPUT.minSize || i.size > SUPPORTED_INPUT.maxSize || i.resizeShorter < i.size) {
    return `its input size ${i.size} px (resize ${i.resizeShorter}) is outside what this app prepares (${SUPPORTED_INPUT.minSize}–${SUPPORTED_INPUT.maxSize} px, resize at least the crop)`;
  }
  if (!v.outputs.logits || !v.outputs.embedding) return 'it does not name both outputs this app reads (logits and embedding)';
  if (v.outputs.embeddingSize > MAX_EMBEDDING_LENGTH) return `its embedding has ${v.outputs.embeddingSize} values; at most ${MAX_EMBEDDING_LENGTH} can be reported`;
  if (!v.labels.includes(OTHER_LABEL)) return `its labels have no "${OTHER_LABEL}" class`;
  const known = new Set([...taxonomy.taxa.map((t) => t.id), ...(v.extraTaxa ?? []).map((t) => t.id), OTHER_LABEL]);
  const unnamed = v.labels.filter((l) => !known.has(l));
  if (unnamed.length) return `${unnamed.length} of its labels cannot be named from the taxonomy or its extra taxa (${unnamed.slice(0, 3).join(', ')}${unnamed.length > 3 ? ', …' : ''})`;
  const sha = await sha256Text(labelsText(v.labels));
  if (sha !== v.labelsSha256) return `its labels do not match their labelsSha256 (${sha.slice(0, 12)}…, expected ${v.labelsSha256.slice(0, 12)}…)`;
  return null;
}
