/**
 * What the README and the operator-facing text say, checked against the app:
 * - the architecture diagram is the one `npm run docs:architecture` generates from the shared
 *   assembly (so it cannot drift);
 * - the environment table's database and cache rows agree with lib/config/environments.ts;
 * - no alarm description, Slack message (the deployed bundles' text) or runbook points at
 *   "seed 00N", a source document operators do not have: each says the reason instead.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ENVIRONMENTS, loadEnvironment } from '../../lib/config';
import { architectureMermaid, BEGIN, END } from '../../scripts/docs/architecture';
import { ASSEMBLY_DIR, REPO, stacksOf, synthResult, templateJson } from '../support/assembly';

const README = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
const ENV_NAMES = Object.keys(ENVIRONMENTS);
const SEED = /\bseed[ -]?0\d\d\b/i;

test('the architecture diagram is current (else: npm run docs:architecture)', () => {
  synthResult();
  const inReadme = README.slice(README.indexOf(BEGIN) + BEGIN.length, README.indexOf(END)).trim();
  const generated = architectureMermaid(ASSEMBLY_DIR, 'prod');
  if (inReadme !== generated) {
    throw new Error(`The README's architecture diagram is stale: run \`npm run docs:architecture -- --assembly ${path.relative(REPO, ASSEMBLY_DIR)}\` (or after npx cdk synth, without --assembly).\n\nExpected:\n${generated}`);
  }
  expect(generated).toMatch(/prodData\["<b>prod-Data<\/b><br\/>2 × RDS PostgreSQL instance/);
});

describe('the environment table agrees with the config', () => {
  const row = (label: string) => {
    const line = README.split('\n').find((l) => l.startsWith(`| ${label} |`));
    if (!line) throw new Error(`no "${label}" row in the README's environment table`);
    return line.split('|').slice(2, 2 + ENV_NAMES.length).map((c) => c.trim());
  };
  const configs = ENV_NAMES.map((n) => loadEnvironment(n, ENVIRONMENTS[n as keyof typeof ENVIRONMENTS]));
  const yn = (b: boolean) => (b ? 'yes' : 'no');

  test.each([
    ['PostgreSQL class', (c: (typeof configs)[number]) => `db.${c.database.instanceClass}`],
    ['Multi-AZ / replica', (c: (typeof configs)[number]) => `${yn(c.database.multiAz)} / ${yn(c.database.readReplica)}`],
    ['backup retention', (c: (typeof configs)[number]) => `${c.database.backupRetentionDays} days`],
    ['deletion protection', (c: (typeof configs)[number]) => yn(c.database.deletionProtection)],
    ['enhanced monitoring', (c: (typeof configs)[number]) => `${c.database.monitoringIntervalSeconds} s`],
    ['cache', (c: (typeof configs)[number]) => `${c.cache.replicas + 1} × cache.${c.cache.nodeType}${c.cache.replicas > 0 ? ', Multi-AZ failover' : ''}`],
  ])('%s', (label, expected) => {
    expect(row(label)).toEqual(configs.map(expected));
  });
});

describe('operator-facing text stands on its own (no "seed 00N")', () => {
  test.each(ENV_NAMES)('%s: alarm descriptions and EventBridge rule descriptions', (env) => {
    const found: string[] = [];
    for (const s of stacksOf(env)) {
      const stack = s.displayName.split('/')[1];
      for (const [id, r] of Object.entries((templateJson(env, stack).Resources ?? {}) as Record<string, { Type: string; Properties?: Record<string, unknown> }>)) {
        const text = JSON.stringify([r.Properties?.AlarmDescription, r.Properties?.Description]);
        if (SEED.test(text)) found.push(`${s.displayName}/${id}: ${text.match(SEED)![0]}`);
      }
    }
    expect(found).toEqual([]);
  });

  test('the deployed functions (Slack messages, digests) say no "seed 00N"', () => {
    const bundles = fs.readdirSync(ASSEMBLY_DIR).filter((d) => d.startsWith('asset.')).flatMap((d) => {
      const dir = path.join(ASSEMBLY_DIR, d);
      return fs.statSync(dir).isDirectory() ? fs.readdirSync(dir).filter((f) => /\.(m?js)$/.test(f)).map((f) => path.join(dir, f)) : [];
    });
    expect(bundles.length).toBeGreaterThan(2);
    // The SQL the functions run is bundled as text; its `--` comments never reach a message.
    const hits = bundles.flatMap((f) =>
      fs.readFileSync(f, 'utf8').split('\n').flatMap((l, i) => (SEED.test(l) && !/^\s*--/.test(l) ? [`${path.relative(REPO, f)}:${i + 1}: ${l.trim().slice(0, 160)}`] : [])),
    );
    expect(hits).toEqual([]);
  });

  test('the runbooks', () => {
    const dir = path.join(REPO, 'docs', 'runbooks');
    const hits = fs.readdirSync(dir).flatMap((f) =>
      fs.readFileSync(path.join(dir, f), 'utf8').split('\n').flatMap((l, i) => (SEED.test(l) ? [`${f}:${i + 1}: ${l.trim()}`] : [])),
    );
    expect(hits).toEqual([]);
  });
});
