/**
 * The service registry: which microservices share the central database and the table prefix each
 * one owns (seed 004). Imported by the CDK app (validated at synth, inside the environment schema)
 * and by the role-schema Lambda (validated again in the handler): one schema, the single source of
 * the registry rules for both.
 *
 * It is written with zod's mini build (`zod/mini`, https://zod.dev/packages/mini), which tree-shakes:
 * the Lambda bundles ~20 kB of zod instead of ~450 kB with the classic build (issue 10). A mini
 * schema nests in the classic schemas of lib/config/schema.ts as any other (both are zod 4 core
 * types). The English messages are loaded here, since zod/mini loads no locale by itself.
 */
import * as z from 'zod/mini';
import { en } from 'zod/locales';

z.config(en());

/** Lower-case letters, 2–8 of them, then `_` (e.g. `gt_`). */
export const PREFIX_PATTERN = /^[a-z]{2,8}_$/;

export const serviceSchema = z.strictObject({
  /** Human name of the service, e.g. `gatherer`. */
  name: z
    .string()
    .check(z.regex(/^[a-z][a-z0-9-]{1,30}$/, 'service name must be lower-case letters, digits or "-", 2–31 characters, starting with a letter')),
  /** Table prefix the service owns, e.g. `gt_`. Roles are `{p}own`, `{p}app`, `{p}user` with `{p}` = prefix without `_`. */
  prefix: z
    .string()
    .check(z.regex(PREFIX_PATTERN, 'prefix must be 2–8 lower-case letters followed by "_" (e.g. "gt_")')),
  /** `password`: login roles get Secrets Manager secrets. `iam`: `GRANT rds_iam`, no password. */
  auth: z._default(z.enum(['password', 'iam']), 'password'),
});

export type ServiceInput = z.input<typeof serviceSchema>;
export type Service = z.output<typeof serviceSchema>;

export const serviceRegistrySchema = z.array(serviceSchema).check(
  z.minLength(1, 'the service registry needs at least one service'),
  z.superRefine((services, ctx) => {
    const seenPrefix = new Map<string, number>();
    const seenName = new Map<string, number>();
    services.forEach((s, i) => {
      const p = seenPrefix.get(s.prefix);
      if (p !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [i, 'prefix'],
          message: `duplicate prefix "${s.prefix}" (also used by services[${p}] "${services[p].name}"); every service needs its own prefix`,
        });
      } else {
        seenPrefix.set(s.prefix, i);
      }
      const n = seenName.get(s.name);
      if (n !== undefined) {
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate service name "${s.name}" (also services[${n}])` });
      } else {
        seenName.set(s.name, i);
      }
    });
    // Role names cannot collide when prefixes differ: the suffixes own/app/user end differently.
  }),
);

/** The twelve services and prefixes of seed 004. */
export const DEFAULT_SERVICES: readonly ServiceInput[] = [
  { name: 'gatherer', prefix: 'gt_' },
  { name: 'aggregator', prefix: 'ag_' },
  { name: 'scheduler', prefix: 'sc_' },
  { name: 'ledger', prefix: 'lg_' },
  { name: 'notifier', prefix: 'nf_' },
  { name: 'observer', prefix: 'ob_' },
  { name: 'moderator', prefix: 'md_' },
  { name: 'gamer', prefix: 'gm_' },
  { name: 'prompter', prefix: 'pm_' },
  { name: 'requester', prefix: 'rq_' },
  { name: 'itg', prefix: 'it_' },
  { name: 'allocator', prefix: 'al_' },
];

/** Role base for a prefix: `gt_` → `gt`. */
export function roleBase(prefix: string): string {
  return prefix.slice(0, -1);
}

/** The three role names of a service, e.g. `{ own: 'gtown', app: 'gtapp', user: 'gtuser' }`. */
export function roleNames(prefix: string): { own: string; app: string; user: string } {
  const b = roleBase(prefix);
  return { own: `${b}own`, app: `${b}app`, user: `${b}user` };
}

/**
 * Validate a registry and return it with defaults applied. Throws an Error whose message names
 * every bad entry, e.g. `services[3].prefix: prefix must be ...`.
 */
export function parseServiceRegistry(input: unknown, where = 'services'): Service[] {
  const r = serviceRegistrySchema.safeParse(input);
  if (!r.success) {
    throw new Error(
      `Invalid service registry: ${r.error.issues
        .map((i) => `${where}${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${i.message}`)
        .join('; ')}`,
    );
  }
  return r.data;
}
