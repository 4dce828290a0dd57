/**
 * 0015: each grounded correction keeps what its identification answered
 * (`predicted`: the top-1 taxon, or "(abstain)"), so the review queue counts
 * the installs behind a (predicted -> corrected) pair in one grouped query
 * instead of reading back every agreeing correction's identification (on 10
 * million events that was over a second per page; issue #17). Ingest sets it
 * when a correction is grounded (../kysely-store.ts); corrections already
 * grounded get it here, a page at a time.
 */
import type { Kysely, Migration } from 'kysely';
import type { Flavor } from './index.ts';
import { identificationFact } from '../../../core/telemetry-facts.ts';
import { labelOf } from '../rollups.ts';
import { pagesByEventId } from '../event-pages.ts';

const PAGE = 2000;

async function backfill(db: Kysely<any>) {
  const grounded = db.selectFrom('corrections').select(['event_id', 'corrects_event_id']).where('grounding', '=', 'grounded');
  for await (const rows of pagesByEventId(grounded, PAGE) as AsyncGenerator<Array<{ event_id: string; corrects_event_id: string }>>) {
    const cited: Array<{ event_id: string; model_version: string; hour: string; payload: string }> = await db
      .selectFrom('events')
      .select(['event_id', 'model_version', 'hour', 'payload'])
      .where('type', '=', 'identification')
      .where('event_id', 'in', [...new Set(rows.map((r) => r.corrects_event_id))])
      .execute();
    const label = new Map<string, string>();
    for (const e of cited) {
      const f = identificationFact(e.event_id, e.model_version, e.hour, JSON.parse(e.payload) as Record<string, unknown>);
      if (f) label.set(e.event_id, labelOf(f));
    }
    await setPredicted(
      db,
      rows.flatMap((r) => (label.has(r.corrects_event_id) ? [{ eventId: r.event_id, predicted: label.get(r.corrects_event_id)! }] : [])),
    );
  }
}

/** One update per distinct label (a handful per batch), not one per correction. */
export async function setPredicted(db: Kysely<any>, rows: Array<{ eventId: string; predicted: string }>): Promise<void> {
  const byLabel = new Map<string, string[]>();
  for (const r of rows) byLabel.set(r.predicted, [...(byLabel.get(r.predicted) ?? []), r.eventId]);
  for (const [predicted, ids] of byLabel) {
    for (let i = 0; i < ids.length; i += 500) {
      await db
        .updateTable('corrections')
        .set({ predicted })
        .where('event_id', 'in', ids.slice(i, i + 500))
        .execute();
    }
  }
}

export function correctionPredicted(_flavor: Flavor): Record<string, Migration> {
  return {
    '0015_correction_predicted': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('corrections').addColumn('predicted', 'text').execute();
        // The review queue groups the evidence for the taxa of a page.
        await db.schema.createIndex('corrections_taxon').on('corrections').columns(['taxon_id']).execute();
        await backfill(db);
      },
      async down(db: Kysely<any>) {
        await db.schema.dropIndex('corrections_taxon').execute();
        await db.schema.alterTable('corrections').dropColumn('predicted').execute();
      },
    },
  };
}
