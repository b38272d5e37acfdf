// The AWS SDK v3 warns once per process, over eight lines, that releases after January 2027 will
// need Node 22 (@aws-sdk/core checks this variable when a client is created). Tests run on the
// machines' Node 20 (see the README's "Which Node runs where") and create clients in every worker
// and spawned CLI, so the warning would flood the output; set here, it reaches the workers and
// their children through the environment. The CLIs themselves still warn a person on Node 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
// The handlers' Powertools loggers write JSON lines straight to stdout (past jest's console
// capture), so a passing test printed raw log lines. Tests assert what the handlers do through
// injected loggers and the EMF documents (Metrics, not affected); set POWERTOOLS_LOG_LEVEL=DEBUG
// when running one file to see the lines again.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // swc strips types without type-checking: ~20x faster than ts-jest. `npm run typecheck` checks types.
  transform: {
    '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022' } }],
    '^.+\\.sql$': '<rootDir>/test/support/text-transform.js',
  },
  // github-slugger (GitHub's own heading anchors, for the runbook test) ships only as ES modules.
  transformIgnorePatterns: ['/node_modules/(?!github-slugger/)'],
  moduleFileExtensions: ['ts', 'js', 'json', 'sql', 'sh'],
  // Three workers on the 2 cores: many files wait on a PostgreSQL or Redis server, a spawned CLI or
  // cfn-lint, so a third keeps the cores busy (measured on the same tree, idle machine: 171 s with
  // 2 workers, 152 s with 3).
  maxWorkers: 3,
  // One real `cdk synth` per run, shared by every test that reads the app's templates.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  testTimeout: 60000,
};
