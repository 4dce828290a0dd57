/**
 * The pipeline's input from the feedback store: only corrections a reviewer
 * (or the two-installs rule) accepted. Pending and rejected ones never train.
 */
import type { CorrectionExport, FeedbackStore } from '../server/storage/types.ts';

export async function* acceptedCorrections(store: FeedbackStore): AsyncIterable<CorrectionExport> {
  for await (const c of store.exportCorrections()) if (c.status === 'accepted') yield c;
}
