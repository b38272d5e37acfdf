/**
 * The ElastiCache IAM token against the documents, not against the signer that made it:
 * - its shape: https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html (Connecting:
 *   a presigned `http://<cache>/?Action=connect&User=<user>` for service `elasticache`, 15 minutes,
 *   without the `http://`);
 * - its signature, recomputed here step by step from the SigV4 specification
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html: canonical
 *   request, string to sign, derived signing key) with node:crypto only.
 */
import crypto from 'node:crypto';
import { iamAuthToken, TOKEN_SECONDS } from '../../../lambda/cache-health/iam-token';

const CREDS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session/token+with=odd&chars' };
const WHEN = new Date('2026-12-06T20:30:00Z');

const hmac = (key: Buffer | string, data: string) => crypto.createHmac('sha256', key).update(data, 'utf8').digest();
const sha256 = (data: string) => crypto.createHash('sha256').update(data, 'utf8').digest('hex');
const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** SigV4 for a presigned GET, from the specification. */
function expectedSignature(host: string, params: Record<string, string>, region: string): string {
  const canonicalQuery = Object.keys(params).sort().map((k) => `${enc(k)}=${enc(params[k])}`).join('&');
  const canonicalRequest = ['GET', '/', canonicalQuery, `host:${host}\n`, 'host', sha256('')].join('\n');
  const amzDate = params['X-Amz-Date'];
  const scope = `${amzDate.slice(0, 8)}/${region}/elasticache/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  let key = hmac(`AWS4${CREDS.secretAccessKey}`, amzDate.slice(0, 8));
  for (const part of [region, 'elasticache', 'aws4_request']) key = hmac(key, part);
  return crypto.createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

test('the token is the presigned connect URL without http://, signed as SigV4 specifies', async () => {
  const token = await iamAuthToken({ cacheName: 'prod-cache-rg', userId: 'prod-cache-monitor', region: 'ap-northeast-2', credentials: CREDS, signingDate: WHEN });
  expect(token.startsWith('prod-cache-rg/?')).toBe(true);
  const u = new URL(`http://${token}`);
  const params = Object.fromEntries(u.searchParams);
  expect(params).toMatchObject({
    Action: 'connect',
    User: 'prod-cache-monitor',
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': 'AKIDEXAMPLE/20261206/ap-northeast-2/elasticache/aws4_request',
    'X-Amz-Date': '20261206T203000Z',
    'X-Amz-Expires': String(TOKEN_SECONDS),
    'X-Amz-SignedHeaders': 'host',
    'X-Amz-Security-Token': CREDS.sessionToken,
  });
  expect(params.ResourceType).toBeUndefined();
  const { 'X-Amz-Signature': signature, ...signedParams } = params;
  expect(signature).toBe(expectedSignature('prod-cache-rg', signedParams, 'ap-northeast-2'));
});

test('a serverless cache adds ResourceType=ServerlessCache to what is signed', async () => {
  const token = await iamAuthToken({ cacheName: 'my-cache', userId: 'u1', region: 'us-east-1', credentials: CREDS, serverless: true, signingDate: WHEN });
  const { 'X-Amz-Signature': signature, ...signedParams } = Object.fromEntries(new URL(`http://${token}`).searchParams);
  expect(signedParams.ResourceType).toBe('ServerlessCache');
  expect(signature).toBe(expectedSignature('my-cache', signedParams, 'us-east-1'));
});

test('an upper-case cache name is refused (ElastiCache checks the lower-case id)', async () => {
  await expect(iamAuthToken({ cacheName: 'Prod-RG', userId: 'u', region: 'us-east-1', credentials: CREDS })).rejects.toThrow(/"Prod-RG" must be lower-case/);
});
