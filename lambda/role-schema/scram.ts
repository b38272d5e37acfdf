/**
 * Client-computed SCRAM-SHA-256 password verifiers, in PostgreSQL's stored format
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (RFC 5802 / 7677).
 *
 * `ALTER ROLE x PASSWORD '<verifier>'` stores the verifier as it is, so the plaintext password
 * never reaches the server, its statement log or pg_stat_statements.
 */
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/** PostgreSQL's defaults (scram_iterations = 4096, 16-byte salt). */
export const SCRAM_ITERATIONS = 4096;
export const SCRAM_SALT_BYTES = 16;

export interface ScramVerifier {
  /** The full verifier string. */
  readonly verifier: string;
  /** Base64 salt. */
  readonly salt: string;
  readonly iterations: number;
}

/**
 * PostgreSQL applies SASLprep to the password, and uses the raw bytes when that fails. For
 * printable ASCII, SASLprep changes nothing; anything else is refused here rather than risk a
 * verifier that the server would not match at login.
 */
function passwordBytes(password: string): Buffer {
  if (password.length === 0) throw new Error('empty password');
  if (!/^[\x20-\x7e]+$/.test(password)) {
    throw new Error('password must be printable ASCII (SASLprep of other characters is not implemented)');
  }
  return Buffer.from(password, 'utf8');
}

/** Computes a verifier; `salt` (base64) defaults to 16 random bytes. */
export async function scramVerifier(password: string, opts: { salt?: string; iterations?: number } = {}): Promise<ScramVerifier> {
  const iterations = opts.iterations ?? SCRAM_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`invalid SCRAM iteration count ${iterations}`);
  const saltBytes = opts.salt !== undefined ? Buffer.from(opts.salt, 'base64') : randomBytes(SCRAM_SALT_BYTES);
  const salted = await pbkdf2Async(passwordBytes(password), saltBytes, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  const salt = saltBytes.toString('base64');
  return {
    verifier: `SCRAM-SHA-256$${iterations}:${salt}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`,
    salt,
    iterations,
  };
}

/** SHA-256 (hex) of a verifier: what the applier records to recognise "same password" later. */
export function verifierDigest(verifier: string): string {
  return createHash('sha256').update(verifier).digest('hex');
}

/** True when `password` with the recorded salt and iterations gives the recorded digest. */
export async function matchesRecorded(password: string, recorded: { salt: string; iterations: number; digest: string }): Promise<boolean> {
  const v = await scramVerifier(password, { salt: recorded.salt, iterations: recorded.iterations });
  const a = Buffer.from(verifierDigest(v.verifier), 'hex');
  const b = Buffer.from(recorded.digest, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
