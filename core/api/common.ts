/**
 * Building blocks of the wire schemas: written once here so a pattern
 * cannot drift between the server's checks and the app's types.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** A model version, e.g. "1.0.0". */
export const SemverSchema = Type.String({ pattern: '^\\d+\\.\\d+\\.\\d+$' });

/** A UTC day, YYYY-MM-DD. */
export const DaySchema = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });

export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** What every error answer looks like (server/plugins/app/errors.ts). */
export const ErrorReplySchema = Type.Object(
  {
    /** A short stable label a client can branch on. */
    error: Type.String(),
    /** A sentence a person can act on. */
    message: Type.String(),
  },
  { additionalProperties: false },
);
export type ErrorReply = Static<typeof ErrorReplySchema>;

/** A body that is only "why": every admin change is logged with its reason. */
export const ReasonSchema = Type.String({ minLength: 1, maxLength: 1000 });
