/**
 * RDS events, whichever way they come: an RDS event subscription's SNS message
 * (`{"Event Source": "db-instance", "Event ID": "…#RDS-EVENT-0049", "Event Message": …}`) or the
 * EventBridge `RDS DB Instance Event` (and the cluster, snapshot, parameter group, security group,
 * proxy and blue/green kinds). Both are read into one `RdsEvent`, and its severity comes from the
 * event itself — its ID's category in the RDS User Guide (`rds-event-categories.ts`) and a few IDs
 * named below — so that the same event is the same severity on either path.
 *
 * Formats: https://docs.aws.amazon.com/lambda/latest/dg/services-rds.html (SNS) and
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Events.overview.html#events-examples
 * (EventBridge).
 */
import { context, esc, escFit, fields, link, section } from '../slack';
import type { Block, Envelope, Item, RdsEvent, Rendered, Severity } from '../types';
import { defineFamily } from './family';
import { asEventBridge, envOf, isObject, message, regionOfArn, regionFor, severityColour, severityEmoji, str, timeOf, type RenderContext } from './kit';
import { RDS_EVENT_CATEGORIES } from './rds-event-categories';

export const RDS_EVENTS_DOC = 'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Events.Messages.html';

type RdsNotification = { readonly kind: 'rds-event'; readonly event: RdsEvent };

/** `http://docs…/USER_Events.html#RDS-EVENT-0006` → `RDS-EVENT-0006`. */
function eventIdOf(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const m = /(RDS-EVENT-\d+)/.exec(v);
  return m ? m[1] : v.trim() || undefined;
}

/** EventBridge `SourceType` and SNS `Event Source` → one vocabulary (the SNS one). */
const SOURCE_TYPES: Record<string, string> = {
  DB_INSTANCE: 'db-instance',
  CLUSTER: 'db-cluster',
  DB_CLUSTER: 'db-cluster',
  SNAPSHOT: 'db-snapshot',
  DB_SNAPSHOT: 'db-snapshot',
  CLUSTER_SNAPSHOT: 'db-cluster-snapshot',
  DB_CLUSTER_SNAPSHOT: 'db-cluster-snapshot',
  DB_PARAM: 'db-parameter-group',
  DB_PARAMETER_GROUP: 'db-parameter-group',
  SECURITY_GROUP: 'db-security-group',
  DB_SECURITY_GROUP: 'db-security-group',
  DB_PROXY: 'db-proxy',
  BLUE_GREEN_DEPLOYMENT: 'blue-green-deployment',
  CUSTOM_ENGINE_VERSION: 'custom-engine-version',
};

function sourceTypeOf(v: string | undefined): string | undefined {
  if (!v) return undefined;
  return SOURCE_TYPES[v.toUpperCase()] ?? v.toLowerCase().replace(/_/g, '-');
}

/** The resource name in an RDS ARN: `…:db:prod-db` → `prod-db`, `…:snapshot:rds:x` → `rds:x`. */
function nameOfArn(arn: string | undefined): string | undefined {
  const parts = arn?.split(':');
  return parts && parts.length > 6 ? parts.slice(6).join(':') : undefined;
}

function fromSns(o: Record<string, unknown>, env: Envelope): RdsEvent {
  const sourceArn = str(o['Source ARN']);
  return {
    via: 'sns',
    sourceId: str(o['Source ID']) ?? nameOfArn(sourceArn),
    sourceType: sourceTypeOf(str(o['Event Source'])),
    sourceArn,
    eventId: eventIdOf(str(o['Event ID'])) ?? eventIdOf(env.attributes.EventID),
    message: str(o['Event Message']) ?? '',
    time: str(o['Event Time']),
    link: str(o['Identifier Link']),
    region: regionOfArn(sourceArn) ?? /[?&]region=([a-z0-9-]+)/.exec(str(o['Identifier Link']) ?? '')?.[1],
  };
}

function fromEventBridge(b: unknown): RdsEvent | undefined {
  const e = asEventBridge(b);
  if (!e || e.source !== 'aws.rds') return undefined;
  const d = e.detail;
  const sourceArn = str(d.SourceArn) ?? e.resources[0];
  const categories = Array.isArray(d.EventCategories) ? d.EventCategories.filter((c): c is string => typeof c === 'string') : undefined;
  return {
    via: 'eventbridge',
    detailType: e.detailType,
    // The documented samples say `rds:my-db-instance` here while the ARN ends in `db:my-db-instance`.
    sourceId: nameOfArn(sourceArn) ?? str(d.SourceIdentifier),
    sourceType: sourceTypeOf(str(d.SourceType)),
    sourceArn,
    eventId: eventIdOf(str(d.EventID)),
    message: str(d.Message) ?? '',
    time: str(d.Date) ?? e.time,
    categories,
    region: e.region ?? regionOfArn(sourceArn),
    account: e.account,
  };
}

function recognize(env: Envelope): RdsNotification | undefined {
  const b = env.body;
  if (isObject(b)) {
    if ('Event Message' in b || 'Source ID' in b || ('Event ID' in b && /RDS-EVENT/.test(String(b['Event ID'])))) return { kind: 'rds-event', event: fromSns(b, env) };
    const eb = fromEventBridge(b);
    return eb ? { kind: 'rds-event', event: eb } : undefined;
  }
  // The first message of a new subscription is plain text ("This is a message to notify that RDS
  // will attempt to send you event notifications …") under the subject "RDS Notification Message".
  if (typeof b === 'string' && /^RDS Notification/i.test(env.subject ?? '')) return { kind: 'rds-event', event: { via: 'sns', message: b } };
  return undefined;
}

// ---- severity ------------------------------------------------------------------------------------

/**
 * Events whose documented message means the database is down, about to stop, or has lost its
 * replica, whatever their category (RDS-EVENT-0221 is "availability": "… reached the storage-full
 * threshold, and the database has been shut down").
 */
const CRITICAL_IDS = new Set([
  '0007', // low storage: allocated storage has been exhausted
  '0089', // low storage: free storage capacity is low
  '0227', // low storage: Aurora storage dangerously low
  '0221', // availability: storage-full threshold reached, database shut down
  '0222', // availability: free storage low, database will be shut down
  '0022', // availability: error restarting the engine
  '0031', // failure: DB instance put into a failed state, RDS recommends a point-in-time restore
  '0035', // failure: database instance put into a state (incompatible-parameters, …)
  '0036', // failure: database instance in a state (incompatible-network, …)
  '0069', // failover: cluster failover failed
  '0187', // global failover failed
  '0045', // read replica: replication has stopped (seed 004: the replica is part of the design)
  '0057', // read replica: replication streaming has been terminated
]);

/** Events outside the warning categories that still want someone to look today. */
const WARNING_IDS = new Set([
  '0084', // notification: unable to convert the DB instance to Multi-AZ
  '0157', // notification: unable to modify the DB instance class
  '0158', // notification: database instance is in a state that cannot be upgraded
  '0159', // notification: snapshot export task failed
  '0189', // notification: gp2 burst balance credits are low
  '0225', // notification: storage size approaching the maximum storage threshold
  '0231', // notification: storage modification encountered an internal error
  '0270', // maintenance: engine version upgrade failed (rolled back)
  '0067', // configuration change: unable to reset your password
  '0086', // backup: unable to associate the option group
]);

/** Good news in warning categories: a failover/recovery finished, replication resumed. */
const INFO_IDS = new Set(['0046', '0021', '0051', '0065']);

const CATEGORY_SEVERITY: Record<string, Severity> = {
  'low storage': 'critical',
  failure: 'warning',
  availability: 'warning',
  failover: 'warning',
  'global failover': 'warning',
  recovery: 'warning',
  'read replica': 'warning',
};

/** For IDs the table does not know (added since): what the message says. */
const CRITICAL_TEXT = /storage[- ]full|storage (capacity )?(is )?(exhausted|dangerously low)|has been shut down|failover failed|replication (has )?(stopped|streaming has been terminated)|incompatible|put into .*(fail|state)/i;
const WARNING_TEXT = /\bfail(ed|ure)?\b|\berror\b|unable to|cannot|can't|couldn't|failover|restart|shut ?down|recover|degraded|low\b|throttl|cancel/i;

/** The documented category of an event ID (`RDS-EVENT-0049` → `failover`), if the table has it. */
export function rdsCategory(eventId: string | undefined): string | undefined {
  const n = eventId ? /RDS-EVENT-(\d+)/.exec(eventId)?.[1] : undefined;
  return n ? RDS_EVENT_CATEGORIES[n.padStart(4, '0')] : undefined;
}

/**
 * The severity an RDS event implies: the ID first (named IDs, then its documented category), and
 * only for IDs the table does not know, the message. EventBridge's own `EventCategories` is shown
 * but not used, because the SNS message does not carry it and both paths must agree.
 */
export function rdsSeverity(ev: RdsEvent): Severity {
  const n = ev.eventId ? /RDS-EVENT-(\d+)/.exec(ev.eventId)?.[1]?.padStart(4, '0') : undefined;
  if (n && CRITICAL_IDS.has(n)) return 'critical';
  if (n && WARNING_IDS.has(n)) return 'warning';
  if (n && INFO_IDS.has(n)) return 'info';
  const category = n ? RDS_EVENT_CATEGORIES[n] : undefined;
  if (category) {
    const each = category.split(/,\s*/).map((c) => CATEGORY_SEVERITY[c] ?? 'info');
    return each.includes('critical') ? 'critical' : each.includes('warning') ? 'warning' : 'info';
  }
  if (CRITICAL_TEXT.test(ev.message)) return 'critical';
  if (WARNING_TEXT.test(ev.message)) return 'warning';
  return 'info';
}

// ---- rendering -----------------------------------------------------------------------------------

const SOURCE_LABEL: Record<string, string> = {
  'db-instance': 'DB instance',
  'db-cluster': 'DB cluster',
  'db-snapshot': 'DB snapshot',
  'db-cluster-snapshot': 'DB cluster snapshot',
  'db-parameter-group': 'DB parameter group',
  'db-security-group': 'DB security group',
  'db-proxy': 'RDS Proxy',
  'blue-green-deployment': 'blue/green deployment',
  'custom-engine-version': 'custom engine version',
};

/** The RDS console page of the event's resource (the SNS message's own link when it has one). */
export function rdsConsoleUrl(ev: RdsEvent, region: string | undefined): string | undefined {
  if (ev.link && /^https:\/\/([a-z0-9-]+\.)?console\.aws\.amazon\.com\//.test(ev.link)) return ev.link;
  if (!region) return undefined;
  const home = `https://${region}.console.aws.amazon.com/rds/home?region=${region}`;
  const id = ev.sourceId ? encodeURIComponent(ev.sourceId) : undefined;
  switch (ev.sourceType) {
    case 'db-instance':
      return id ? `${home}#database:id=${id};is-cluster=false` : `${home}#databases:`;
    case 'db-cluster':
      return id ? `${home}#database:id=${id};is-cluster=true` : `${home}#databases:`;
    case 'db-snapshot':
    case 'db-cluster-snapshot':
      return `${home}#snapshots-list:`;
    case 'db-parameter-group':
      return id ? `${home}#parameter-groups-detail:ids=${id};type=DbParameterGroup` : `${home}#parameter-group-list:`;
    default:
      return `${home}#events:`;
  }
}

function renderRds(item: Item, ev: RdsEvent, ctx: RenderContext): Rendered {
  const region = regionFor(item, ctx, ev.region);
  const severity = item.severity;
  const isSetup = !ev.sourceId && !ev.eventId;
  const sev = isSetup ? 'info' : rdsSeverity(ev);
  const bad = sev !== 'info';
  const emoji = isSetup ? 'ℹ️' : bad ? severityEmoji(severity) : '🗄️';
  const what = ev.sourceType ? SOURCE_LABEL[ev.sourceType] ?? ev.sourceType : 'RDS';
  const category = rdsCategory(ev.eventId) ?? ev.categories?.join(', ');
  const summary = ev.message ? ev.message.replace(/\s+$/, '') : '(empty message)';
  const title = isSetup ? `${emoji} RDS event subscription` : `${emoji} RDS ${what}${ev.sourceId ? ` ${ev.sourceId}` : ''}: ${summary}`;
  const url = rdsConsoleUrl(ev, region);
  const env = envOf(ctx, ev.sourceId);
  const eventLink = ev.eventId ? link(RDS_EVENTS_DOC, ev.eventId) : undefined;
  const blocks: (Block | undefined)[] = [
    section(`*${escFit(summary, 2500)}*`),
    fields([
      ['Environment', env ? esc(env) : undefined],
      ['Severity', isSetup ? undefined : severity],
      [what === 'RDS' ? 'Source' : what, ev.sourceId ? `\`${escFit(ev.sourceId, 200)}\`` : undefined],
      ['Event', eventLink && `${eventLink}${category ? ` · ${esc(category)}` : ''}`],
      ['Time', ev.time ? esc(ev.time.replace('T', ' ').replace(/\.\d+Z?$|Z$/, '')) + ' UTC' : undefined],
      ['Account / region', [ev.account, region].filter(Boolean).map((s) => esc(s!)).join(' / ') || undefined],
    ]),
    context(url ? link(url, 'Open in the RDS console') : undefined, `via ${ev.via === 'eventbridge' ? `EventBridge (${esc(ev.detailType ?? 'RDS event')})` : 'RDS event subscription (SNS)'}`),
  ];
  const text = `${emoji} RDS${ev.eventId ? ` ${esc(ev.eventId)}` : ''}${ev.sourceId ? ` on ${esc(ev.sourceId)}` : ''}${env ? ` (${esc(env)})` : ''}: ${escFit(summary, 200)}`;
  const line = `${emoji} *RDS* ${ev.sourceId ? `\`${escFit(ev.sourceId, 80)}\` ` : ''}${ev.eventId ? `${esc(ev.eventId)} ` : ''}— ${escFit(summary, 160)}`;
  const colour = isSetup ? '#9E9EA6' : bad ? severityColour(severity) : severityColour('info');
  return { item, message: message(title, colour, blocks, text), line, bad, at: timeOf(ev.time, item.envelope.receivedAt) };
}

export const rds = defineFamily<RdsNotification>({
  name: 'rds',
  kinds: ['rds-event'],
  recognize,
  severity: (n) => (!n.event.sourceId && !n.event.eventId ? 'info' : rdsSeverity(n.event)),
  render: (item, ctx) => renderRds(item, item.notification.event, ctx),
});
