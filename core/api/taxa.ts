/** GET /v1/taxa: the taxa a correction may name, as the server sends them and the app reads them. */
import { Type, type Static } from '@sinclair/typebox';
import { RANKS } from '../taxonomy.ts';

export const TaxonEntrySchema = Type.Object(
  {
    id: Type.String(),
    commonName: Type.String(),
    scientificName: Type.Union([Type.String(), Type.Null()]),
    rank: Type.Union([...RANKS.map((r) => Type.Literal(r)), Type.Null()]),
    lineage: Type.Record(Type.String(), Type.String()),
    /** launch: in the model; proposed: named by users, accepted by a reviewer, not in the model yet. */
    source: Type.Union([Type.Literal('launch'), Type.Literal('proposed'), Type.Literal('pack')]),
  },
  { additionalProperties: false },
);
export const TaxaResponseSchema = Type.Object({ taxonomyVersion: Type.String(), taxa: Type.Array(TaxonEntrySchema) }, { additionalProperties: false });
export type TaxonEntry = Static<typeof TaxonEntrySchema>;
export type TaxaResponse = Static<typeof TaxaResponseSchema>;
