/**
 * Install credentials in the feedback store: issuing, looking up, revoking,
 * the deployment's generated secrets, the evidence that makes an install
 * independent enough to count toward automatic acceptance, and deleting
 * everything an install sent ("Delete my data").
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database, InstallRow } from './rows.ts';
import { removeInstall } from './rollups.ts';
import { removePackInstall } from './pack-rollups.ts';

const IN_CHUNK = 500;
const key = (id: string) => id.toLowerCase();

/** What the auto-accept rule needs to know about an install. */
export interface InstallEvidence {
  installId: string;
  issuedAt: string;
  networkHash: string;
  revoked: boolean;
  /** Identification events this install has stored. */
  identifications: number;
}

export interface DeletedCounts {
  events: number;
  corrections: number;
  photos: number;
}

export class InstallRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * The named secret, made by `make` the first time any instance asks.
   * Insert-if-absent then read, so two instances starting together agree.
   */
  async secret(name: string, make: () => string, now = new Date()): Promise<string> {
    await this.db
      .insertInto('server_secrets')
      .values({ name, value: make(), created_at: now.toISOString() })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const row = await this.db.selectFrom('server_secrets').select('value').where('name', '=', name).executeTakeFirstOrThrow();
    return row.value;
  }

  async issue(row: { installId: string; issuedAt: Date; networkHash: string }): Promise<void> {
    await this.db
      .insertInto('installs')
      .values({
        install_id: key(row.installId),
        issued_at: row.issuedAt.toISOString(),
        network_hash: row.networkHash,
        revoked_at: null,
        revoked_reason: null,
      })
      .execute();
  }

  async get(installId: string): Promise<InstallRow | undefined> {
    return this.db.selectFrom('installs').selectAll().where('install_id', '=', key(installId)).executeTakeFirst();
  }

  /** The install as revoked, or undefined when there is no such install; revoking twice keeps the first time and reason. */
  async revoke(installId: string, reason: string, now = new Date()): Promise<InstallRow | undefined> {
    await this.db.updateTable('installs').set({ revoked_at: now.toISOString(), revoked_reason: reason }).where('install_id', '=', key(installId)).where('revoked_at', 'is', null).execute();
    return this.get(installId);
  }

  /** Every revoked install (an admin's decision or a deletion): nothing they sent may train the model. */
  async revokedIds(): Promise<Set<string>> {
    const rows = await this.db.selectFrom('installs').select('install_id').where('revoked_at', 'is not', null).execute();
    return new Set(rows.map((r) => r.install_id));
  }

  async evidence(installIds: Iterable<string>): Promise<Map<string, InstallEvidence>> {
    const ids = [...new Set([...installIds].map(key))];
    const out = new Map<string, InstallEvidence>();
    for (let i = 0; i < ids.length; i += IN_CHUNK) {
      const part = ids.slice(i, i + IN_CHUNK);
      const rows = await this.db.selectFrom('installs').selectAll().where('install_id', 'in', part).execute();
      // From the rollups: the raw events may be past retention.
      const counts = await this.db
        .selectFrom('rollup_install_days')
        .select(['install_id', (eb) => eb.fn.sum<number>('n').as('n')])
        .where('install_id', 'in', part)
        .groupBy('install_id')
        .execute();
      const n = new Map(counts.map((c) => [c.install_id, Number(c.n)]));
      for (const r of rows) {
        out.set(r.install_id, { installId: r.install_id, issuedAt: r.issued_at, networkHash: r.network_hash, revoked: r.revoked_at !== null, identifications: n.get(r.install_id) ?? 0 });
      }
    }
    return out;
  }

  /**
   * Deletes every event, correction and photo the install sent, in one
   * transaction, and revokes its credential so nothing more is linked to it.
   * Answers with what was there.
   */
  async deleteData(installId: string, now = new Date()): Promise<DeletedCounts> {
    const id = key(installId);
    return this.db.transaction().execute(async (trx: Transaction<Database>) => {
      // Revoked first: on PostgreSQL this takes the row lock that every insertBatch of this install
      // takes too, so a batch either commits before the deletion (and is deleted) or sees the
      // revocation and stores nothing. The network hash goes with the data.
      await trx.updateTable('installs').set({ revoked_at: now.toISOString(), revoked_reason: 'deleted by its user', network_hash: '' }).where('install_id', '=', id).execute();
      // Out of the rollups too, while its events are still there to say what they added.
      await removeInstall(trx, id);
      await removePackInstall(trx, id);
      const mine = trx.selectFrom('corrections').select('event_id').where('install_id', '=', id);
      const photos = await trx.deleteFrom('photos').where('event_id', 'in', mine).executeTakeFirst();
      const corrections = await trx.deleteFrom('corrections').where('install_id', '=', id).executeTakeFirst();
      const events = await trx.deleteFrom('events').where('install_id', '=', id).executeTakeFirst();
      return { events: Number(events.numDeletedRows), corrections: Number(corrections.numDeletedRows), photos: Number(photos.numDeletedRows) };
    });
  }

  /** Rows an install has in each table ('*': of every install), for tests and simulations. */
  async counts(installId: string): Promise<DeletedCounts> {
    const id = key(installId);
    const all = installId === '*';
    const one = async (q: Promise<{ n: number | string | bigint } | undefined>) => Number((await q)?.n ?? 0);
    const mine = this.db
      .selectFrom('corrections')
      .select('event_id')
      .where((eb) => (all ? eb.lit(true) : eb('install_id', '=', id)));
    return {
      events: await one(
        this.db
          .selectFrom('events')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where((eb) => (all ? eb.lit(true) : eb('install_id', '=', id)))
          .executeTakeFirst(),
      ),
      corrections: await one(
        mine
          .clearSelect()
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirst(),
      ),
      photos: await one(
        this.db
          .selectFrom('photos')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('event_id', 'in', mine)
          .executeTakeFirst(),
      ),
    };
  }
}
