/**
 * Every event kind an EventBridge rule of this stack can deliver gets a specific message (issue
 * 11): for each `source` × `detail-type` in the rules of every environment's synthesized
 * templates (the shared assembly), AWS's own samples of that kind (test/fixtures/aws-samples) are
 * recognised by a family other than the fallbacks. Kinds whose samples are not whole events (the
 * GuardDuty findings and the Secrets Manager CloudTrail record, which their tests put in the
 * documented envelope) are checked with the bare envelope.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { classify } from '../../../lambda/notifier/classify';
import { parseEvent } from '../../../lambda/notifier/parse';
import { stacksOf } from '../../support/assembly';

const SAMPLES = path.resolve(__dirname, '..', '..', 'fixtures', 'aws-samples');

/** Every AWS sample that is a whole EventBridge event, by `source|detail-type`. */
function eventBridgeSamples(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const family of fs.readdirSync(SAMPLES)) {
    const dir = path.join(SAMPLES, family);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const e = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
      if (typeof e.source === 'string' && typeof e['detail-type'] === 'string') {
        const key = `${e.source}|${e['detail-type']}`;
        out.set(key, [...(out.get(key) ?? []), path.join(family, file)]);
      }
    }
  }
  return out;
}

/** `source|detail-type` pairs of every rule in every environment. */
function routedKinds(): string[] {
  const kinds = new Set<string>();
  for (const env of ['dev', 'staging', 'prod']) {
    for (const stack of stacksOf(env)) {
      const t = JSON.parse(fs.readFileSync(stack.templateFile, 'utf8'));
      for (const r of Object.values<any>(t.Resources ?? {})) {
        if (r.Type !== 'AWS::Events::Rule') continue;
        const p = r.Properties?.EventPattern ?? {};
        const sources: string[] = Array.isArray(p.source) ? p.source : [];
        const types: string[] = Array.isArray(p['detail-type']) ? p['detail-type'] : [];
        for (const s of sources) for (const d of types) if (typeof s === 'string' && typeof d === 'string') kinds.add(`${s}|${d}`);
      }
    }
  }
  return [...kinds].sort();
}

describe('every routed event kind has a formatter and an AWS sample', () => {
  const samples = eventBridgeSamples();
  const routed = routedKinds();

  test('the stack routes EventBridge events at all (else this test proves nothing)', () => {
    expect(routed.length).toBeGreaterThan(0);
  });

  test.each(routed.map((k) => [k]))('%s', (kind) => {
    const files = samples.get(kind) ?? [];
    if (files.length === 0) {
      const [source, detailType] = kind.split('|');
      const [env] = parseEvent({ version: '0', id: 'x', 'detail-type': detailType, source, account: '123456789012', time: '2026-12-06T00:00:00Z', region: 'ap-northeast-2', resources: [], detail: {} });
      expect([kind, classify(env).kind]).not.toEqual([kind, 'eventbridge']);
      return;
    }
    for (const f of files) {
      const [env] = parseEvent(JSON.parse(fs.readFileSync(path.join(SAMPLES, f), 'utf8')));
      expect([f, classify(env).kind]).not.toEqual([f, 'eventbridge']);
      expect([f, classify(env).kind]).not.toEqual([f, 'text']);
    }
  });
});
