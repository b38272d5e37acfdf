/**
 * Asset-hash noise. A Lambda whose bundle changed gets a new `S3Key` (`<sha256>.zip`) and a new
 * `aws:asset:path` (`asset.<sha256>`); nothing else about it changed. Such changes are real (new
 * code ships) but say nothing a reviewer can judge from a template, so the report counts them
 * instead of listing them.
 *
 * A template is normalised by replacing every asset hash with a placeholder: the hashes the
 * assemblies' asset manifests publish (by a fingerprint of the asset's content, so that a bundle
 * that only moved is no change at all), plus any 64-hex token shaped like an asset reference
 * (`asset.<hash>`, `<hash>.zip|.json|.tar|.tgz`) for assemblies whose asset manifests are missing.
 */
import type { Template } from './assembly';

export const ASSET_PLACEHOLDER = '<asset-hash>';

const ASSET_SHAPED = /(?<=asset\.)[0-9a-f]{64}|[0-9a-f]{64}(?=\.(?:zip|json|tar|tgz)\b)/g;

/**
 * A deep copy of `template` with asset hashes replaced. Without `byContent`, every asset hash
 * (known or asset-shaped) becomes {@link ASSET_PLACEHOLDER}: the template as if assets never
 * changed. With `byContent`, a known asset whose content is on disk becomes `<asset:fingerprint>`
 * (equal for equal content, see assembly.ts `fingerprint`) and every other hash stays as it is.
 */
export function normalizeAssetHashes(template: Template, assets: ReadonlyMap<string, string | undefined>, byContent = true): Template {
  const hashes = [...assets.keys()].filter((h) => /^[0-9a-zA-Z]{16,}$/.test(h));
  const known = hashes.length > 0 ? new RegExp(hashes.join('|'), 'g') : undefined;
  const replaceIn = (s: string): string => {
    if (byContent) {
      // Content unknown: the hash itself is the best evidence of a change.
      return known ? s.replace(known, (h) => (assets.get(h) ? `<asset:${assets.get(h)}>` : h)) : s;
    }
    return (known ? s.replace(known, ASSET_PLACEHOLDER) : s).replace(ASSET_SHAPED, ASSET_PLACEHOLDER);
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return replaceIn(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x);
      return out;
    }
    return v;
  };
  return walk(template) as Template;
}
