/**
 * Every EventBridge rule of every environment, matched against AWS's own published sample events
 * (test/fixtures/aws-samples/, each folder's README names the page): the rule must match the
 * samples of the failure it exists for, and must not match the samples of the success case. A
 * rule whose detail-type has no entry here fails the test: add AWS's sample first.
 *
 * Matching is done offline by test/support/event-pattern.ts (why hand-written: see its header).
 */
import { matchesEventPattern } from '../support/event-pattern';
import { cloudTrailServiceEvent, ENVS, literalPattern, resources, sample, type EnvName } from './support';

interface Ctx {
  env: EnvName;
  /** The rule's pattern, CloudFormation references written as `<LogicalId.Attr>`. */
  pattern: Record<string, any>;
}

interface Contract {
  /** The AWS page that documents the event and publishes the samples. */
  doc: string;
  /** Samples the rule exists for; every one must match. */
  match: string[];
  /** Samples of the success case (or of other jobs); none may match. */
  noMatch: string[];
  /**
   * Puts this app's identifiers into a sample (only those fields), for rules scoped to this
   * app's resources. When set, the unadapted failure samples (someone else's resource) must NOT
   * match: the scope is tested too.
   */
  adapt?: (event: Record<string, any>, ctx: Ctx) => void;
  /** Samples AWS does not print but documents in words, derived from a printed one (the reason is given). */
  derived?: { from: string; set: Record<string, unknown>; why: string }[];
  /** Turns a sample file that is not an EventBridge event (a CloudTrail record) into one. */
  envelope?: (sample: Record<string, any>) => Record<string, any>;
}

const BACKUP_DOC = 'https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html';
const EBS_DOC = 'https://docs.aws.amazon.com/ebs/latest/userguide/ebs-cloud-watch-events.html';
const DLM_DOC = 'https://docs.aws.amazon.com/ebs/latest/userguide/monitor-cloudwatch-events.html';
const RDS_EVENTS_DOC = 'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Events.overview.html#events-examples';
const SECRETS_DOC = 'https://docs.aws.amazon.com/secretsmanager/latest/userguide/retrieve-ct-entries.html';

const CONTRACTS: Record<string, Contract> = {
  // RDS events of the PostgreSQL instances (lib/constructs/alarms/database-alarms.ts: through
  // EventBridge because RDS sends no notification to an encrypted SNS topic). Scoped to the
  // instances by ARN in `resources`, so AWS's samples (someone else's instance) must not match.
  'RDS DB Instance Event': {
    doc: RDS_EVENTS_DOC,
    match: ['rds/eventbridge-db-instance-failover.json', 'rds/eventbridge-db-instance-stopped.json'],
    noMatch: ['rds/eventbridge-db-parameter-group.json', 'rds/eventbridge-db-snapshot-deleted.json'],
    adapt: (e, { pattern }) => {
      if (Array.isArray(pattern.resources)) e.resources = [pattern.resources[0]];
    },
  },
  'Backup Job State Change': {
    doc: BACKUP_DOC,
    match: ['backup/eventbridge-backup-job-failed.json', 'backup/eventbridge-backup-job-aborted.json', 'backup/eventbridge-backup-job-expired.json'],
    noMatch: ['backup/eventbridge-backup-job-completed.json'],
    adapt: (e, { env }) => {
      if (e.detail.backupVaultName) e.detail.backupVaultName = `${env}-platform`;
    },
  },
  'Copy Job State Change': {
    doc: BACKUP_DOC,
    match: ['backup/eventbridge-copy-job-failed.json'],
    noMatch: ['backup/eventbridge-copy-job-completed.json'],
    adapt: (e, { env }) => {
      e.detail.sourceBackupVaultArn = e.detail.sourceBackupVaultArn.replace(/:backup-vault:.*$/, `:backup-vault:${env}-platform`);
    },
  },
  // Restore job events name no vault (the FAILED sample has none): the rule is account-wide.
  'Restore Job State Change': {
    doc: BACKUP_DOC,
    match: ['backup/eventbridge-restore-job-failed.json'],
    noMatch: ['backup/eventbridge-restore-job-completed.json'],
  },
  'EBS Snapshot Notification': {
    doc: EBS_DOC,
    match: [],
    derived: [{
      from: 'ebs-dlm/eventbridge-ebs-create-snapshot-succeeded.json',
      set: { result: 'failed' },
      why: 'the page says createSnapshot "can have a result of either succeeded or failed" but prints only the success case',
    }],
    // Snapshot copies are not this app's; a failed copy is someone else's job.
    noMatch: ['ebs-dlm/eventbridge-ebs-create-snapshot-succeeded.json', 'ebs-dlm/eventbridge-ebs-copy-snapshot-failed.json'],
  },
  'EBS Multi-Volume Snapshots Completion Status': {
    doc: EBS_DOC,
    match: ['ebs-dlm/eventbridge-ebs-multi-volume-snapshots-failed.json'],
    noMatch: ['ebs-dlm/eventbridge-ebs-multi-volume-snapshots-succeeded.json'],
  },
  'DLM Policy State Change': {
    doc: DLM_DOC,
    match: ['ebs-dlm/eventbridge-dlm-policy-error-role.json', 'ebs-dlm/eventbridge-dlm-policy-error-limit.json'],
    noMatch: [],
    // The rule is scoped to this stack's policy: the sample then names it.
    adapt: (e, { pattern }) => {
      if (Array.isArray(pattern.resources)) e.resources = [...pattern.resources];
    },
  },
  // Rotation failures (lib/constructs/secret-rotation-alerts.ts); more in secrets-manager.test.ts.
  'AWS Service Event via CloudTrail': {
    doc: SECRETS_DOC,
    match: ['secrets-manager/cloudtrail-record-rotation-failed.json'],
    noMatch: [],
    envelope: cloudTrailServiceEvent,
    // The rule is scoped to this environment's database secrets: the sample then names one.
    adapt: (e, { env }) => {
      e.detail.additionalEventData.SecretId = e.detail.additionalEventData.SecretId.replace(/:secret:.*$/, `:secret:platform/${env}/postgres/master-a1b2c3`);
    },
  },
};

const load = (c: Contract, file: string) => (c.envelope ? c.envelope(sample(file)) : sample(file));

function rulesOf(env: EnvName) {
  return resources(env, 'AWS::Events::Rule')
    .filter((r) => r.Properties.EventPattern)
    .map((r) => ({ id: `${r.stack}/${r.logicalId}`, pattern: literalPattern(r.Properties.EventPattern) as Record<string, any> }));
}

function failureSamples(c: Contract): { name: string; event: Record<string, any> }[] {
  return [
    ...c.match.map((f) => ({ name: f, event: load(c, f) })),
    ...(c.derived ?? []).map((d) => {
      const event = load(c, d.from);
      Object.assign(event.detail, d.set);
      return { name: `${d.from} with ${JSON.stringify(d.set)} (${d.why})`, event };
    }),
  ];
}

const cases = ENVS.flatMap((env) => rulesOf(env).flatMap((rule) => (rule.pattern['detail-type'] as string[] | undefined ?? ['(no detail-type)']).map((dt) => [env, rule.id, dt, rule.pattern] as const)));

describe('EventBridge rules against AWS sample events', () => {
  test('the assembly has event rules to check in every environment', () => {
    for (const env of ENVS) expect(rulesOf(env).length).toBeGreaterThan(0);
  });

  test.each(cases)('%s %s: %s', (env, _id, detailType, pattern) => {
    const contract = CONTRACTS[detailType];
    if (!contract) throw new Error(`No AWS sample event for detail-type "${detailType}": copy AWS's published samples to test/fixtures/aws-samples/ and add a contract here`);
    const ctx: Ctx = { env, pattern };
    const failures = failureSamples(contract).filter((s) => s.event['detail-type'] === detailType);
    expect(failures.length).toBeGreaterThan(0);
    for (const s of failures) {
      const ours = structuredClone(s.event);
      contract.adapt?.(ours, ctx);
      expect({ sample: s.name, matches: matchesEventPattern(ours, pattern) }).toEqual({ sample: s.name, matches: true });
      if (contract.adapt) {
        // The sample as published names someone else's vault or policy: the scope must exclude it.
        expect({ sample: `${s.name} (unadapted)`, matches: matchesEventPattern(s.event, pattern) }).toEqual({ sample: `${s.name} (unadapted)`, matches: false });
      }
    }
    for (const f of contract.noMatch) {
      const ours = load(contract, f);
      contract.adapt?.(ours, ctx);
      expect({ sample: f, matches: matchesEventPattern(ours, pattern) }).toEqual({ sample: f, matches: false });
    }
  });

  // The other direction: every failure listed above reaches some rule in every environment, so a
  // rule that loses a detail-type (the multi-volume snapshot event, say) fails here.
  test.each(ENVS)('%s: every documented failure above is caught by a rule', (env) => {
    const rules = rulesOf(env);
    const missed = Object.values(CONTRACTS).flatMap((c) => failureSamples(c).filter((s) => !rules.some((r) => {
      const ours = structuredClone(s.event);
      c.adapt?.(ours, { env, pattern: r.pattern });
      return matchesEventPattern(ours, r.pattern);
    })).map((s) => s.name));
    expect(missed).toEqual([]);
  });
});
