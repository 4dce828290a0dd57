/**
 * Which version a retrain starts from: the one devices run. That is the live
 * active version in the database (model_status rows, read with the same
 * rules as GET /v1/models), not the manifest's `active`, which only says what
 * was active when the registry was built: after a promotion or a rollback
 * the two differ, and a retrain from the manifest would start from a retired
 * version.
 */
import type { Manifest } from '../core/manifest.ts';
import type { FeedbackStore } from '../server/storage/types.ts';
import { activeVersion, rolloutDb, statuses, statusRows } from '../server/storage/rollout-store.ts';

export async function liveActiveVersion(store: FeedbackStore, manifest: Manifest): Promise<string> {
  return activeVersion(manifest, statuses(manifest, await statusRows(rolloutDb(store))));
}
