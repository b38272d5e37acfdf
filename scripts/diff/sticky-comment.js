// @ts-check
/**
 * The PR workflow's sticky comment (run by actions/github-script, hence plain CommonJS): composes
 * the body from the diff report and, when there is one, the live `cdk diff` output, keeps it under
 * GitHub's comment limit, and creates the comment or updates the one that carries the marker.
 */
'use strict';

const fs = require('node:fs');

/** Must equal REPORT_MARKER in report.ts. */
const MARKER = '<!-- platform-infra-diff -->';
const LIMIT = 65536;

/**
 * @param {{ report?: string, diffExit?: string, live?: string, liveExit?: string, limit?: number }} opts
 * @returns {string}
 */
function composeBody({ report, diffExit, live, liveExit, limit = LIMIT }) {
  let body =
    report && report.includes(MARKER)
      ? report
      : `${MARKER}\n## Infrastructure diff\n\n> [!WARNING]\n> The diff did not produce a report (exit code ${diffExit || 'unknown'}): a usage, git or synth error. See the job log.\n`;
  if (live !== undefined) {
    const head = `\n### Live diff against the deployed stacks\n\n<details><summary>cdk diff --method template${liveExit && liveExit !== '0' ? ` (exit ${liveExit})` : ''}</summary>\n\n`;
    const tail = '\n</details>\n';
    const text = live.replace(/\x1b\[[0-9;]*m/g, '').trim();
    const longest = Math.max(2, ...Array.from(text.matchAll(/`+/g), (m) => m[0].length));
    const fence = '`'.repeat(longest + 1);
    const cut = '\n… (cut to fit the comment; the full output is in the job log)';
    const room = limit - body.length - head.length - tail.length - 2 * fence.length - 16 - cut.length;
    if (room < 200) {
      body += '\n_Live diff left out: no room left under the comment limit. See the job log._\n';
    } else {
      const shown = text.length > room ? text.slice(0, room) + cut : text;
      body += `${head}${fence}text\n${shown}\n${fence}\n${tail}`;
    }
  }
  return body.length > limit ? body.slice(0, limit) : body;
}

/**
 * Updates the bot's comment that carries the marker, or creates one.
 * @param {{ github: any, owner: string, repo: string, issueNumber: number, body: string }} opts
 * @returns {Promise<'created' | 'updated'>}
 */
async function upsertComment({ github, owner, repo, issueNumber, body }) {
  const comments = await github.paginate(github.rest.issues.listComments, { owner, repo, issue_number: issueNumber, per_page: 100 });
  // Only a bot's comment: a person quoting the marker must not have their comment overwritten.
  const mine = comments.find((/** @type {any} */ c) => c.user && c.user.type === 'Bot' && typeof c.body === 'string' && c.body.startsWith(MARKER));
  if (mine) {
    await github.rest.issues.updateComment({ owner, repo, comment_id: mine.id, body });
    return 'updated';
  }
  await github.rest.issues.createComment({ owner, repo, issue_number: issueNumber, body });
  return 'created';
}

/**
 * Entry point for actions/github-script.
 * @param {{ github: any, context: any, core: any, reportFile: string, liveFile?: string, env?: NodeJS.ProcessEnv }} opts
 */
async function run({ github, context, core, reportFile, liveFile, env = process.env }) {
  const read = (/** @type {string | undefined} */ f) => (f && fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : undefined);
  const body = composeBody({ report: read(reportFile), diffExit: env.DIFF_EXIT, live: read(liveFile), liveExit: env.LIVE_EXIT });
  const { owner, repo } = context.repo;
  const result = await upsertComment({ github, owner, repo, issueNumber: context.payload.pull_request.number, body });
  core.info(`diff comment ${result} (${body.length} characters)`);
  return result;
}

module.exports = { MARKER, LIMIT, composeBody, upsertComment, run };
