/**
 * The custom resource's logger: each line is the message and its fields as one JSON object,
 * written with the console method of its level. With the function's JSON log format, Lambda wraps
 * console output with the level, timestamp and request id, and filters it by the application log
 * level (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html).
 * It replaces a Powertools Logger here, whose ~23 kB would not fit a bundle that must stay under
 * 200 kB (issue 10; test/lambda/role-schema/bundle.test.ts).
 */
export interface Log {
  info(message: string, fields?: object): void;
  warn(message: string, fields?: object): void;
  error(message: string, fields?: object): void;
}

export function jsonLog(service: string, out: Pick<Console, 'info' | 'warn' | 'error'> = console): Log {
  const line = (message: string, fields: object = {}) => JSON.stringify({ message, service, ...fields });
  return {
    info: (m, f) => out.info(line(m, f)),
    warn: (m, f) => out.warn(line(m, f)),
    error: (m, f) => out.error(line(m, f)),
  };
}
