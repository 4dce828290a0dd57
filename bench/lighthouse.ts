/**
 * npm run bench:lighthouse — Lighthouse (its default mobile preset: a
 * mid-range phone's screen, 4x CPU slowdown and a slow 4G link, simulated)
 * on the app as `npm start` serves it, in Debian's Chromium. Prints the
 * performance and accessibility scores, total byte weight, CLS and every
 * audit that did not pass; writes bench/results/lighthouse.json. `npm run
 * bench` runs it too.
 *
 * LIGHTHOUSE_RUNS (default 1) repeats the run and reports the median scores:
 * performance scores move between runs on this shared machine.
 * LIGHTHOUSE_LHR=FILE writes the last run's whole report there.
 */
import './built.ts'; // first: builds what is missing before the imports below load
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { launch } from 'chrome-launcher';
import { tmpdir } from 'node:os';
import path from 'node:path';
import lighthouse from 'lighthouse';
import { CHROMIUM_PATH } from '../harness/chromium.ts';
import { startServerProcess } from '../node/server-process.ts';
import { REPO_ROOT } from '../node/paths.ts';
import { median } from '../core/stats.ts';

export interface LighthouseRun {
  performance: number;
  accessibility: number;
  totalByteWeight: number;
  cls: number;
  lcpMs: number;
  fcpMs: number;
  tbtMs: number;
  /** Audits scored below 1 (in the two categories), with Lighthouse's one-line summary. */
  failing: Array<{ id: string; category: string; score: number | null; title: string; displayValue?: string; items?: string[] }>;
}
export interface LighthouseResult {
  runs: LighthouseRun[];
  median: { performance: number; accessibility: number; cls: number; totalByteWeight: number };
}

/**
 * Debian's Chromium, launched by chrome-launcher with its defaults, as the
 * Lighthouse CLI does (a Chromium started by hand with our own flags gave
 * Lighthouse traces without a navigation start: NO_NAVSTART).
 */
async function launchChromium() {
  const chrome = await launch({ chromePath: CHROMIUM_PATH, chromeFlags: ['--headless=new', '--no-sandbox'], logLevel: 'error' });
  return {
    port: chrome.port,
    close: async () => {
      chrome.kill();
    },
  };
}

/** What an audit points at (a URL, an element's selector), so a failure says where to look. */
function itemsOf(details: unknown): string[] {
  const items = (details as { items?: Array<Record<string, unknown>> } | undefined)?.items ?? [];
  return items
    .flatMap((it) => {
      const node = it.node as { selector?: string; snippet?: string } | undefined;
      const where = it.url ?? node?.selector ?? node?.snippet;
      return typeof where === 'string' ? [where] : []; // tables and trees without a URL or an element say nothing short
    })
    .slice(0, 8);
}

async function once(url: string): Promise<LighthouseRun> {
  const chrome = await launchChromium();
  try {
    const result = await lighthouse(url, { port: chrome.port, output: 'json', logLevel: 'error', onlyCategories: ['performance', 'accessibility'] });
    if (!result) throw new Error('Lighthouse returned nothing');
    const lhr = result.lhr;
    // LIGHTHOUSE_LHR=FILE keeps the whole report of the last run, for digging into an audit.
    if (process.env.LIGHTHOUSE_LHR) writeFileSync(process.env.LIGHTHOUSE_LHR, JSON.stringify(lhr));
    if (lhr.runtimeError) throw new Error(`Lighthouse: ${lhr.runtimeError.code} ${lhr.runtimeError.message}`);
    const num = (id: string) => Number(lhr.audits[id]?.numericValue ?? NaN);
    const failing: LighthouseRun['failing'] = [];
    for (const [category, cat] of Object.entries(lhr.categories)) {
      for (const ref of cat.auditRefs) {
        const a = lhr.audits[ref.id];
        // Informative and not-applicable audits have no score; manual ones are not run.
        if (!a || a.score === null || a.score >= 1 || a.scoreDisplayMode === 'manual' || a.scoreDisplayMode === 'notApplicable' || a.scoreDisplayMode === 'informative') continue;
        failing.push({ id: a.id, category, score: a.score, title: a.title, ...(a.displayValue ? { displayValue: a.displayValue } : {}), items: itemsOf(a.details) });
      }
    }
    return {
      performance: Math.round((lhr.categories.performance?.score ?? 0) * 100),
      accessibility: Math.round((lhr.categories.accessibility?.score ?? 0) * 100),
      totalByteWeight: num('total-byte-weight'),
      cls: num('cumulative-layout-shift'),
      lcpMs: num('largest-contentful-paint'),
      fcpMs: num('first-contentful-paint'),
      tbtMs: num('total-blocking-time'),
      failing,
    };
  } finally {
    await chrome.close();
  }
}

/** Starts the real server as `npm start` runs it (a throwaway data folder), and runs Lighthouse `runs` times on its page. */
export async function lighthouseMobile(runs = Number(process.env.LIGHTHOUSE_RUNS ?? 1), log: (m: string) => void = () => {}): Promise<LighthouseResult> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'wildsight-lh-data-'));
  const server = await startServerProcess({ DATA_DIR: dataDir });
  try {
    const out: LighthouseRun[] = [];
    for (let i = 0; i < runs; i++) {
      log(`Lighthouse mobile run ${i + 1}/${runs}`);
      out.push(await once(`${server.url}/`));
    }
    return {
      runs: out,
      median: {
        performance: median(out.map((r) => r.performance)),
        accessibility: median(out.map((r) => r.accessibility)),
        cls: median(out.map((r) => r.cls)),
        totalByteWeight: median(out.map((r) => r.totalByteWeight)),
      },
    };
  } finally {
    await server.stop('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The result as markdown lines (the bench's table and bench:lighthouse print the same). */
export function lighthouseTable(r: LighthouseResult): string[] {
  const lines = [
    `## Lighthouse mobile (default preset, simulated throttling), ${r.runs.length} run(s)`,
    '',
    '| run | performance (target ≥ 95) | accessibility (target 100) | total byte weight | CLS (target < 0.1) | FCP | LCP | TBT |',
    '|---|---|---|---|---|---|---|---|',
    ...r.runs.map(
      (x, i) =>
        `| ${i + 1} | ${x.performance} | ${x.accessibility} | ${(x.totalByteWeight / 1024 / 1024).toFixed(2)} MB | ${x.cls.toFixed(3)} | ${x.fcpMs.toFixed(0)} ms | ${x.lcpMs.toFixed(0)} ms | ${x.tbtMs.toFixed(0)} ms |`,
    ),
  ];
  lines.push(
    '',
    `Median: performance ${r.median.performance}, accessibility ${r.median.accessibility}, CLS ${r.median.cls.toFixed(3)}, total byte weight ${(r.median.totalByteWeight / 1024 / 1024).toFixed(2)} MB.`,
  );
  const failing = new Map<string, string>();
  for (const x of r.runs)
    for (const a of x.failing) failing.set(`${a.category}: ${a.id}`, `${a.title}${a.displayValue ? ` (${a.displayValue})` : ''}, score ${a.score}${a.items?.length ? `: ${a.items.join(', ')}` : ''}`);
  lines.push('', failing.size ? 'Audits that did not pass in some run:' : 'Every scored audit passed.', ...[...failing].map(([k, v]) => `- ${k} — ${v}`));
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await lighthouseMobile(undefined, (m) => process.stderr.write(`bench:lighthouse: ${m}\n`));
  mkdirSync(path.join(REPO_ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(path.join(REPO_ROOT, 'bench', 'results', 'lighthouse.json'), JSON.stringify({ date: new Date().toISOString(), ...r }, null, 2) + '\n');
  console.log(lighthouseTable(r).join('\n'));
}
