/**
 * The ElastiCache IAM authentication token: a SigV4-presigned `GET http://<replication group
 * id>/?Action=connect&User=<user id>` for the service `elasticache`, valid for 15 minutes, with the
 * leading `http://` removed. The client sends it as the password of `AUTH <user id> <token>`.
 * https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html (Connecting; Limitations:
 * the token lasts 15 minutes, a connection 12 hours, user id == user name, lower-case names).
 * Signed with the AWS SDK's own signer (@smithy/signature-v4), not by hand.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, HttpRequest } from '@smithy/types';

/** The token's lifetime: ElastiCache accepts at most 15 minutes. */
export const TOKEN_SECONDS = 900;

export interface TokenRequest {
  /** Replication group id (a provisioned cache) or serverless cache name; lower-case. */
  readonly cacheName: string;
  /** The IAM-enabled user (user id == user name). */
  readonly userId: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** True for a serverless cache (adds `ResourceType=ServerlessCache`). @default false */
  readonly serverless?: boolean;
  /** @default now */
  readonly signingDate?: Date;
}

/** RFC 3986 percent-encoding, as SigV4 canonicalises query values. */
const rfc3986 = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Builds the token. Throws naming the value if a name is not lower-case. */
export async function iamAuthToken(r: TokenRequest): Promise<string> {
  if (r.cacheName !== r.cacheName.toLowerCase() || r.cacheName === '') throw new Error(`iamAuthToken: cache name ${JSON.stringify(r.cacheName)} must be lower-case and non-empty`);
  if (r.userId === '') throw new Error('iamAuthToken: user id must be non-empty');
  const signer = new SignatureV4({ service: 'elasticache', region: r.region, credentials: r.credentials, sha256: Sha256 });
  const request: HttpRequest = {
    method: 'GET',
    protocol: 'http:',
    hostname: r.cacheName,
    path: '/',
    query: { Action: 'connect', User: r.userId, ...(r.serverless ? { ResourceType: 'ServerlessCache' } : {}) },
    headers: { host: r.cacheName },
  };
  const signed = await signer.presign(request, { expiresIn: TOKEN_SECONDS, signingDate: r.signingDate });
  const query = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${rfc3986(k)}=${rfc3986(String(v))}`)
    .join('&');
  return `${signed.hostname}${signed.path}?${query}`;
}
