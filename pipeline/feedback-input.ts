/**
 * The pipeline's input from the feedback store: only corrections that are
 * evidence (grounded: they cite a stored identification of the same install
 * and version; within their install's daily cap) and accepted, by a reviewer
 * or by the independent-installs rule. A proposed (new) name only ever
 * trains once a reviewer accepted it. Pending, rejected, ungrounded and
 * over-cap corrections never train, nor anything from a revoked install.
 */
import type { CorrectionExport, FeedbackStore } from '../server/storage/types.ts';

export const isTrainable = (c: Pick<CorrectionExport, 'status' | 'grounding' | 'counted' | 'taxonId' | 'decidedBy'>): boolean =>
  c.status === 'accepted' && c.grounding === 'grounded' && c.counted && (c.taxonId !== null || c.decidedBy === 'reviewer');

/** Trainable corrections, leaving out every install an admin revoked (what it sent before counts no more than after). */
export async function* acceptedCorrections(store: FeedbackStore): AsyncIterable<CorrectionExport> {
  const revoked = await store.installs.revokedIds();
  for await (const c of store.exportCorrections()) if (isTrainable(c) && !revoked.has(c.installId)) yield c;
}
