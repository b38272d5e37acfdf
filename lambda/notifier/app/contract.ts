/**
 * What the thread table's construct (lib/constructs/alert-threads.ts) and the notifier's store
 * (thread-store.ts) must agree on, and the environment variables app mode reads. No imports: the
 * CDK app loads it too.
 */

/** The table's partition key (string) and its TTL attribute (epoch seconds). */
export const THREAD_TABLE_KEY = 'pk';
export const THREAD_TABLE_TTL = 'expiresAt';

/** Environment variables of the notifier function in app mode. */
export const APP_ENV = {
  mode: 'SLACK_MODE',
  table: 'THREAD_TABLE',
  botTokenSecret: 'SLACK_BOT_TOKEN_SECRET',
  channels: 'SLACK_CHANNELS',
  rethreadAfterMinutes: 'RETHREAD_AFTER_MINUTES',
} as const;
