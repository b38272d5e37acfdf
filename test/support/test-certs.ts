/**
 * A throwaway PKI for TLS tests (openssl, as .ci/run's image has it): a test CA, an unrelated CA,
 * and a server certificate for DNS:localhost signed by the first, valid two days.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface TestCerts {
  readonly caFile: string;
  readonly otherCaFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** Writes ca.crt, other-ca.crt, server.crt and server.key into `dir`; `caName` is the CA's CN. */
export function makeTestCerts(dir: string, caName: string): TestCerts {
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', `/CN=${caName}`]);
  openssl(['req', '-x509', ...ec, '-keyout', 'other.key', '-out', 'other-ca.crt', '-days', '2', '-subj', '/CN=unrelated CA']);
  openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
  fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'ext.cnf']);
  return { caFile: path.join(dir, 'ca.crt'), otherCaFile: path.join(dir, 'other-ca.crt'), certFile: path.join(dir, 'server.crt'), keyFile: path.join(dir, 'server.key') };
}
