/**
 * The cost section of the PR diff report. End to end: the diff CLI on the shared synthesized
 * assembly against a copy in which prod's database class changed the way a config change of
 * `database.instanceClass` changes it (primary and replica, whose class defaults to the primary's).
 * The expected delta is worked out from the price file, line by line.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compareEstimates, renderCostSection } from '../../../scripts/cost/compare';
import { estimateEnvironment } from '../../../scripts/cost/estimate';
import { loadPrices } from '../../../scripts/cost/prices/load';
import { main } from '../../../scripts/diff/cli';
import { ASSEMBLY_DIR, synthResult } from '../../support/assembly';
import { tempDir } from '../diff/fixtures';
import { assumptions, testPrices } from './fixtures';

let work: string;
beforeAll(() => {
  synthResult();
  work = tempDir('cost-diff-');
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A copy of the shared assembly with prod's Data template changed by `mutate`. */
function withProdData(mutate: (resources: Record<string, any>) => void): string {
  const dir = path.join(work, `new-${Date.now()}`);
  fs.cpSync(ASSEMBLY_DIR, dir, { recursive: true });
  const nested = path.join(dir, 'assembly-prod');
  const manifest = JSON.parse(fs.readFileSync(path.join(nested, 'manifest.json'), 'utf8'));
  const [, art] = Object.entries<any>(manifest.artifacts).find(([, a]) => a.displayName === 'prod/Data')!;
  const file = path.join(nested, art.properties.templateFile);
  const t = JSON.parse(fs.readFileSync(file, 'utf8'));
  mutate(t.Resources);
  fs.writeFileSync(file, JSON.stringify(t));
  return dir;
}

async function diff(oldDir: string, newDir: string) {
  let stdout = '';
  let stderr = '';
  const code = await main(['--old', oldDir, '--new', newDir], { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), cwd: process.cwd() });
  return { code, stdout, stderr };
}

const money = (n: number) => `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

test('changing prod database.instanceClass m7g.large → m7g.xlarge shows the right delta, flagged but not blocked', async () => {
  const dbs: string[] = [];
  const dir = withProdData((res) => {
    for (const [id, r] of Object.entries<any>(res)) {
      if (r.Type !== 'AWS::RDS::DBInstance') continue;
      expect(r.Properties.DBInstanceClass).toBe('db.m7g.large');
      r.Properties.DBInstanceClass = 'db.m7g.xlarge';
      dbs.push(id);
    }
  });
  expect(dbs).toHaveLength(2); // primary (Multi-AZ) and replica

  // Seoul prices: instance hours for 2 (Multi-AZ primary) + 1 (replica) instances, and
  // Performance Insights' first paid month (31-day retention) for 2 more vCPUs on each of them.
  const p = loadPrices('ap-northeast-2');
  const price = (k: string) => p.prices[k].usd;
  const primary = (price('rds.instance.db.m7g.xlarge') - price('rds.instance.db.m7g.large')) * 730 * 2 + price('rds.performanceInsights.firstMonth') * (4 - 2) * 2;
  const replica = (price('rds.instance.db.m7g.xlarge') - price('rds.instance.db.m7g.large')) * 730 + price('rds.performanceInsights.firstMonth') * (4 - 2);

  const r = await diff(ASSEMBLY_DIR, dir);
  expect(r.code).toBe(0); // an instance class change is an in-place update; cost never blocks
  const row = r.stdout.split('\n').find((l) => l.startsWith('| **prod** |'))!;
  expect(row).toBeDefined();
  const [, , before, after, delta, share] = row.split('|').map((c) => c.trim());
  const n = (s: string) => Number(s.replace(/[^0-9.-]/g, ''));
  expect(n(delta)).toBeCloseTo(primary + replica, 1);
  expect(delta).toBe(`+${money(primary + replica)}`);
  expect(n(after) - n(before)).toBeCloseTo(primary + replica, 1);
  expect(share).toBe(`+${((100 * (primary + replica)) / n(before)).toFixed(1)}%`);
  expect(row).toContain('⚠️ flagged');
  expect(r.stdout).toMatch(/> \*\*prod's estimated monthly cost rises by \+\d+\.\d%\*\*.*Flagged for review, not blocked\./);
  expect(r.stderr).toMatch(/cost: prod estimate rises \d+\.\d% \(flagged above 10%, not blocked\)/);
  // The two databases are the changed items, each with its own delta; other environments unchanged.
  const items = r.stdout.split('\n').filter((l) => l.startsWith('| `Data/Postgres'));
  expect(items).toHaveLength(2);
  expect(items.find((l) => l.includes('Primary'))).toContain(`+${money(primary)}`);
  expect(items.find((l) => l.includes('Replica'))).toContain(`+${money(replica)}`);
  for (const env of ['dev', 'staging']) expect(r.stdout).toMatch(new RegExp(`^\\| \\*\\*${env}\\*\\* \\| \\$[\\d,.]+ \\| \\$[\\d,.]+ \\| ±\\$0\\.00 \\| \\+?0\\.0% \\|`, 'm'));
});

describe('compareEstimates flag', () => {
  const est = (cls: string) =>
    estimateEnvironment({
      environment: 'x',
      stacks: [{ stackId: 'Data', template: { Resources: { Db: { Type: 'AWS::RDS::DBInstance', Properties: { DBInstanceClass: cls, AllocatedStorage: '20', StorageType: 'gp3' } } } } }],
      prices: testPrices(),
      assumptions: assumptions({ customMetrics: 0 }),
    });
  // medium $73 + storage $2 → large $146 + $2: +97%.
  test.each([
    [true, 0.1, true],
    [true, 1.0, false],
    [false, 0.1, false],
  ])('production=%s, threshold %s → flagged %s', (production, threshold, flagged) => {
    const d = compareEstimates(est('db.t4g.medium'), est('db.t4g.large'), { production, threshold });
    expect(d.deltaUsd).toBeCloseTo(73, 6);
    expect(d.flagged).toBe(flagged);
    expect(renderCostSection([d]).some((l) => l.includes('[!WARNING]'))).toBe(flagged);
  });

  test('a decrease is never flagged', () => {
    expect(compareEstimates(est('db.t4g.large'), est('db.t4g.medium'), { production: true, threshold: 0.1 }).flagged).toBe(false);
  });
});
