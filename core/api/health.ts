/** /healthz and /readyz, for load balancers and operators. */
import { Type } from '@sinclair/typebox';

export const HealthReplySchema = Type.Object({ status: Type.Literal('ok') }, { additionalProperties: false });
export const ReadyReplySchema = Type.Object({ status: Type.Literal('ready') }, { additionalProperties: false });
/** 503: what is missing, in words an operator can act on. */
export const NotReadyReplySchema = Type.Object({ status: Type.Literal('not ready'), problems: Type.Array(Type.String()) }, { additionalProperties: false });
