/** The shared CLI rules (scripts/cli-kit.ts): one-line usage errors that name the bad value. */
import { EXIT, oneLine, oneOf, parseCommandLine, port, postgresUrl, redactUrl, UsageError, url, wantsHelp } from '../../scripts/cli-kit';

const usage = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('expected a UsageError');
};

test('exit codes mean the same thing everywhere', () => {
  expect(EXIT).toEqual({ OK: 0, FAILED: 1, USAGE: 2 });
});

test('parseArgs errors become one line naming the option', () => {
  const opts = { env: { type: 'string' }, dry: { type: 'boolean' } } as const;
  expect(usage(() => parseCommandLine(['--bogus'], opts))).toBe('unknown option --bogus');
  expect(usage(() => parseCommandLine(['--env'], opts))).toBe('--env needs a value');
  expect(usage(() => parseCommandLine(['stray'], opts))).toBe('unexpected argument "stray"');
  expect(parseCommandLine(['--env', 'dev', 'a.json'], opts, true)).toMatchObject({ values: { env: 'dev' }, positionals: ['a.json'] });
});

test('--help is found anywhere before --', () => {
  expect(wantsHelp(['x', '-h'])).toBe(true);
  expect(wantsHelp(['--help'])).toBe(true);
  expect(wantsHelp(['--', '--help'])).toBe(false);
});

test.each([
  [() => oneOf('--env', 'qa', ['dev', 'staging', 'prod']), '--env must be dev, staging or prod (got "qa")'],
  [() => port('--port', '70000'), '--port must be a port from 1 to 65535 (got "70000")'],
  [() => port('--port', '54x'), '--port must be a port from 1 to 65535 (got "54x")'],
  [() => postgresUrl('--database-url', 'localhost:5432/db'), /^--database-url must start with postgres:\/\/ or postgresql:\/\/ \(got "localhost:5432\/db"\)$/],
  [() => postgresUrl('--database-url', 'postgres://u:hunter2@db:99999/x'), 'the port in --database-url must be a port from 1 to 65535 (got "99999")'],
  [() => postgresUrl('--database-url', 'postgres://u:hunter2@db:5432x/x'), 'the port in --database-url must be a port from 1 to 65535 (got "5432x")'],
  [() => postgresUrl('--database-url', 'postgres://u:hunter2@ho st/x'), /^--database-url is not a valid URL \(got "postgres:\/\/u:\*\*\*@ho st\/x"\)/],
  [() => url('SLACK_WEBHOOK_URL', 'hooks.slack.com/services/T/B/secret', { protocols: ['https'], secret: true }), /^SLACK_WEBHOOK_URL is not a valid URL \(got 35 characters/],
  [() => url('SLACK_WEBHOOK_URL', 'ftp://hooks.example/services/T/B/secret', { protocols: ['https'], secret: true }), 'SLACK_WEBHOOK_URL must be a https:// URL (got "ftp://hooks.example/…")'],
])('%#: a bad value is named in one line', (fn, expected) => {
  const msg = usage(fn);
  if (typeof expected === 'string') expect(msg).toBe(expected);
  else expect(msg).toMatch(expected);
  expect(msg).not.toContain('hunter2');
  expect(msg).not.toContain('secret');
});

test('valid values pass', () => {
  expect(postgresUrl('--database-url', 'postgresql://u:p@127.0.0.1:6432/platform?sslmode=verify-full')).toContain('6432');
  expect(postgresUrl('--database-url', 'postgres:///platform?host=/var/run/postgresql')).toContain('platform');
  expect(port('--port', '5432')).toBe(5432);
});

test('redactUrl and oneLine', () => {
  expect(redactUrl('postgres://admin:s3cr:et@host/db')).toBe('postgres://admin:***@host/db');
  expect(oneLine(new Error('first\n    at x (y.ts:1:2)'))).toBe('first');
});
