import * as fs from 'node:fs';
import * as path from 'node:path';
import { AssemblyError, readAssembly } from '../../../scripts/diff/assembly';
import { dataResources, tempDir, writeAssembly } from './fixtures';

const HASH = '9'.repeat(64);

describe('readAssembly', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('reads nested Stage assemblies and top-level stacks, with environment and stack names', () => {
    writeAssembly(dir, { 'dev/Data': { Resources: dataResources() }, 'prod/Data': { Resources: {} }, GitHubOidc: { Resources: {} } }, { assetHashes: [HASH] });
    const asm = readAssembly(dir);
    expect(asm.stacks.map((s) => [s.displayName, s.environment, s.stackId, s.stackName])).toEqual([
      ['dev/Data', 'dev', 'Data', 'dev-Data'],
      ['GitHubOidc', '', 'GitHubOidc', 'GitHubOidc'],
      ['prod/Data', 'prod', 'Data', 'prod-Data'],
    ]);
    expect(asm.stacks[0].template.Resources?.DatabaseInstance.Type).toBe('AWS::RDS::DBInstance');
  });

  test('assets come from the asset manifests, without the stack templates themselves', () => {
    writeAssembly(dir, { 'dev/Data': { Resources: {} } }, { assetHashes: [HASH] });
    expect([...readAssembly(dir).assets]).toEqual([[HASH, undefined]]);
  });

  test('an asset on disk gets a content fingerprint that ignores source maps', () => {
    const [a, b, c] = ['1', '2', '3'].map((x) => x.repeat(64));
    writeAssembly(dir, { 'dev/Obs': { Resources: {} } }, {
      assetFiles: {
        [a]: { 'index.js': 'exports.handler = 1;', 'index.js.map': '{"sources":["../../base/lambda/x.ts"]}' },
        [b]: { 'index.js': 'exports.handler = 1;', 'index.js.map': '{"sources":["../../../work/main/lambda/x.ts"]}' },
        [c]: { 'index.js': 'exports.handler = 2;', 'index.js.map': '{"sources":["../../base/lambda/x.ts"]}' },
      },
    });
    const assets = readAssembly(dir).assets;
    expect(assets.get(a)).toMatch(/^[0-9a-f]{16}$/);
    expect(assets.get(b)).toBe(assets.get(a));
    expect(assets.get(c)).not.toBe(assets.get(a));
  });

  test('construct paths: aws:cdk:path in the template wins over the metadata file', () => {
    writeAssembly(dir, { 'dev/Data': { Resources: dataResources() } });
    const s = readAssembly(dir).stacks[0];
    expect(s.paths.Cache).toBe('dev/Data/CacheConstruct/Resource');
    expect(s.paths.DatabaseInstance).toBe('dev/Data/Database/Instance/Resource');
  });

  test('a directory without manifest.json is a clear error', () => {
    expect(() => readAssembly(dir)).toThrow(AssemblyError);
    expect(() => readAssembly(dir)).toThrow(/is not a cloud assembly \(no manifest.json\)/);
  });

  test('a broken template names the file', () => {
    writeAssembly(dir, { 'dev/Data': { Resources: {} } });
    const file = fs.readdirSync(path.join(dir, 'assembly-dev')).find((f) => f.endsWith('.template.json'))!;
    fs.writeFileSync(path.join(dir, 'assembly-dev', file), '{ nope');
    expect(() => readAssembly(dir)).toThrow(new RegExp(`stack template .*${file} is not valid JSON`));
  });
});
