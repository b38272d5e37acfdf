/**
 * Which resources hold data that a replacement or deletion would lose.
 *
 * Stateful by type: an RDS DB instance (primary or read replica), an ElastiCache replication
 * group, an EBS volume, a KMS key, a Secrets Manager secret, an AWS Backup vault.
 *
 * A CloudWatch log group is stateful only when it holds audit data. A log group counts as an
 * audit log group when either
 *   - it carries the tag `data-classification` = `audit` (the explicit, preferred marker; put it
 *     on any log group that keeps audit records: `Tags.of(logGroup).add('data-classification', 'audit')`), or
 *   - its literal `LogGroupName` has an `audit` path segment or word (`/platform/prod/audit`,
 *     `/aws/rds/instance/x/audit`, `db-audit`), or is an RDS PostgreSQL log export
 *     (`/aws/rds/instance/<id>/postgresql` or `/aws/rds/cluster/<id>/postgresql`), which carries the
 *     database's statement/connection audit trail (seed 001's audit log).
 *
 * Any other resource whose `DeletionPolicy` is `Retain`, `RetainExceptOnCreate` or `Snapshot` is
 * stateful too: its author said that it keeps something worth keeping. Log groups are the one
 * exception: aws-cdk-lib gives every log group `DeletionPolicy: Retain` by default, so the policy
 * says nothing about what a log group holds, and the audit rule above decides.
 */
import type { TemplateResource } from './assembly';

/** The tag that marks a log group as holding audit data. */
export const AUDIT_LOG_TAG = { key: 'data-classification', value: 'audit' } as const;

const STATEFUL_TYPES: Readonly<Record<string, string>> = {
  'AWS::RDS::DBInstance': 'RDS DB instance: holds the database',
  'AWS::ElastiCache::ReplicationGroup': 'ElastiCache replication group: holds the cache data and its snapshots',
  'AWS::EC2::Volume': 'EBS volume: holds the data on the disk',
  'AWS::KMS::Key': 'KMS key: data encrypted under it cannot be decrypted once the key is gone',
  'AWS::SecretsManager::Secret': 'Secrets Manager secret: a new secret has a new value and ARN, and its consumers lose the old credentials',
  'AWS::Backup::BackupVault': 'Backup vault: holds the recovery points',
};

const RETAINING_POLICIES = new Set(['Retain', 'RetainExceptOnCreate', 'Snapshot']);

/** Why a resource is stateful, or undefined when it is not. */
export function statefulReason(resource: TemplateResource | undefined): string | undefined {
  if (!resource || typeof resource.Type !== 'string') return undefined;
  const props = (resource.Properties ?? {}) as Record<string, unknown>;
  if (resource.Type === 'AWS::RDS::DBInstance' && props.SourceDBInstanceIdentifier !== undefined) {
    return 'RDS read replica: serves reads; a new replica must copy the whole database again';
  }
  const byType = STATEFUL_TYPES[resource.Type];
  if (byType) return byType;
  if (resource.Type === 'AWS::Logs::LogGroup') {
    const audit = auditLogGroupEvidence(props);
    return audit ? `CloudWatch log group holding audit data (${audit})` : undefined;
  }
  if (resource.DeletionPolicy && RETAINING_POLICIES.has(resource.DeletionPolicy)) {
    return `DeletionPolicy ${resource.DeletionPolicy}: the template marks it as keeping data`;
  }
  return undefined;
}

/** How a log group was recognised as holding audit data, or undefined when it was not. */
export function auditLogGroupEvidence(props: Record<string, unknown>): string | undefined {
  const tags = Array.isArray(props.Tags) ? (props.Tags as Array<{ Key?: unknown; Value?: unknown }>) : [];
  const tag = tags.find((t) => t && t.Key === AUDIT_LOG_TAG.key && typeof t.Value === 'string' && t.Value.toLowerCase() === AUDIT_LOG_TAG.value);
  if (tag) return `tag ${AUDIT_LOG_TAG.key}=${AUDIT_LOG_TAG.value}`;
  const name = renderName(props.LogGroupName);
  if (name !== undefined) {
    if (/^\/aws\/rds\/(instance|cluster)\/[^/]+\/postgresql$/.test(name)) return `RDS PostgreSQL log export ${name}`;
    if (/(^|[/_.\-#])audit([/_.\-#]|s?$)/i.test(name)) return `name ${name}`;
  }
  return undefined;
}

/**
 * A log group name as a string, with intrinsics rendered as `${...}` placeholders
 * (`/platform/${AWS::StackName}/audit`), so that a name built from tokens is recognised too.
 */
function renderName(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const join = o['Fn::Join'];
  if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
    return join[1].map((p) => renderName(p) ?? '${token}').join(join[0]);
  }
  const sub = o['Fn::Sub'];
  if (typeof sub === 'string') return sub;
  if (Array.isArray(sub) && typeof sub[0] === 'string') return sub[0];
  return '${token}';
}
