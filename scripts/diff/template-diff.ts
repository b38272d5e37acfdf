/**
 * Diffs two assemblies stack by stack with @aws-cdk/cloudformation-diff's `fullDiff`, and turns
 * each stack's `TemplateDiff` into plain data the gate and the report use: one entry per changed
 * resource with its impact (from the CloudFormation resource spec), its construct path and why it
 * is stateful; the IAM and security-group changes; and the `cdk diff`-style text for the details.
 */
import { Writable } from 'node:stream';
import { formatDifferences, fullDiff, ResourceImpact, type ResourceDifference, type TemplateDiff } from '@aws-cdk/cloudformation-diff';
import type { Assembly, StackArtifact, Template, TemplateResource } from './assembly';
import { normalizeAssetHashes } from './asset-hashes';
import { statefulReason } from './stateful';

export type ChangeKind = 'added' | 'updated' | 'replaced' | 'destroyed' | 'orphaned' | 'imported';

export interface ResourceChange {
  readonly logicalId: string;
  /** The resource type (the new one when the type changed). */
  readonly resourceType: string;
  /** Construct path from `aws:cdk:path` metadata, when known. */
  readonly path?: string;
  readonly kind: ChangeKind;
  /** True when the replacement is conditional (`MAY_REPLACE`): it depends on the new value. */
  readonly conditional: boolean;
  /** The properties (or `Type`) whose change forces or may force the replacement. */
  readonly replacementCauses: readonly string[];
  /**
   * Properties the resource spec calls a conditional replacement but that the service applies in
   * place ({@link IN_PLACE_DESPITE_SPEC}); such a change is reported as an update.
   */
  readonly inPlaceDespiteSpec?: readonly string[];
  /** Every property or attribute that changed (for updates and replacements). */
  readonly changed: readonly string[];
  /** Why the resource holds data (see stateful.ts); undefined when it does not. */
  readonly stateful?: string;
  /** The old `DeletionPolicy` / `UpdateReplacePolicy`, which decide what happens to the data. */
  readonly deletionPolicy?: string;
  readonly updateReplacePolicy?: string;
}

export interface SecurityChanges {
  readonly iamChanged: boolean;
  /** Positive statements added, negative ones removed, or managed policies added. */
  readonly iamBroadened: boolean;
  readonly securityGroupsChanged: boolean;
  /** Ingress or egress rules added. */
  readonly securityGroupRulesAdded: boolean;
  /** IAM statement changes as rows: `['+'|'-', resource, effect, action, principal, condition]`. */
  readonly iamStatements: readonly (readonly string[])[];
  /** Managed policy attachments: `['+'|'-', resource, managed policy ARN]`. */
  readonly managedPolicies: readonly (readonly string[])[];
  /** Security group rule changes: `['+'|'-', group, 'In'|'Out', protocol, peer]`. */
  readonly securityGroupRules: readonly (readonly string[])[];
}

export interface StackDiff {
  readonly displayName: string;
  readonly environment: string;
  readonly stackId: string;
  /** `added`/`removed`: the stack exists on one side only. */
  readonly status: 'added' | 'removed' | 'changed' | 'unchanged';
  readonly resources: readonly ResourceChange[];
  /** Logical IDs whose only change was an asset hash (new Lambda bundle etc.); not listed in `resources`. */
  readonly assetOnly: readonly string[];
  /** Non-resource sections that changed: `Outputs: X`, `Parameters: Y`, `Conditions: Z`... */
  readonly otherChanges: readonly string[];
  readonly security: SecurityChanges;
  /** The `cdk diff`-style text of the (asset-normalised) changes, without colour. */
  readonly details: string;
}

/**
 * Properties the CloudFormation resource spec marks `causesReplacement: maybe` that the service
 * changes in place. The spec uses "maybe" for "Update requires: Some interruptions" too, so without
 * this list moving the RDS maintenance window or changing the backup retention would look like a
 * possible database replacement and block the PR. Each entry here is a ModifyDBInstance setting:
 * RDS applies it to the running instance (at most with a reboot or a Multi-AZ failover), never by
 * creating a new instance. Keep the list short and certain: a wrong entry hides a replacement.
 */
export const IN_PLACE_DESPITE_SPEC: Readonly<Record<string, ReadonlySet<string>>> = {
  'AWS::RDS::DBInstance': new Set([
    'PreferredMaintenanceWindow',
    'BackupRetentionPeriod',
    'AutoMinorVersionUpgrade',
    'MultiAZ',
    'DBParameterGroupName',
    'StorageType',
  ]),
};

/** Resource types whose changes are bookkeeping, never a reviewable change. */
const NOISE_TYPES = new Set(['AWS::CDK::Metadata']);

const ANSI = /\x1b\[[0-9;]*m/g;
export const stripAnsi = (s: string): string => s.replace(ANSI, '');

/** Diffs every stack present in either assembly, in display-name order. */
export function diffAssemblies(oldAsm: Assembly, newAsm: Assembly): StackDiff[] {
  // Old first, then new: a hash in both names the same content.
  const assets = new Map([...oldAsm.assets, ...newAsm.assets]);
  const oldByName = new Map(oldAsm.stacks.map((s) => [s.displayName, s]));
  const newByName = new Map(newAsm.stacks.map((s) => [s.displayName, s]));
  const names = [...new Set([...oldByName.keys(), ...newByName.keys()])].sort(compareStackNames);
  return names.map((n) => diffStack(oldByName.get(n), newByName.get(n), assets));
}

/** Environment first, then stack, with the top-level (environment-less) stacks last. */
function compareStackNames(a: string, b: string): number {
  const envOf = (s: string) => (s.includes('/') ? 0 : 1);
  return envOf(a) - envOf(b) || a.localeCompare(b);
}

/** Diffs one stack; either side may be missing (stack added or removed). */
export function diffStack(oldStack: StackArtifact | undefined, newStack: StackArtifact | undefined, assets: ReadonlyMap<string, string | undefined> = new Map()): StackDiff {
  const any = (newStack ?? oldStack)!;
  const oldTemplate: Template = oldStack?.template ?? {};
  const newTemplate: Template = newStack?.template ?? {};
  const paths = { ...(oldStack?.paths ?? {}), ...(newStack?.paths ?? {}) };

  // Blind to assets: what changed besides bundles. By content: also which bundles really changed
  // (a bundle built in another directory has a new hash but the same content, and is no change).
  const normalized = diffWithDeepReplacement(normalizeAssetHashes(oldTemplate, assets, false), normalizeAssetHashes(newTemplate, assets, false));
  const byContent = fullDiff(normalizeAssetHashes(oldTemplate, assets, true), normalizeAssetHashes(newTemplate, assets, true));

  const resources: ResourceChange[] = [];
  const assetOnly: string[] = [];
  const noiseIds = new Set<string>();
  byContent.resources.forEachDifference((logicalId, d) => {
    if (!d.isDifferent) return;
    if (isNoise(d)) {
      noiseIds.add(logicalId);
      return;
    }
    const n = normalized.resources.has(logicalId) ? normalized.resources.get(logicalId) : undefined;
    if (!n || !n.isDifferent) assetOnly.push(logicalId);
  });
  normalized.resources.forEachDifference((_id, d) => {
    if (d.isDifferent && isNoise(d)) noiseIds.add(_id);
  });
  normalized.resources.forEachDifference((logicalId, d) => {
    if (!d.isDifferent || isNoise(d)) return;
    const oldRes = oldTemplate.Resources?.[logicalId];
    const newRes = newTemplate.Resources?.[logicalId];
    const path = paths[logicalId] ?? cdkPath(newRes) ?? cdkPath(oldRes);
    resources.push(toResourceChange(logicalId, d, oldRes, newRes, path));
  });
  resources.sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || a.logicalId.localeCompare(b.logicalId));

  for (const id of noiseIds) normalized.resources.remove(id);
  const otherChanges = collectOtherChanges(normalized);
  const status = !oldStack ? 'added' : !newStack ? 'removed' : resources.length + otherChanges.length + assetOnly.length > 0 ? 'changed' : 'unchanged';

  return {
    displayName: any.displayName,
    environment: any.environment,
    stackId: any.stackId,
    status,
    resources,
    assetOnly: assetOnly.sort(),
    otherChanges,
    security: securityChanges(normalized),
    details: resources.length + otherChanges.length > 0 ? renderDetails(normalized, paths) : '',
  };
}

/**
 * `fullDiff` propagates a replacement to the resources that reference the replaced one, but only
 * through a `Ref`/`Fn::GetAtt` that is a whole property value or sits in plain arrays and objects; a
 * reference nested inside another intrinsic (`Fn::Join`, `Fn::Sub`, `Fn::If`...) is missed. A read
 * replica's `SourceDBInstanceIdentifier` is such a case: an ARN joined from the primary's `Ref`. This
 * marks those nested references as replaced too (as `fullDiff` marks the direct ones) and diffs
 * again, until no new replacement appears.
 */
function diffWithDeepReplacement(oldTemplate: Template, newTemplate: Template): TemplateDiff {
  let current = newTemplate;
  let diff = fullDiff(oldTemplate, current);
  const marked = new Set<string>();
  for (let round = 0; round < 50; round++) {
    const replaced = new Set<string>();
    diff.resources.forEachDifference((id, d) => {
      if (d.changeImpact === ResourceImpact.WILL_REPLACE && !marked.has(id)) replaced.add(id);
    });
    if (replaced.size === 0) break;
    replaced.forEach((id) => marked.add(id));
    const next = markNestedReferences(current, replaced);
    if (!next) break;
    current = next;
    diff = fullDiff(oldTemplate, current);
  }
  return diff;
}

/** A copy of the template whose resources refer to `ids` as replaced; undefined when none refers to them. */
function markNestedReferences(template: Template, ids: ReadonlySet<string>): Template | undefined {
  let changed = false;
  const subRef = /\$\{([^}.!]+)((?:\.[^}]*)?)\}/g;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (!v || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1) {
      const [k] = keys;
      const x = o[k];
      if (k === 'Ref' && typeof x === 'string' && ids.has(x)) {
        changed = true;
        return { Ref: `${x} (replaced)` };
      }
      if (k === 'Fn::GetAtt') {
        if (Array.isArray(x) && typeof x[0] === 'string' && ids.has(x[0])) {
          changed = true;
          return { 'Fn::GetAtt': [`${x[0]}(replaced)`, ...x.slice(1)] };
        }
        if (typeof x === 'string' && ids.has(x.split('.')[0])) {
          changed = true;
          return { 'Fn::GetAtt': x.replace(/^[^.]+/, (id) => `${id}(replaced)`) };
        }
        return v;
      }
      if (k === 'Fn::Sub') {
        const subst = (s: unknown) =>
          typeof s === 'string'
            ? s.replace(subRef, (all, id: string, rest: string) => {
                if (!ids.has(id)) return all;
                changed = true;
                return `\${${id}(replaced)${rest}}`;
              })
            : s;
        return { 'Fn::Sub': Array.isArray(x) ? [subst(x[0]), ...x.slice(1).map(walk)] : subst(x) };
      }
    }
    const out: Record<string, unknown> = {};
    for (const [key, val] of Object.entries(o)) out[key] = walk(val);
    return out;
  };
  const resources: Record<string, TemplateResource> = {};
  for (const [id, r] of Object.entries(template.Resources ?? {})) {
    resources[id] = ids.has(id) || r.Properties === undefined ? r : { ...r, Properties: walk(r.Properties) as Record<string, unknown> };
  }
  return changed ? { ...template, Resources: resources } : undefined;
}

const KIND_ORDER: Record<ChangeKind, number> = { destroyed: 0, orphaned: 1, replaced: 2, updated: 3, added: 4, imported: 5 };

function cdkPath(r: TemplateResource | undefined): string | undefined {
  const p = r?.Metadata?.['aws:cdk:path'];
  return typeof p === 'string' ? p : undefined;
}

function isNoise(d: ResourceDifference): boolean {
  return NOISE_TYPES.has(d.newResourceType ?? d.oldResourceType ?? '');
}

function toResourceChange(
  logicalId: string,
  d: ResourceDifference,
  oldRes: TemplateResource | undefined,
  newRes: TemplateResource | undefined,
  path: string | undefined,
): ResourceChange {
  const impact = d.changeImpact;
  let kind: ChangeKind;
  switch (impact) {
    case ResourceImpact.WILL_CREATE: kind = 'added'; break;
    case ResourceImpact.WILL_DESTROY: kind = 'destroyed'; break;
    case ResourceImpact.WILL_ORPHAN: kind = 'orphaned'; break;
    case ResourceImpact.WILL_REPLACE:
    case ResourceImpact.MAY_REPLACE: kind = 'replaced'; break;
    case ResourceImpact.WILL_IMPORT: kind = 'imported'; break;
    default: kind = 'updated'; // WILL_UPDATE, or NO_CHANGE for types without a spec (custom resources): CloudFormation still updates them
  }
  const replacementCauses: string[] = [];
  const changed: string[] = [];
  if (d.resourceTypeChanged) replacementCauses.push('Type');
  d.forEachDifference((type, name, diff) => {
    changed.push(type === 'Property' ? name : `${name} (attribute)`);
    const ci = (diff as { changeImpact?: ResourceImpact }).changeImpact;
    if (ci === ResourceImpact.WILL_REPLACE || ci === ResourceImpact.MAY_REPLACE) replacementCauses.push(name);
  });
  const type = newRes?.Type ?? oldRes?.Type ?? 'unknown';
  let conditional = impact === ResourceImpact.MAY_REPLACE;
  let inPlaceDespiteSpec: string[] | undefined;
  const inPlace = IN_PLACE_DESPITE_SPEC[type];
  if (conditional && inPlace && replacementCauses.length > 0 && replacementCauses.every((p) => inPlace.has(p))) {
    inPlaceDespiteSpec = replacementCauses.splice(0);
    kind = 'updated';
    conditional = false;
  }
  // The type of the resource before the change decides what is lost.
  const before = oldRes ?? newRes;
  return {
    logicalId,
    resourceType: type,
    path,
    kind,
    conditional,
    replacementCauses,
    ...(inPlaceDespiteSpec ? { inPlaceDespiteSpec } : {}),
    changed,
    // A replacement loses the old resource's data; when only the new side is recognisably stateful
    // (an audit tag added in the same change), it most likely held the same data before.
    stateful: kind === 'added' ? statefulReason(newRes) : kind === 'replaced' ? (statefulReason(oldRes) ?? statefulReason(newRes)) : statefulReason(before),
    deletionPolicy: oldRes?.DeletionPolicy,
    updateReplacePolicy: oldRes?.UpdateReplacePolicy,
  };
}

function collectOtherChanges(diff: TemplateDiff): string[] {
  const out: string[] = [];
  const sections: Array<[string, { forEachDifference(cb: (id: string, d: { isAddition: boolean; isRemoval: boolean; isDifferent: boolean }) => void): void }]> = [
    ['Parameters', diff.parameters],
    ['Outputs', diff.outputs],
    ['Conditions', diff.conditions],
    ['Mappings', diff.mappings],
    ['Metadata', diff.metadata],
    ['Other', diff.unknown],
  ];
  for (const [section, coll] of sections) {
    coll.forEachDifference((id, d) => {
      if (d.isDifferent) out.push(`${section}: ${id} (${d.isAddition ? 'added' : d.isRemoval ? 'removed' : 'updated'})`);
    });
  }
  if (diff.description?.isDifferent) out.push('Description (updated)');
  if (diff.transform?.isDifferent) out.push('Transform (updated)');
  return out.sort();
}

function securityChanges(diff: TemplateDiff): SecurityChanges {
  const clean = (rows: string[][]) => rows.slice(1).map((r) => r.map(stripAnsi));
  const iam = diff.iamChanges;
  const sg = diff.securityGroupChanges;
  return {
    iamChanged: iam.hasChanges,
    iamBroadened: iam.permissionsBroadened,
    securityGroupsChanged: sg.hasChanges,
    securityGroupRulesAdded: sg.rulesAdded,
    iamStatements: iam.hasChanges ? clean(iam.summarizeStatements()) : [],
    managedPolicies: iam.hasChanges ? clean(iam.summarizeManagedPolicies()) : [],
    securityGroupRules: sg.hasChanges ? clean(sg.summarize()) : [],
  };
}

/** The `cdk diff` text of the changes, colourless; IAM/SG tables are rendered separately. */
function renderDetails(diff: TemplateDiff, paths: Record<string, string>): string {
  let text = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  }) as Writable & { columns?: number };
  sink.columns = 120;
  formatDifferences(sink, diff, paths, 3);
  return stripAnsi(text).replace(/[ \t]+$/gm, '').trim();
}
