/**
 * SQL fragments and the named-statement templates of sql/roles/*.sql.
 *
 * A template's `{placeholder}`s are filled only with {@link Sql} values, which can only be made by
 * the functions below: quoted identifiers (pg's escapeIdentifier), quoted literals
 * (escapeLiteral) or keywords from a fixed list. No raw string reaches a statement.
 */
import { createHash } from 'node:crypto';
import { escapeIdentifier, escapeLiteral } from 'pg';

/** A piece of SQL text that is safe to splice into a statement. */
export class Sql {
  private constructor(public readonly text: string) {}
  /** @internal only this module makes fragments. */
  static make(text: string): Sql {
    return new Sql(text);
  }
  toString(): string {
    return this.text;
  }
}

/** A quoted identifier, e.g. `"gtapp"`. Any name from the catalogs or the validated config. */
export function ident(name: string): Sql {
  if (name.length === 0 || name.includes('\0')) throw new Error(`invalid SQL identifier ${JSON.stringify(name)}`);
  return Sql.make(escapeIdentifier(name));
}

/**
 * A value sent with the verifiers as the bind parameter of set_verifiers (templates.sql), read back
 * by `key` inside the statement: salts and verifier digests stay out of statement text and logs.
 */
export function sentValue(key: string): Sql {
  return Sql.make(`(pg_catalog.current_setting('platform_roles.verifiers')::pg_catalog.jsonb OPERATOR(pg_catalog.->>) ${escapeLiteral(key)})`);
}

/** A comma-separated list of quoted identifiers. */
export function idents(names: readonly string[]): Sql {
  if (names.length === 0) throw new Error('empty identifier list');
  return Sql.make(names.map((n) => ident(n).text).join(', '));
}

/** A grantee list: role names quoted, `PUBLIC` as the keyword. */
export function grantees(names: readonly string[]): Sql {
  if (names.length === 0) throw new Error('empty grantee list');
  return Sql.make(names.map((n) => (n === 'PUBLIC' ? 'PUBLIC' : ident(n).text)).join(', '));
}

/** A schema-qualified relation name, `"public"."gt_orders"`. */
export function qualified(schema: string, name: string): Sql {
  return Sql.make(`${ident(schema).text}.${ident(name).text}`);
}

/**
 * A routine's signature as the server printed it (`oid::regprocedure::text`, e.g.
 * `public.ag_leak(integer)`): the server quotes every identifier and type name that needs it, so
 * this only checks the shape, name(arguments), with nothing outside quotes but names, type words,
 * dots, commas, brackets and spaces.
 */
export function signature(text: string): Sql {
  const bare = text.replace(/"(?:[^"]|"")*"/g, 'q');
  if (!/^[A-Za-z0-9_$.]+\([A-Za-z0-9_$., \[\]]*\)$/.test(bare)) throw new Error(`not a routine signature: ${JSON.stringify(text)}`);
  return Sql.make(text);
}

/** A comma-separated list of fragments. */
export function list(items: readonly Sql[]): Sql {
  if (items.length === 0) throw new Error('empty list');
  return Sql.make(items.map((i) => i.text).join(', '));
}

/** A quoted string literal. */
export function literal(value: string | null): Sql {
  return Sql.make(value === null ? 'NULL' : escapeLiteral(value));
}

/** An integer literal. */
export function integer(value: number | null): Sql {
  if (value === null) return Sql.make('NULL');
  if (!Number.isSafeInteger(value)) throw new Error(`not an integer: ${value}`);
  return Sql.make(String(value));
}

/** A boolean literal. */
export function bool(value: boolean): Sql {
  return Sql.make(value ? 'true' : 'false');
}

/** A parenthesised row of values, `('a', 1)`. */
export function row(values: readonly Sql[]): Sql {
  return Sql.make(`(${values.map((v) => v.text).join(', ')})`);
}

const KEYWORDS = new Set([
  'LOGIN', 'NOLOGIN', 'NOSUPERUSER', 'NOCREATEDB', 'NOCREATEROLE', 'NOREPLICATION', 'NOBYPASSRLS',
  'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'USAGE', 'CREATE', 'CONNECT', 'TEMPORARY',
  'TABLE', 'SEQUENCE', 'TABLES', 'SEQUENCES', 'FUNCTIONS', 'TYPES', 'SCHEMAS', 'EXECUTE', 'ROUTINE',
]);

/** Keywords from a fixed list, separated by `sep` (e.g. privileges `SELECT, INSERT`). */
export function keywords(words: readonly string[], sep = ', '): Sql {
  if (words.length === 0) throw new Error('empty keyword list');
  for (const w of words) if (!KEYWORDS.has(w)) throw new Error(`not an allowed SQL keyword: ${JSON.stringify(w)}`);
  return Sql.make(words.join(sep));
}

/** Parses a file of `-- name: x` blocks into templates. Text before the first block is ignored. */
export function parseTemplates(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let name: string | undefined;
  let body: string[] = [];
  const flush = () => {
    if (name !== undefined) {
      const sql = body
        .filter((l) => !/^\s*--/.test(l))
        .join('\n')
        .trim()
        .replace(/;\s*$/, '');
      if (out.has(name)) throw new Error(`template "${name}" defined twice`);
      out.set(name, sql);
    }
    body = [];
  };
  for (const line of text.split('\n')) {
    const m = /^--\s*name:\s*([a-z_]+)\s*$/.exec(line);
    if (m) {
      flush();
      name = m[1];
    } else {
      body.push(line);
    }
  }
  flush();
  return out;
}

/** Fills a template's `{name}` placeholders; throws on a missing or an unused parameter. */
export function render(template: string, params: Record<string, Sql>): string {
  const used = new Set<string>();
  const out = template.replace(/\{([a-z_]+)\}/g, (_m, key: string) => {
    const v = params[key];
    if (!(v instanceof Sql)) throw new Error(`template parameter {${key}} is missing or not an Sql fragment`);
    used.add(key);
    return v.text;
  });
  for (const k of Object.keys(params)) if (!used.has(k)) throw new Error(`template parameter {${k}} is not used`);
  return out;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
