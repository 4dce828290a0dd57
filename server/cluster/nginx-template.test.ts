/**
 * deploy/nginx.conf.template, the one config behind both scripts/cluster.sh
 * and compose.yaml: compose sets exactly the variables the template uses,
 * and the rendered config passes `nginx -t` (in the default suite; the
 * cluster itself runs in `npm run test:cluster`).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../node/paths.ts';
import { IN_CI } from '../testing/backends.ts';

const template = readFileSync(path.join(REPO_ROOT, 'deploy/nginx.conf.template'), 'utf8');
const compose = readFileSync(path.join(REPO_ROOT, 'compose.yaml'), 'utf8');
const NGINX = '/usr/sbin/nginx';

describe('the nginx config template', () => {
  it('uses only WILDSIGHT_ variables, and compose.yaml sets each of them for its nginx', () => {
    const used = new Set([...template.replace(/^#.*$/gm, '').matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]));
    expect([...used].sort()).toEqual(['WILDSIGHT_BURST', 'WILDSIGHT_LISTEN', 'WILDSIGHT_RATE', 'WILDSIGHT_UPSTREAMS']);
    const nginxService = compose.slice(compose.indexOf('\n  nginx:'));
    for (const v of used) expect(nginxService, v).toMatch(new RegExp(`^\\s+${v}:`, 'm'));
    // Either YAML quote style (the formatter writes single quotes).
    expect(nginxService).toMatch(/NGINX_ENVSUBST_FILTER: (["'])\^WILDSIGHT_\1/);
    expect(nginxService).toContain('./deploy/nginx.conf.template:/etc/nginx/templates/default.conf.template');
  });

  it.skipIf(!existsSync(NGINX) && !IN_CI)('renders to a config nginx accepts, with the limit on the API and idempotent retries only for events', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wildsight-nginx-'));
    try {
      const rendered = execFileSync('envsubst', ['${WILDSIGHT_UPSTREAMS} ${WILDSIGHT_LISTEN} ${WILDSIGHT_RATE} ${WILDSIGHT_BURST}'], {
        input: template,
        env: {
          ...process.env,
          WILDSIGHT_UPSTREAMS: 'server 127.0.0.1:1 max_fails=1 fail_timeout=5s; server 127.0.0.1:2;',
          WILDSIGHT_LISTEN: '127.0.0.1:3',
          WILDSIGHT_RATE: '600',
          WILDSIGHT_BURST: '60',
        },
      }).toString();
      expect(rendered).toContain('rate=600r/m');
      expect(rendered).not.toContain('${');
      // nginx's own variables survive the rendering.
      expect(rendered).toContain('$binary_remote_addr');
      // POST may go to the next instance only where it is idempotent (events, by eventId).
      const nonIdempotent = rendered.split('\n').filter((l) => l.includes('non_idempotent'));
      expect(nonIdempotent).toHaveLength(1);
      expect(rendered.slice(rendered.indexOf('location = /v1/events'))).toMatch(/^[^}]*non_idempotent/);
      mkdirSync(path.join(dir, 'tmp'));
      writeFileSync(path.join(dir, 'wildsight.conf'), rendered);
      writeFileSync(
        path.join(dir, 'nginx.conf'),
        `pid ${dir}/nginx.pid; error_log ${dir}/error.log; events {} http { access_log off; client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp; uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp; include ${dir}/wildsight.conf; }`,
      );
      const check = spawnSync(NGINX, ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8' });
      expect(check.status, check.stderr).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
