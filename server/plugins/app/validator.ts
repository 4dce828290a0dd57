/**
 * Request schemas are TypeBox, checked by TypeBox's compiler instead of
 * Fastify's default Ajv setup, which coerces types (an object where an array
 * is expected becomes a one-item array). Bodies are taken exactly as sent;
 * query strings and params are text by nature, so they are converted to the
 * schema's types (and given its defaults) first.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';

const PART_NAMES: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

export default fp(
  async (app: FastifyInstance) => {
    app.setValidatorCompiler(({ schema, httpPart }) => {
      const typed = schema as TSchema;
      const check = TypeCompiler.Compile(typed);
      const convert = httpPart !== 'body';
      const part = PART_NAMES[httpPart ?? 'body'] ?? httpPart;
      return (data: unknown) => {
        const value = convert ? Value.Convert(typed, Value.Default(typed, Value.Clone(data))) : data;
        if (check.Check(value)) return { value };
        const first = check.Errors(value).First();
        return { error: new Error(`${part}${first?.path ?? ''}: ${first?.message ?? 'does not match the schema'}`) };
      };
    });
  },
  { name: 'typebox-validator' },
);
