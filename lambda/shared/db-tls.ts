/** Verified TLS to PostgreSQL (RDS has `rds.force_ssl=1`), shared by the role-schema and db-health functions. */
import net from 'node:net';
import type { ConnectionOptions } from 'node:tls';

/** The Lambda Node.js runtimes ship the Amazon root CAs (RDS included) here, unloaded by default. */
export const LAMBDA_RUNTIME_CA_BUNDLE = '/var/runtime/ca-cert.pem';

/**
 * node-postgres `ssl` options: the server certificate must chain to `caPem` and match the host.
 * `caName` names the bundle in the error when it holds no certificate.
 */
export function verifiedTlsOptions(host: string, caPem: string, caName: string): ConnectionOptions {
  if (!caPem.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`${caName} holds no PEM certificate`);
  // SNI and the host-name check need a name; an IP address is checked against the IP SANs.
  return { ca: caPem, rejectUnauthorized: true, ...(net.isIP(host) ? {} : { servername: host }) };
}
