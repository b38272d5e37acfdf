/**
 * Offline EventBridge event-pattern matching, for the contract tests that check every rule of the
 * app against AWS's own sample events.
 *
 * Why hand-written: no well-kept offline implementation is on npm. `eb-patterns` (a local
 * TestEventPattern) is not served by the registry (404), the npm package list of this machine has
 * no other, and `@aws-sdk/client-eventbridge` TestEventPattern needs AWS, which tests never call.
 * AWS's own matcher (aws/event-ruler) is Java. So this covers the pattern syntax the app's rules
 * use and the rest of the documented comparison operators, following the EventBridge user guide:
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html and
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 * An operator it does not know throws, so a pattern is never matched by accident.
 *
 * Semantics: every field of the pattern must match (AND); the array under a field lists allowed
 * values (OR); an event field that is an array matches if any element does; a field missing from
 * the event matches only `{ "exists": false }`.
 */
export type EventPattern = Record<string, unknown>;

export function matchesEventPattern(event: unknown, pattern: EventPattern): boolean {
  return matchObject(event, pattern);
}

function matchObject(value: unknown, pattern: EventPattern): boolean {
  const obj = isPlainObject(value) ? value : undefined;
  return Object.entries(pattern).every(([key, sub]) => {
    if (key === '$or') {
      if (!Array.isArray(sub)) throw new Error('$or must be an array of patterns');
      return sub.some((p) => matchObject(value, p as EventPattern));
    }
    const field = obj?.[key];
    if (Array.isArray(sub)) return matchField(field, obj !== undefined && key in obj, sub);
    if (isPlainObject(sub)) return matchObject(field, sub);
    throw new Error(`Event pattern field "${key}" must be an array or an object, got ${JSON.stringify(sub)}`);
  });
}

function matchField(field: unknown, present: boolean, allowed: unknown[]): boolean {
  // An `exists` test looks at presence, not at values.
  const values = !present ? [] : Array.isArray(field) ? field : [field];
  return allowed.some((rule) => {
    if (isPlainObject(rule) && 'exists' in rule) return rule.exists === (present && !isPlainObject(field));
    return values.some((v) => matchValue(v, rule));
  });
}

function matchValue(v: unknown, rule: unknown): boolean {
  if (rule === null || typeof rule !== 'object') return v === rule;
  const [op, arg, ...rest] = Object.entries(rule as Record<string, unknown>).flat();
  if (rest.length > 0) throw new Error(`One operator per matcher, got ${JSON.stringify(rule)}`);
  switch (op) {
    case 'prefix':
      if (isPlainObject(arg)) return typeof v === 'string' && typeof arg['equals-ignore-case'] === 'string' && v.toLowerCase().startsWith(arg['equals-ignore-case'].toLowerCase());
      return typeof v === 'string' && v.startsWith(String(arg));
    case 'suffix':
      if (isPlainObject(arg)) return typeof v === 'string' && typeof arg['equals-ignore-case'] === 'string' && v.toLowerCase().endsWith(arg['equals-ignore-case'].toLowerCase());
      return typeof v === 'string' && v.endsWith(String(arg));
    case 'equals-ignore-case':
      return typeof v === 'string' && v.toLowerCase() === String(arg).toLowerCase();
    case 'wildcard':
      return typeof v === 'string' && wildcard(String(arg)).test(v);
    case 'anything-but':
      if (Array.isArray(arg)) return !arg.some((a) => matchValue(v, a));
      if (isPlainObject(arg)) return !matchValue(v, arg);
      return v !== arg;
    case 'numeric':
      return typeof v === 'number' && numeric(v, arg as unknown[]);
    default:
      throw new Error(`Event pattern operator "${String(op)}" is not supported by this matcher`);
  }
}

function numeric(v: number, conds: unknown[]): boolean {
  for (let i = 0; i < conds.length; i += 2) {
    const [op, n] = [conds[i], Number(conds[i + 1])];
    const ok = op === '=' ? v === n : op === '<' ? v < n : op === '<=' ? v <= n : op === '>' ? v > n : op === '>=' ? v >= n : undefined;
    if (ok === undefined) throw new Error(`Unknown numeric operator ${String(op)}`);
    if (!ok) return false;
  }
  return true;
}

function wildcard(p: string): RegExp {
  return new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
