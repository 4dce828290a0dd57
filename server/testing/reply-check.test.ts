import { describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { Type } from '@sinclair/typebox';
import { checkRepliesAgainstSchemas } from './reply-check.ts';

describe('checkRepliesAgainstSchemas', () => {
  async function app() {
    const a = Fastify({ logger: false });
    checkRepliesAgainstSchemas(a);
    const Closed = Type.Object({ kept: Type.String() });
    a.get('/complete', { schema: { response: { 200: Closed } } }, async () => ({ kept: 'x' }));
    a.get('/drops', { schema: { response: { 200: Closed } } }, async () => ({ kept: 'x', lost: 1 }));
    a.get('/rounds', { schema: { response: { 200: Type.Object({ n: Type.Integer() }) } } }, async () => ({ n: 0.5 }));
    a.get('/open', { schema: { response: { 200: Type.Object({ kept: Type.String() }, { additionalProperties: true }) } } }, async () => ({ kept: 'x', extra: [1] }));
    return a;
  }
  it('passes a reply its schema describes, and an open one', async () => {
    const a = await app();
    expect((await a.inject('/complete')).statusCode).toBe(200);
    expect((await a.inject('/open')).json()).toEqual({ kept: 'x', extra: [1] });
  });
  it('fails a reply whose schema dropped a property or rounded a number', async () => {
    const a = await app();
    for (const url of ['/drops', '/rounds']) {
      const res = await a.inject(url);
      expect(res.statusCode, url).toBe(500);
    }
  });
});
