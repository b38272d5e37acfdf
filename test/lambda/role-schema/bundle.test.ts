/**
 * The role-schema custom resource's deployed bundle (issue 10, scope 8): the esbuild output that
 * the shared `cdk synth` made (no bundling here), its size, and that its registry validation agrees
 * with the synth-time one (lib/config/schema.ts nests the same serviceRegistrySchema).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_SERVICES, ENVIRONMENTS, loadEnvironment } from '../../../lib/config';
import { jsonLog } from '../../../lambda/role-schema/log';
import { ASSEMBLY_DIR, stacksOf, templateJson } from '../../support/assembly';

/** The Lambda's code budget: index.js as deployed (the source map beside it is not loaded unless an error is printed). */
const MAX_BUNDLE_BYTES = 200 * 1000;

/** index.js of prod's role-schema handler, from the shared assembly. */
function bundlePath(): string {
  for (const s of stacksOf('prod')) {
    const resources = templateJson('prod', s.displayName.split('/')[1]).Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
    for (const r of Object.values(resources)) {
      if (r.Type === 'AWS::Lambda::Function' && /applies the three-tier role schema/.test(String(r.Properties.Description))) {
        return path.join(ASSEMBLY_DIR, `asset.${String(r.Properties.Code.S3Key).replace(/\.zip$/, '')}`, 'index.js');
      }
    }
  }
  throw new Error('no role-schema handler function in the prod assembly');
}

test(`the handler's code is under ${MAX_BUNDLE_BYTES / 1000} kB`, () => {
  const size = fs.statSync(bundlePath()).size;
  expect(size).toBeLessThan(MAX_BUNDLE_BYTES);
});

describe('the deployed handler and the synth-time config validate the registry alike', () => {
  type Verdict = { ok: true; services: unknown } | { ok: false; issues: string[] };

  /**
   * The bundle's own parseProperties (the handler validates the Services property with it), in a
   * node process of its own: zod keeps its configuration (the message locale) on globalThis, so in
   * this process the bundle would borrow the one lib/config loaded.
   */
  function lambdaVerdicts(cases: readonly unknown[]): Verdict[] {
    const script = `
      const mod = require(process.argv[1]);
      const out = JSON.parse(process.argv[2]).map((services) => {
        const props = { DatabaseHost: 'h', DatabasePort: '5432', DatabaseName: 'd', MasterSecretArn: 'a', AppSchema: 'public', LoginSecrets: '{}', Services: JSON.stringify(services) };
        try { return { ok: true, services: mod.parseProperties(props).services }; }
        catch (e) { return { ok: false, message: e.message }; }
      });
      process.stdout.write(JSON.stringify(out));`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script, bundlePath(), JSON.stringify(cases)], { encoding: 'utf8' })) as Array<{ ok: boolean; services?: unknown; message?: string }>;
    return out.map((r) => {
      if (r.ok) return { ok: true, services: r.services };
      // "Invalid service registry: Services[0].prefix: msg; Services[1].name: msg"
      const body = r.message!.replace(/^Invalid service registry: /, '');
      return { ok: false, issues: body.split(/; (?=Services)/).map((x) => x.replace(/^Services/, '')).sort() };
    });
  }

  /** loadEnvironment, as bin/app.ts runs it at synth. */
  function synthVerdict(services: unknown): Verdict {
    const raw = structuredClone(ENVIRONMENTS.dev) as Record<string, any>;
    raw.roles = { ...raw.roles, services };
    try {
      return { ok: true, services: loadEnvironment('dev', raw).roles.services };
    } catch (e) {
      // "  - roles.services[0].prefix: msg (got "x")"
      const lines = (e as Error).message.split('\n').filter((l) => l.startsWith('  - roles.services'));
      if (lines.length === 0) throw e; // another part of the config: not what this test compares
      return { ok: false, issues: lines.map((l) => l.replace(/^ {2}- roles\.services/, '').replace(/ \(got .*\)$/, '')).sort() };
    }
  }

  const CASES: Array<[string, unknown]> = [
    ['the seed registry', ENVIRONMENTS.dev.roles?.services],
    // (The dev cache config names seed services, so valid registries keep them.)
    ['auth defaulted and iam', [...DEFAULT_SERVICES, { name: 'alpha', prefix: 'ab_' }, { name: 'beta', prefix: 'cd_', auth: 'iam' }]],
    ['a prefix without "_"', [{ name: 'gatherer', prefix: 'gt' }]],
    ['an upper-case prefix and a bad name', [{ name: 'Gatherer', prefix: 'GT_' }]],
    ['a prefix too long', [{ name: 'gatherer', prefix: 'abcdefghi_' }]],
    ['a duplicate prefix', [{ name: 'a1', prefix: 'gt_' }, { name: 'b1', prefix: 'gt_' }]],
    ['a duplicate name', [{ name: 'aa', prefix: 'gt_' }, { name: 'aa', prefix: 'ag_' }]],
    ['an unknown auth', [{ name: 'aa', prefix: 'gt_', auth: 'kerberos' }]],
    ['an unknown key', [{ name: 'aa', prefix: 'gt_', owner: 'x' }]],
    ['a missing prefix', [{ name: 'aa' }]],
    ['not an array', { name: 'aa', prefix: 'gt_' }],
    ['an empty registry', []],
  ];
  let lambda: Verdict[];
  beforeAll(() => {
    lambda = lambdaVerdicts(CASES.map(([, services]) => services));
  });

  test.each(CASES.map(([name], i) => [name, i] as const))('%s', (_, i) => {
    const synth = synthVerdict(CASES[i][1]);
    expect(lambda[i]).toEqual(synth);
    // Sanity: the messages are English sentences, not zod/mini's bare "Invalid input".
    const v = lambda[i];
    if (!v.ok) for (const issue of v.issues) expect(issue).not.toMatch(/: Invalid input$/);
  });
});

test('the handler logs one JSON object per line, at the console method of its level (in place of Powertools, for size)', () => {
  const lines: Array<[string, string]> = [];
  const log = jsonLog('role-schema', { info: (l: string) => lines.push(['info', l]), warn: (l: string) => lines.push(['warn', l]), error: (l: string) => lines.push(['error', l]) });
  log.info('role schema applied', { executed: 3 });
  log.warn('not repaired: x');
  log.error('failed');
  expect(lines.map(([lvl, l]) => [lvl, JSON.parse(l)])).toEqual([
    ['info', { message: 'role schema applied', service: 'role-schema', executed: 3 }],
    ['warn', { message: 'not repaired: x', service: 'role-schema' }],
    ['error', { message: 'failed', service: 'role-schema' }],
  ]);
});
