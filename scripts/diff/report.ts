/**
 * The Markdown report: what is blocked and why, a summary table per environment and stack, the
 * security changes, then each stack's `cdk diff` text in a `<details>` block. It carries a hidden
 * marker so the PR workflow can find and update its one comment, and it stays under GitHub's
 * comment limit by dropping stack details first (the least important, largest first) and saying so.
 */
import type { Finding, GateResult } from './gate';
import type { ChangeKind, StackDiff } from './template-diff';

/** Hidden marker the PR workflow looks for to update its comment in place. */
export const REPORT_MARKER = '<!-- platform-infra-diff -->';

/** GitHub's limit on an issue/PR comment body, in characters. */
export const GITHUB_COMMENT_LIMIT = 65_536;

export interface ReportOptions {
  /** What was diffed against what, e.g. `origin/main` and `working tree`. */
  readonly oldLabel: string;
  readonly newLabel: string;
  /** Upper bound on the report's length (UTF-16 code units, which is at least the character count). @default 65536 */
  readonly maxChars?: number;
  /** Security table rows shown per stack before the rest is left to the details. @default 15 */
  readonly securityRowsPerStack?: number;
  /** Markdown lines of the cost section (scripts/cost/compare.ts `renderCostSection`). @default none */
  readonly costSection?: readonly string[];
}

const COUNTED: readonly ChangeKind[] = ['added', 'updated', 'replaced', 'destroyed', 'orphaned'];

interface RenderState {
  /** Stacks whose details were dropped to save space. */
  readonly dropped: ReadonlySet<string>;
  readonly securityRows: number;
}

/** Renders the report, dropping per-stack details (then security rows) until it fits `maxChars`. */
export function renderReport(stacks: readonly StackDiff[], gate: GateResult, opts: ReportOptions): string {
  const max = opts.maxChars ?? GITHUB_COMMENT_LIMIT;
  let state: RenderState = { dropped: new Set(), securityRows: opts.securityRowsPerStack ?? 15 };
  let out = render(stacks, gate, opts, state);
  if (out.length <= max) return out;

  // Drop details of stacks without blocking findings first, then the rest; largest first.
  const blockingStacks = new Set(gate.blocking.map((f) => f.stack));
  const candidates = stacks
    .filter((s) => s.details !== '')
    .sort((a, b) => Number(blockingStacks.has(a.displayName)) - Number(blockingStacks.has(b.displayName)) || b.details.length - a.details.length);
  const dropped = new Set<string>();
  for (const s of candidates) {
    dropped.add(s.displayName);
    state = { ...state, dropped };
    out = render(stacks, gate, opts, state);
    if (out.length <= max) return out;
  }
  state = { ...state, securityRows: 0 };
  out = render(stacks, gate, opts, state);
  if (out.length <= max) return out;

  // Still too long (thousands of findings): cut, keeping the marker and saying so.
  const tail = `\n\n… **Report truncated** at ${max.toLocaleString('en-US')} characters (GitHub's comment limit). Run \`npm run diff\` locally for the full report.\n`;
  return out.slice(0, max - tail.length) + tail;
}

function render(stacks: readonly StackDiff[], gate: GateResult, opts: ReportOptions, state: RenderState): string {
  const changed = stacks.filter((s) => s.status !== 'unchanged');
  const unchanged = stacks.filter((s) => s.status === 'unchanged');
  const envs = new Set(stacks.filter((s) => s.environment !== '').map((s) => s.environment));
  const L: string[] = [REPORT_MARKER, '## Infrastructure diff', ''];
  L.push(`Comparing ${code(opts.oldLabel)} → ${code(opts.newLabel)}: ${plural(envs.size, 'environment')}, ${plural(stacks.length, 'stack')}, ${changed.length} with changes.`, '');

  if (gate.blocking.length > 0) {
    const n = gate.blocking.length;
    L.push('> [!CAUTION]');
    L.push(`> **${n} stateful resource${n === 1 ? '' : 's'} would be replaced, destroyed or orphaned.** The diff gate fails until ${n === 1 ? 'it is' : 'they are'} accepted: the \`allow-destructive\` label on the pull request, or \`--allow <env>/<LogicalId>\` locally.`, '');
    L.push('### ⛔ Blocking changes', '');
    L.push(...findingTable(gate.blocking), '');
  } else if (changed.length === 0) {
    L.push('✅ **No infrastructure changes.**', '');
  } else {
    L.push('✅ No stateful resource is replaced, destroyed or orphaned.', '');
  }
  if (gate.allowed.length > 0) {
    L.push('### Accepted destructive changes', '');
    L.push(...findingTable(gate.allowed, true), '');
  }
  if (gate.unusedAllows.length > 0) {
    L.push(`⚠️ \`--allow\` matched nothing: ${gate.unusedAllows.map(code).join(', ')}.`, '');
  }

  if (changed.length > 0) {
    L.push('### Summary', '');
    L.push('| Environment | Stack | Added | Updated | Replaced | Destroyed | Orphaned | Notes |');
    L.push('|---|---|--:|--:|--:|--:|--:|---|');
    const blockingByStack = countBy(gate.blocking.map((f) => f.stack));
    for (const s of changed) {
      const counts = COUNTED.map((k) => {
        const n = s.resources.filter((r) => r.kind === k).length;
        return n > 0 && (k === 'replaced' || k === 'destroyed' || k === 'orphaned') ? `**${n}**` : String(n);
      });
      L.push(`| ${cell(s.environment || '(app)')} | ${cell(s.stackId)} | ${counts.join(' | ')} | ${notes(s, blockingByStack.get(s.displayName) ?? 0)} |`);
    }
    L.push('');
    if (unchanged.length > 0) L.push(`Unchanged: ${unchanged.map((s) => s.displayName).join(', ')}.`, '');
    const assetOnly = changed.reduce((n, s) => n + s.assetOnly.length, 0);
    if (assetOnly > 0) {
      L.push(`${assetOnly} resource${assetOnly === 1 ? '' : 's'} changed only by an asset hash (new Lambda bundle or other asset) and ${assetOnly === 1 ? 'is' : 'are'} not listed below.`, '');
    }
  }

  if (opts.costSection && opts.costSection.length > 0) L.push(...opts.costSection);

  const secure = changed.filter((s) => s.security.iamChanged || s.security.securityGroupsChanged);
  if (secure.length > 0) {
    L.push('### 🔐 Security changes', '');
    for (const s of secure) {
      const sec = s.security;
      const tags = [sec.iamBroadened ? '**IAM permissions broadened**' : sec.iamChanged ? 'IAM changed' : '', sec.securityGroupRulesAdded ? '**security group rules added**' : sec.securityGroupsChanged ? 'security group rules changed' : '']
        .filter(Boolean)
        .join(', ');
      L.push(`**${cell(s.displayName)}**: ${tags}`, '');
      L.push(...limitedTable(['', 'Resource', 'Effect', 'Action', 'Principal', 'Condition'], sec.iamStatements, state.securityRows));
      L.push(...limitedTable(['', 'Resource', 'Managed policy'], sec.managedPolicies, state.securityRows));
      L.push(...limitedTable(['', 'Group', 'Direction', 'Protocol', 'Peer'], sec.securityGroupRules, state.securityRows));
    }
  }

  const withDetails = changed.filter((s) => s.details !== '' || s.assetOnly.length > 0 || s.otherChanges.length > 0);
  if (withDetails.length > 0) {
    L.push('### Details', '');
    if (state.dropped.size > 0) {
      L.push(
        `> [!NOTE]\n> Details of ${state.dropped.size} stack${state.dropped.size === 1 ? '' : 's'} (${[...state.dropped].map(code).join(', ')}) were left out to keep this comment under GitHub's ${GITHUB_COMMENT_LIMIT.toLocaleString('en-US')}-character limit. Run \`npm run diff -- --base <ref>\` locally for the full diff.`,
        '',
      );
    }
    for (const s of withDetails) {
      const summary = `<b>${html(s.displayName)}</b>: ${summaryCounts(s)}`;
      L.push(`<details><summary>${summary}</summary>`, '');
      if (state.dropped.has(s.displayName)) {
        L.push('_Details left out (comment size limit)._', '');
      } else {
        if (s.details) L.push(fence(s.details), '');
        for (const r of s.resources.filter((x) => x.inPlaceDespiteSpec)) {
          L.push(`${code(r.logicalId)}: the resource spec says ${r.inPlaceDespiteSpec!.map(code).join(', ')} "may be replaced"; ${code(r.resourceType)} applies ${r.inPlaceDespiteSpec!.length === 1 ? 'it' : 'them'} in place (possibly with a reboot or failover), so this is counted as an update.`, '');
        }
        if (s.otherChanges.length > 0) L.push(`Other template changes: ${s.otherChanges.map(code).join(', ')}.`, '');
        if (s.assetOnly.length > 0) L.push(`Asset-hash-only changes (not shown): ${s.assetOnly.map(code).join(', ')}.`, '');
      }
      L.push('</details>', '');
    }
  }

  L.push('<sub>Offline template diff (no AWS access). Stateful: RDS instances and replicas, ElastiCache replication groups, EBS volumes, KMS keys, Secrets Manager secrets, backup vaults, audit log groups (tag `data-classification=audit` or an `audit` name), and any resource with DeletionPolicy Retain/Snapshot.</sub>');
  return L.join('\n') + '\n';
}

function findingTable(findings: readonly Finding[], withAllow = false): string[] {
  const head = withAllow
    ? ['| Environment | Stack | Logical ID | Type | Construct path | Change | Accepted by | Why |', '|---|---|---|---|---|---|---|---|']
    : ['| Environment | Stack | Logical ID | Type | Construct path | Change | Why |', '|---|---|---|---|---|---|---|'];
  const rows = findings.map((f) => {
    const c = f.change;
    const change = `**${c.conditional ? 'may be replaced' : c.kind}**`;
    const cells = [cell(f.environment || '(app)'), cell(f.stackId), code(c.logicalId), code(c.resourceType), c.path ? code(c.path) : '_unknown_', change];
    if (withAllow) cells.push(code(`--allow ${f.allowedBy}`));
    cells.push(cell(f.why));
    return `| ${cells.join(' | ')} |`;
  });
  return [...head, ...rows];
}

function notes(s: StackDiff, blocking: number): string {
  const n: string[] = [];
  if (s.status === 'added') n.push('new stack');
  if (s.status === 'removed') n.push('**stack removed**');
  if (blocking > 0) n.push(`⛔ ${blocking} stateful`);
  if (s.security.iamBroadened) n.push('🔐 IAM broadened');
  else if (s.security.iamChanged) n.push('🔐 IAM');
  if (s.security.securityGroupRulesAdded) n.push('🛡️ SG rules added');
  else if (s.security.securityGroupsChanged) n.push('🛡️ SG');
  const interrupting = s.resources.filter((r) => r.inPlaceDespiteSpec).length;
  if (interrupting > 0) n.push(`⚠️ ${interrupting} in-place update${interrupting === 1 ? '' : 's'} that may interrupt`);
  if (s.assetOnly.length > 0) n.push(`${s.assetOnly.length} asset-only`);
  if (s.otherChanges.length > 0) n.push(`${s.otherChanges.length} output/parameter`);
  return n.join(', ');
}

function summaryCounts(s: StackDiff): string {
  const parts = COUNTED.map((k) => [k, s.resources.filter((r) => r.kind === k).length] as const)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`);
  if (s.assetOnly.length > 0) parts.push(`${s.assetOnly.length} asset-only`);
  if (s.otherChanges.length > 0) parts.push(`${s.otherChanges.length} other`);
  return html(parts.join(', ') || 'no resource changes');
}

function limitedTable(header: string[], rows: readonly (readonly string[])[], limit: number): string[] {
  if (rows.length === 0) return [];
  const shown = rows.slice(0, limit);
  const out = shown.length > 0 ? [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...shown.map((r) => `| ${r.map(cell).join(' | ')} |`)] : [];
  if (rows.length > shown.length) out.push('', `_${rows.length - shown.length} more row${rows.length - shown.length === 1 ? '' : 's'} in the details._`);
  out.push('');
  return out;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function countBy(xs: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

/** Escapes text for a table cell: no pipes, no raw HTML, no line breaks. */
function cell(s: string): string {
  return html(s).replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

function html(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Inline code that survives backticks and pipes inside the value. */
function code(s: string): string {
  const ticks = '`'.repeat(Math.max(1, ...[...s.matchAll(/`+/g)].map((m) => m[0].length + 1)));
  const pad = s.startsWith('`') || s.endsWith('`') ? ' ' : '';
  return `${ticks}${pad}${s.replace(/\|/g, '\\|')}${pad}${ticks}`;
}

/** A fenced block longer than any backtick run inside the text. */
function fence(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const f = '`'.repeat(Math.max(3, longest + 1));
  return `${f}text\n${text}\n${f}`;
}
