/**
 * Lambda entry: SQS batches from the per-severity queues (SNS envelopes inside), or direct
 * SNS/EventBridge invocations. A thin adapter over `processEvent`: it builds the clients once
 * per container, gives delivery a deadline inside the function's timeout, and reports the
 * undelivered SQS items as batchItemFailures so SQS retries them (and, in the end,
 * dead-letters them). Without SQS it throws, so Lambda's own retries apply.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { settingsFromEnv, type HandlerSettings } from './config';
import { SlackPoster } from './deliver';
import type { EnrichClients } from './enrich';
import { processEvent, type NotifierDeps } from './notify';
import { redact } from './redact';
import { secretsManagerResolver } from './webhooks';
import { appSettingsFromEnv, lazyAppDelivery } from './app/app-settings';
import { ALERTING_DIMENSIONS, ALERTING_METRICS_NAMESPACE } from './heartbeat-contract';

const logger = new Logger({ serviceName: 'notifier' });

/** Container-wide state: settings, clients, the webhook cache and the pacing buckets. */
let state: { settings: HandlerSettings; deps: Omit<NotifierDeps, 'poster'>; poster: SlackPoster } | undefined;
/** The current invocation's delivery deadline (ms), for app mode's Slack client. */
let deadline: number | undefined;

function init(): NonNullable<typeof state> {
  if (state) return state;
  const settings = settingsFromEnv(process.env);
  // Short SDK timeouts: enrichment has a 3 s budget, and a stuck call must not eat the batch.
  const sdk = { maxAttempts: 2 };
  const poster = new SlackPoster({
    intervalMs: settings.intervalMs,
    burst: settings.burst,
    onRetry: (info) => logger.warn('slack retry', { ...info, reason: redact(info.reason) }),
  });
  state = {
    settings,
    poster,
    deps: {
      config: settings.notifier,
      webhook: secretsManagerResolver(new SecretsManagerClient(sdk), settings.webhookSecrets),
      enrich: settings.enrichBudgetMs > 0 ? lazyEnrichClients(sdk) : undefined,
      enrichOptions: { budgetMs: settings.enrichBudgetMs },
      logger,
      ...appDelivery(),
      metric: emf(settings.notifier.environment ?? 'unknown'),
    },
  };
  return state;
}

/** Slack app mode (alerting.slack.mode: 'app'): threads through the Web API instead of webhooks, and checks the token. */
function appDelivery(): Pick<NotifierDeps, 'delivery' | 'check'> {
  const app = appSettingsFromEnv(process.env);
  if (!app) return {};
  const delivery = lazyAppDelivery(app, logger, () => deadline);
  return { delivery, check: (severity) => delivery.check(severity) };
}

/**
 * The alert path's metrics (heartbeat-contract.ts) in the Embedded Metric Format: a JSON line that
 * CloudWatch Logs turns into a metric, so no cloudwatch:PutMetricData and no extra call. Dimensions
 * are exactly Environment and Severity (Powertools' default `service` dimension is dropped).
 */
function emf(environment: string): NotifierDeps['metric'] {
  const metrics = new Metrics({ namespace: ALERTING_METRICS_NAMESPACE, serviceName: 'notifier' });
  metrics.clearDefaultDimensions();
  return (name, severity, value) => {
    metrics.addDimensions({ [ALERTING_DIMENSIONS.environment]: environment, [ALERTING_DIMENSIONS.severity]: severity });
    metrics.addMetric(name, MetricUnit.Count, value);
    metrics.publishStoredMetrics();
  };
}

/** The enrichment clients, loaded and created on the first batch that needs them. */
function lazyEnrichClients(sdk: { maxAttempts: number }): () => Promise<EnrichClients> {
  let clients: Promise<EnrichClients> | undefined;
  return () =>
    (clients ??= Promise.all([import('@aws-sdk/client-rds'), import('@aws-sdk/client-pi'), import('@aws-sdk/client-cloudwatch')]).then(([r, p, c]) => ({
      rds: new r.RDSClient(sdk),
      pi: new p.PIClient(sdk),
      cloudwatch: new c.CloudWatchClient(sdk),
    })));
}

const isSqsBatch = (event: unknown): boolean =>
  Array.isArray((event as { Records?: unknown[] })?.Records) && ((event as { Records: { eventSource?: string }[] }).Records[0]?.eventSource === 'aws:sqs');

export const handler = async (event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>): Promise<SQSBatchResponse | { delivered: number }> => {
  if (context?.awsRequestId) logger.appendKeys({ requestId: context.awsRequestId });
  const s = init();
  // Stop retrying 5 s before the function would be killed, and hand the rest back to SQS.
  s.poster.deadline = context ? Date.now() + context.getRemainingTimeInMillis() - 5000 : undefined;
  deadline = s.poster.deadline;
  const result = await processEvent(event, { ...s.deps, poster: s.poster });
  const delivered = result.posts.filter((p) => p.outcome.ok).length;
  if (isSqsBatch(event)) {
    return { batchItemFailures: result.failedItemIds.map((itemIdentifier) => ({ itemIdentifier })) };
  }
  if (result.failedItemIds.length > 0 || result.undeliveredWithoutId > 0) {
    const errors = result.posts.filter((p) => !p.outcome.ok).map((p) => (p.outcome.ok ? '' : p.outcome.error));
    throw new Error(redact(`${result.failedItemIds.length + result.undeliveredWithoutId} notification(s) undelivered: ${errors.join('; ')}`));
  }
  return { delivered };
};

/** For tests: forget the container state. */
export function resetForTests(): void {
  state = undefined;
}

