/**
 * `AWS::ElastiCache::ReplicationGroup`: node hours for every node (primary and replicas of each
 * shard), and snapshot storage for the retained daily snapshots.
 */
import { line, num, str, type LineDraft } from '../line';
import type { Pricer } from '../types';

export const priceReplicationGroup: Pricer = (ref, ctx) => {
  const p = ref.resource.Properties ?? {};
  const lines: LineDraft[] = [];
  const notPriced: string[] = [];
  const nodeType = str(p.CacheNodeType);
  const shards = num(p.NumNodeGroups) ?? 1;
  const replicas = num(p.ReplicasPerNodeGroup);
  const clusters = num(p.NumCacheClusters);
  const nodes = replicas !== undefined ? shards * (1 + replicas) : (clusters ?? 1);
  if (!nodeType) notPriced.push('CacheNodeType is not a literal');
  else lines.push(line(ctx.prices, `elasticache.node.${nodeType}`, `${nodes} × ${nodeType} node hours (${shards} shard${shards === 1 ? '' : 's'}, ${nodes} node${nodes === 1 ? '' : 's'})`, ctx.prices.hoursPerMonth * nodes));
  const keep = num(p.SnapshotRetentionLimit) ?? 0;
  if (keep > 0) {
    const a = ctx.assumptions;
    lines.push(line(ctx.prices, 'elasticache.backup', `${keep} daily snapshots retained`, a.cacheDataGiB * keep * shards, `${a.cacheDataGiB} GiB of cache data (cost.assumptions.cacheDataGiB)`));
  }
  return { lines, notPriced };
};

export const priceCacheCluster: Pricer = (ref, ctx) => {
  const p = ref.resource.Properties ?? {};
  const nodeType = str(p.CacheNodeType);
  const nodes = num(p.NumCacheNodes) ?? 1;
  if (!nodeType) return { notPriced: ['CacheNodeType is not a literal'] };
  return { lines: [line(ctx.prices, `elasticache.node.${nodeType}`, `${nodes} × ${nodeType} node hours`, ctx.prices.hoursPerMonth * nodes)] };
};
