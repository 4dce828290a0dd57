/**
 * The wire shapes of install credentials, shared by the server (Fastify
 * response schemas) and the app (its types): POST /v1/installs and
 * DELETE /v1/installs/me, and the error labels a client branches on.
 */
import { Type, type Static } from '@sinclair/typebox';

/** The HTTP auth scheme of install tokens: `Authorization: Install <token>`. */
export const INSTALL_AUTH_SCHEME = 'Install';

export const InstallCredentialSchema = Type.Object(
  {
    /** Random, issued by the server; every event of this install carries it. */
    installId: Type.String(),
    /** Opaque; send it back as `Authorization: Install <token>`. */
    token: Type.String(),
    issuedAt: Type.String(),
  },
  { additionalProperties: false },
);
export type InstallCredential = Static<typeof InstallCredentialSchema>;

export const DeletedCountsSchema = Type.Object(
  {
    events: Type.Integer({ minimum: 0 }),
    corrections: Type.Integer({ minimum: 0 }),
    photos: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

export const DeleteInstallResultSchema = Type.Object(
  {
    installId: Type.String(),
    /** What was removed from the server's store. */
    deleted: DeletedCountsSchema,
  },
  { additionalProperties: false },
);
export type DeleteInstallResult = Static<typeof DeleteInstallResultSchema>;

export const InstallParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

export const RevokeResultSchema = Type.Object(
  {
    installId: Type.String(),
    revokedAt: Type.String(),
    reason: Type.String(),
  },
  { additionalProperties: false },
);

/**
 * `error` labels of a 401 from routes that take an install token. Every one
 * means "this credential is no good": get a new one (POST /v1/installs).
 */
export const INSTALL_AUTH_ERRORS = ['install token required', 'install token invalid', 'install unknown', 'install revoked'] as const;
export type InstallAuthError = (typeof INSTALL_AUTH_ERRORS)[number];
