/**
 * Every error leaves as JSON `{ error, message }`: `error` a short stable
 * label a client can branch on, `message` a sentence a person can act on.
 * Server faults are logged in full but not echoed to the client.
 */
import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { ErrorReplySchema } from '../../../core/api/common.ts';

export type { ErrorReply as ErrorBody } from '../../../core/api/common.ts';
import type { ErrorReply as ErrorBody } from '../../../core/api/common.ts';

const mb = (bytes: number) => `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;

/** An error with an HTTP status, a label and a message for the client. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly label: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function describeError(err: FastifyError | HttpError, req: FastifyRequest, status: number): ErrorBody {
  if (err instanceof HttpError) return { error: err.label, message: err.message };
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const limit = req.routeOptions.bodyLimit;
      return {
        error: 'payload too large',
        message: `the request body is over the ${limit ? mb(limit) : ''} limit for ${req.method} ${req.routeOptions.url ?? req.url}; split the batch into smaller ones`.replace('  ', ' '),
      };
    }
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { error: 'malformed JSON', message: 'the body is not valid JSON; send one JSON object' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { error: 'malformed JSON', message: 'the body is empty; send one JSON object' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { error: 'unsupported media type', message: `content-type ${req.headers['content-type'] ?? '(none)'} is not accepted here; send application/json` };
    case 'FST_ERR_VALIDATION':
      return { error: 'invalid request', message: err.message };
  }
  if (status === 429) return { error: 'too many requests', message: `${err.message}; slow down and retry after the time in the Retry-After header` };
  if (status === 400 && err instanceof SyntaxError) return { error: 'malformed JSON', message: `the body is not valid JSON (${err.message})` };
  if (status >= 500) return { error: 'internal error', message: 'the server could not handle this request; it has been logged, try again later' };
  return { error: 'bad request', message: err.message };
}

export default fp(
  async (app: FastifyInstance) => {
    // Every route's error replies are this one shape: declared on each route (a status the route
    // names itself wins) so the OpenAPI document says so. Static files are not API.
    app.addHook('onRoute', (route) => {
      if (route.schema?.hide) return;
      const response = (route.schema?.response ?? {}) as Record<string, unknown>;
      route.schema = { ...route.schema, response: { '4xx': ErrorReplySchema, '5xx': ErrorReplySchema, ...response } };
    });
    app.setErrorHandler((err: FastifyError | HttpError, req, reply) => {
      const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
      if (status >= 500) req.log.error({ err }, 'request failed');
      else req.log.info({ status, code: (err as FastifyError).code, msg: err.message }, 'request refused');
      return reply
        .code(status)
        .type('application/json; charset=utf-8')
        .send(describeError(err, req, status));
    });
  },
  { name: 'errors' },
);
