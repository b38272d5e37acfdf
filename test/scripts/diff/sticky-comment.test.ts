import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPORT_MARKER } from '../../../scripts/diff/report';
import { tempDir } from './fixtures';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const sticky = require('../../../scripts/diff/sticky-comment.js') as typeof import('../../../scripts/diff/sticky-comment.js');

function fakeGithub(existing: Array<{ id: number; user: { type: string }; body: string }>) {
  const calls: Array<[string, Record<string, unknown>]> = [];
  const github = {
    rest: {
      issues: {
        listComments: 'listComments',
        updateComment: async (a: Record<string, unknown>) => void calls.push(['update', a]),
        createComment: async (a: Record<string, unknown>) => void calls.push(['create', a]),
      },
    },
    paginate: async (method: string, args: Record<string, unknown>) => {
      calls.push([`paginate:${method}`, args]);
      return existing;
    },
  };
  return { github, calls };
}

describe('sticky comment', () => {
  test('its marker is the report marker', () => {
    expect(sticky.MARKER).toBe(REPORT_MARKER);
  });

  test('updates the bot comment that starts with the marker, never a person quoting it', async () => {
    const { github, calls } = fakeGithub([
      { id: 1, user: { type: 'User' }, body: `${REPORT_MARKER} quoted by a person` },
      { id: 2, user: { type: 'Bot' }, body: 'some other bot' },
      { id: 3, user: { type: 'Bot' }, body: `${REPORT_MARKER}\nold report` },
    ]);
    const r = await sticky.upsertComment({ github, owner: 'acme', repo: 'infra', issueNumber: 7, body: `${REPORT_MARKER}\nnew` });
    expect(r).toBe('updated');
    expect(calls).toEqual([
      ['paginate:listComments', { owner: 'acme', repo: 'infra', issue_number: 7, per_page: 100 }],
      ['update', { owner: 'acme', repo: 'infra', comment_id: 3, body: `${REPORT_MARKER}\nnew` }],
    ]);
  });

  test('creates the comment when there is none', async () => {
    const { github, calls } = fakeGithub([{ id: 1, user: { type: 'User' }, body: `${REPORT_MARKER}` }]);
    expect(await sticky.upsertComment({ github, owner: 'a', repo: 'b', issueNumber: 1, body: 'x' })).toBe('created');
    expect(calls[1]).toEqual(['create', { owner: 'a', repo: 'b', issue_number: 1, body: 'x' }]);
  });

  test('a missing report becomes a warning that still carries the marker', () => {
    const body = sticky.composeBody({ diffExit: '2' });
    expect(body.startsWith(REPORT_MARKER)).toBe(true);
    expect(body).toContain('exit code 2');
  });

  test('the live diff is appended in a fence that outlasts its backticks, without colour codes', () => {
    const body = sticky.composeBody({ report: `${REPORT_MARKER}\nreport`, live: '\x1b[32m[+] thing ```x```\x1b[0m', liveExit: '0' });
    expect(body).toContain('### Live diff against the deployed stacks');
    expect(body).toContain('````text\n[+] thing ```x```\n````');
    expect(body).not.toContain('\x1b');
  });

  test('a long live diff is cut so the whole comment stays under the limit', () => {
    const report = `${REPORT_MARKER}\n${'r'.repeat(60_000)}`;
    const body = sticky.composeBody({ report, live: 'l'.repeat(50_000), liveExit: '1' });
    expect(body.length).toBeLessThanOrEqual(sticky.LIMIT);
    expect(body).toContain('cut to fit the comment');
    expect(body).toContain('(exit 1)');
    expect(body.endsWith('</details>\n')).toBe(true);
    const full = sticky.composeBody({ report: `${REPORT_MARKER}\n${'r'.repeat(65_400)}`, live: 'x' });
    expect(full).toContain('Live diff left out');
    expect(full.length).toBeLessThanOrEqual(sticky.LIMIT);
  });

  test('run() reads the files and posts', async () => {
    const dir = tempDir();
    try {
      fs.writeFileSync(path.join(dir, 'diff.md'), `${REPORT_MARKER}\nhello`);
      const { github, calls } = fakeGithub([]);
      const info: string[] = [];
      const r = await sticky.run({
        github,
        context: { repo: { owner: 'o', repo: 'r' }, payload: { pull_request: { number: 5 } } },
        core: { info: (m: string) => info.push(m) },
        reportFile: path.join(dir, 'diff.md'),
        liveFile: path.join(dir, 'live.txt'),
        env: { DIFF_EXIT: '0' },
      });
      expect(r).toBe('created');
      expect(calls[1][1].body).toBe(`${REPORT_MARKER}\nhello`);
      expect(info[0]).toMatch(/diff comment created/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
