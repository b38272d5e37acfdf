/**
 * Webhook URLs live in Secrets Manager, one secret per severity. Each is read once per container
 * (the promise is cached; a failed read is retried on the next batch) and registered with the
 * redactor so it can never reach a log line or an error message.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { SdkClient } from './enrich';
import { describeError, registerSecret } from './redact';
import type { Severity } from './types';

export type WebhookResolver = ((severity: Severity) => Promise<string>) & {
  /** Drops a cached URL so that the next call reads the secret again (after a failed heartbeat check). */
  forget?(severity: Severity): void;
};

/** The URL inside a secret: the plain string, or `{"url": …}` / `{"webhookUrl": …}` / `{"webhook_url": …}`. */
export function webhookFromSecret(secret: string): string {
  const text = secret.trim();
  let url = text;
  if (text.startsWith('{')) {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error('the secret looks like JSON but does not parse');
    }
    const found = ['url', 'webhookUrl', 'webhook_url', 'webhook'].map((k) => parsed[k]).find((v) => typeof v === 'string');
    if (typeof found !== 'string') throw new Error('the secret JSON has no "url" (or "webhookUrl") key');
    url = found.trim();
  }
  registerSecret(url);
  let parsedUrl: URL;
  try {
    parsedUrl = new URL(url);
  } catch {
    throw new Error('the secret does not hold a URL');
  }
  if (parsedUrl.protocol !== 'https:') throw new Error('the webhook URL must use https');
  return url;
}

/** Resolves severities to webhook URLs through Secrets Manager, caching per container. */
export function secretsManagerResolver(client: SdkClient, secretIds: Readonly<Partial<Record<Severity, string>>>): WebhookResolver {
  const cache = new Map<string, Promise<string>>();
  const idOf = (severity: Severity) => secretIds[severity] ?? secretIds.warning ?? secretIds.critical;
  const resolve: WebhookResolver = (severity) => {
    const id = idOf(severity);
    if (!id) return Promise.reject(new Error(`no webhook secret configured for ${severity}`));
    let p = cache.get(id);
    if (!p) {
      p = client
        .send(new GetSecretValueCommand({ SecretId: id }))
        .then((res: { SecretString?: string }) => {
          if (!res?.SecretString) throw new Error('the secret has no string value');
          return webhookFromSecret(res.SecretString);
        })
        .catch((err: unknown) => {
          cache.delete(id);
          // The secret's name is fine to log; its value never reaches here unredacted.
          throw new Error(`cannot read webhook secret ${id} for ${severity}: ${describeError(err)}`);
        });
      cache.set(id, p);
    }
    return p;
  };
  resolve.forget = (severity) => {
    const id = idOf(severity);
    if (id) cache.delete(id);
  };
  return resolve;
}

/** One URL for every severity (the CLI's SLACK_WEBHOOK_URL). http is allowed for local tests. */
export function staticResolver(url: string): WebhookResolver {
  registerSecret(url);
  return () => Promise.resolve(url);
}
