/**
 * The event families, in the order they are tried. The first whose `recognize` answers owns the
 * message; the two fallbacks at the end take everything else, so nothing is ever dropped.
 * Adding an event kind: a module in this folder (recogniser, severity rule, renderer), its AWS
 * sample events in test/fixtures/aws-samples/<name>/, and a line here.
 */
import type { Notification } from '../types';
import { alarms } from './alarms';
import { backup } from './backup';
import { dbHealthDigest } from './db-health-digest';
import { ebsDlm } from './ebs-dlm';
import { ec2Instance } from './ec2-instance';
import { elasticache } from './elasticache';
import type { Family } from './family';
import { eventbridgeFallback, textFallback } from './fallback';
import { guardduty } from './guardduty';
import { health } from './health';
import { rds } from './rds';
import { secretsManager } from './secrets-manager';

export const FAMILIES: readonly Family<any>[] = [
  dbHealthDigest,
  alarms,
  rds,
  elasticache,
  backup,
  ebsDlm,
  ec2Instance,
  health,
  guardduty,
  secretsManager,
  eventbridgeFallback,
  textFallback,
];

const byKind = new Map<string, Family<any>>();
for (const f of FAMILIES) for (const k of f.kinds) byKind.set(k, f);

/** The family that renders a notification kind. */
export function familyOf(n: Notification): Family<any> {
  return byKind.get(n.kind) ?? textFallback;
}
