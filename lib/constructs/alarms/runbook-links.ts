import { Annotations, Token, type IAspect } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { type IConstruct } from 'constructs';

/** The runbook files under `docs/runbooks/`, one per area. */
export const RUNBOOK_FILES = ['database', 'cache', 'workers', 'backups', 'alerting'] as const;
export type RunbookFile = (typeof RUNBOOK_FILES)[number];

/** A runbook section: `<file>#<anchor>`, the anchor being GitHub's slug of the section heading. */
export type RunbookRef = `${RunbookFile}#${string}`;

/**
 * Where every alarm of the catalogue is explained: the alarm name without its `<env>-` prefix,
 * with a node or worker number segment written `{n}` (`cache-{n}-cpu` covers `prod-cache-001-cpu`
 * and `prod-cache-002-cpu`), mapped to its runbook section.
 *
 * Adding an alarm? Add its line here and a heading in the runbook file whose GitHub anchor is the
 * part after `#`; `test/docs/runbooks.test.ts` fails until both exist and prints what to add.
 */
export const RUNBOOKS: Readonly<Record<string, RunbookRef>> = {
  // lib/constructs/alarms/database-alarms.ts
  'db-cpu': 'database#db-cpu-cpu-high',
  'db-storage': 'database#db-storage-disk-filling-up',
  'db-memory': 'database#db-memory-freeable-memory-low',
  'db-connections': 'database#db-connections-too-many-connections',
  'db-read-latency': 'database#db-read-latency-and-db-write-latency-slow-io',
  'db-write-latency': 'database#db-read-latency-and-db-write-latency-slow-io',
  'db-load': 'database#db-load-sessions-queueing',
  'db-transaction-ids': 'database#db-transaction-ids-and-db-health-xid-age-wraparound-ahead',
  'db-replica-lag': 'database#db-replica-lag-the-replica-is-behind',
  'db-replica-storage': 'database#db-replica-storage-the-replicas-disk-is-filling',
  'db-replica-cpu': 'database#db-replica-cpu-replica-cpu-high',
  // lib/constructs/db-health.ts
  'db-health-connections': 'database#db-connections-too-many-connections',
  'db-health-xid-age': 'database#db-transaction-ids-and-db-health-xid-age-wraparound-ahead',
  'db-health-buffer-hit-ratio': 'database#db-health-buffer-hit-ratio-reads-going-to-disk',
  'db-health-long-running-queries': 'database#db-health-long-running-queries',
  'db-health-idle-in-transaction': 'database#db-health-idle-in-transaction',
  'db-health-database-size': 'database#db-health-database-size',
  'db-health-unprefixed-tables': 'database#db-health-unprefixed-tables',
  'db-health-probe-missing': 'database#db-health-probe-missing-the-probe-is-silent',
  // lib/constructs/secret-rotation-alerts.ts
  'master-secret-rotation-errors': 'database#master-secret-rotation-errors-and-role-secret-rotation-errors-a-secret-did-not-rotate',
  'role-secret-rotation-errors': 'database#master-secret-rotation-errors-and-role-secret-rotation-errors-a-secret-did-not-rotate',
  // lib/constructs/alarms/cache-alarms.ts
  'cache-{n}-cpu': 'cache#cache-n-cpu-the-redis-thread-is-busy',
  'cache-{n}-memory': 'cache#cache-n-memory-and-cache-n-evictions-memory-pressure',
  'cache-{n}-evictions': 'cache#cache-n-memory-and-cache-n-evictions-memory-pressure',
  'cache-{n}-connections': 'cache#cache-n-connections-connection-leak',
  'cache-{n}-replication-lag': 'cache#cache-n-replication-lag',
  // lib/constructs/cache-health.ts
  'cache-health-keys-without-ttl': 'cache#cache-health-keys-without-ttl-keys-that-never-expire',
  'cache-health-unregistered-keys': 'cache#cache-health-unregistered-keys-keys-outside-the-registry',
  'cache-health-memory': 'cache#cache-health-memory-the-probes-view-of-memory',
  'cache-health-probe-missing': 'cache#cache-health-probe-missing-the-probe-is-silent',
  // lib/constructs/workers/worker-fleet.ts
  'worker-{n}-system-status-check': 'workers#1-host-failure-slot-system-status-check-alarm',
  'worker-{n}-instance-status-check': 'workers#worker-n-instance-status-check-the-os-stopped-answering',
  'worker-{n}-data-disk-used': 'workers#worker-n-data-disk-used-data-filling-up',
  'worker-{n}-root-disk-used': 'workers#worker-n-root-disk-used',
  'worker-{n}-memory-used': 'workers#worker-n-memory-used',
  // lib/constructs/slack-notifier.ts
  'notifier-dead-letters': 'alerting#notifier-dead-letters-alerts-were-not-delivered',
  'notifier-errors': 'alerting#notifier-errors-and-notifier-throttles',
  'notifier-throttles': 'alerting#notifier-errors-and-notifier-throttles',
  'notifier-backlog': 'alerting#notifier-backlog-alerts-are-waiting',
  // lib/constructs/dead-letter-every-hop.ts
  'alerts-undelivered-by-sns': 'alerting#alerts-undelivered-by-sns-sns-could-not-deliver',
  'alerts-undelivered-by-eventbridge': 'alerting#alerts-undelivered-by-eventbridge-an-event-missed-its-target',
  // lib/constructs/alert-heartbeat.ts
  'alerting-heartbeat-missing': 'alerting#alerting-heartbeat-missing-the-alert-path-is-silent',
  'alerting-slack-check-failed': 'alerting#alerting-slack-check-failed-a-webhook-or-token-is-wrong',
};

/** The catalogue key of an alarm name: `prod-cache-002-cpu` → `cache-{n}-cpu`. */
export function runbookKey(envName: string, alarmName: string): string {
  const bare = alarmName.startsWith(`${envName}-`) ? alarmName.slice(envName.length + 1) : alarmName;
  return bare.replace(/(?<=^|-)\d+(?=-|$)/g, '{n}');
}

/** The link to a runbook section, under `urlBase` (e.g. a repository's web URL) or repository-relative. */
export function runbookUrl(ref: RunbookRef, urlBase?: string): string {
  const [file, anchor] = ref.split('#');
  const rel = `docs/runbooks/${file}.md#${anchor}`;
  return urlBase ? `${urlBase.replace(/\/+$/, '')}/${rel}` : rel;
}

/** What the notifier looks for in a description (format.ts `runbookUrl`: the URL after "Runbook:"). */
export const RUNBOOK_LABEL = 'Runbook:';

/** CloudWatch's limit on AlarmDescription. */
export const ALARM_DESCRIPTION_MAX = 1024;

export interface RunbookLinksOptions {
  /** Environment name, the prefix of its alarm names. */
  readonly envName: string;
  /** Web URL the `docs/runbooks/…` paths hang under, e.g. `https://github.com/acme/platform-infra/blob/main`. @default repository-relative paths (no button in Slack) */
  readonly urlBase?: string;
  /** Alarm key → section. @default RUNBOOKS */
  readonly catalogue?: Readonly<Record<string, RunbookRef>>;
}

/**
 * Appends `Runbook: <url>` to the description of every CloudWatch alarm (metric and composite)
 * named in the catalogue, so the Slack message can show a Runbook button. Applied once per Stage,
 * so constructs that add alarms need not know the URL base. An alarm missing from the catalogue
 * gets a synth warning and fails `test/docs/runbooks.test.ts`.
 */
export class RunbookLinks implements IAspect {
  private readonly catalogue: Readonly<Record<string, RunbookRef>>;

  constructor(private readonly options: RunbookLinksOptions) {
    this.catalogue = options.catalogue ?? RUNBOOKS;
    if (options.urlBase !== undefined && !/^https:\/\/[^\s"<>|]+$/.test(options.urlBase)) {
      throw new Error(`alerting.slack.runbookUrlBase must be an https URL without spaces, got "${options.urlBase}"`);
    }
  }

  public visit(node: IConstruct): void {
    if (!(node instanceof cloudwatch.CfnAlarm) && !(node instanceof cloudwatch.CfnCompositeAlarm)) return;
    const name = node.alarmName;
    if (name === undefined || Token.isUnresolved(name)) return;
    const key = runbookKey(this.options.envName, name);
    const ref = this.catalogue[key];
    if (!ref) {
      Annotations.of(node).addWarningV2('platform:runbook-missing', `Alarm ${name} has no runbook: add '${key}': '<file>#<anchor>' to RUNBOOKS in lib/constructs/alarms/runbook-links.ts and that section to docs/runbooks/<file>.md`);
      return;
    }
    const description = node.alarmDescription ?? '';
    if (Token.isUnresolved(description) || description.includes(RUNBOOK_LABEL)) return;
    const linked = `${description}${description ? ' ' : ''}${RUNBOOK_LABEL} ${runbookUrl(ref, this.options.urlBase)}`;
    if (linked.length > ALARM_DESCRIPTION_MAX) {
      throw new Error(`Alarm ${name}: its description with the runbook link is ${linked.length} characters, over CloudWatch's ${ALARM_DESCRIPTION_MAX}; shorten the description or alerting.slack.runbookUrlBase`);
    }
    node.alarmDescription = linked;
  }
}
