/** The pinned price files are validated against their schema, and the schema catches bad files. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadPrices, parsePriceFile, PriceFileError, PRICES_DIR, pricedRegions } from '../../../scripts/cost/prices/load';
import { REQUIRED_PRICE_KEYS } from '../../../scripts/cost/prices/schema';
import { ENVIRONMENTS, loadEnvironment } from '../../../lib/config';

const raw = (region: string) => JSON.parse(fs.readFileSync(path.join(PRICES_DIR, `${region}.json`), 'utf8'));

describe('price files', () => {
  test('there is one for ap-northeast-2 and one for us-east-1', () => {
    expect(pricedRegions()).toEqual(expect.arrayContaining(['ap-northeast-2', 'us-east-1']));
  });

  test.each(['ap-northeast-2', 'us-east-1'])('%s matches the schema, with its date read and https sources', (region) => {
    const f = loadPrices(region);
    expect(f.region).toBe(region);
    expect(f.readOn).toBe('2026-12-06');
    for (const s of f.sources) expect(s.url).toMatch(/^https:\/\//);
    for (const k of REQUIRED_PRICE_KEYS) expect(f.prices[k]).toBeDefined();
  });

  test.each(['ap-northeast-2', 'us-east-1'])('%s prices every instance class, node type and worker type the config uses', (region) => {
    const f = loadPrices(region);
    for (const name of Object.keys(ENVIRONMENTS)) {
      const c = loadEnvironment(name, ENVIRONMENTS[name as keyof typeof ENVIRONMENTS]);
      expect(f.prices[`rds.instance.db.${c.database.instanceClass}`]).toBeDefined();
      if (c.database.replicaInstanceClass) expect(f.prices[`rds.instance.db.${c.database.replicaInstanceClass}`]).toBeDefined();
      expect(f.prices[`elasticache.node.cache.${c.cache.nodeType}`]).toBeDefined();
      expect(f.prices[`ec2.instance.${c.workers.instanceType}`]).toBeDefined();
    }
  });

  test('an estimate without a note is rejected', () => {
    const f = raw('us-east-1');
    f.prices['kms.key'] = { usd: 1, unit: 'month', source: 'kms', estimate: true };
    expect(() => parsePriceFile(JSON.stringify(f), 'x.json')).toThrow(/prices\.kms\.key\.note: an estimate needs a note/);
  });

  test('a price citing an unknown source, a missing required key and a bad date are each named', () => {
    const f = raw('us-east-1');
    f.prices['kms.key'].source = 'nowhere';
    delete f.prices['ebs.gp3'];
    f.readOn = '6 Dec 2026';
    let err: Error | undefined;
    try {
      parsePriceFile(JSON.stringify(f), 'x.json');
    } catch (e) {
      err = e as Error;
    }
    expect(err).toBeInstanceOf(PriceFileError);
    expect(err!.message).toMatch(/readOn: must be an ISO date/);
    expect(err!.message).toMatch(/prices\.kms\.key\.source: unknown source "nowhere"/);
    expect(err!.message).toMatch(/prices\.ebs\.gp3: is required/);
  });

  test('a negative price and an unknown unit are rejected', () => {
    const f = raw('us-east-1');
    f.prices['ebs.gp3'].usd = -1;
    f.prices['kms.key'].unit = 'fortnight';
    expect(() => parsePriceFile(JSON.stringify(f), 'x.json')).toThrow(/ebs\.gp3\.usd[\s\S]*kms\.key\.unit|kms\.key\.unit[\s\S]*ebs\.gp3\.usd/);
  });

  test('a region without a price file is named, with the regions that have one', () => {
    expect(() => loadPrices('eu-west-3')).toThrow(/no price file for region "eu-west-3"; priced regions: ap-northeast-2, us-east-1/);
  });
});
