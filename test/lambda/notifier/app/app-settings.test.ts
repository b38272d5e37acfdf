import { appSettingsFromEnv, tokenFromSecret } from '../../../../lambda/notifier/app/app-settings';

test('webhook mode: no app settings; app mode: all of them, or an error naming the variable', () => {
  expect(appSettingsFromEnv({})).toBeUndefined();
  const env = { SLACK_MODE: 'app', THREAD_TABLE: 't', SLACK_BOT_TOKEN_SECRET: 's', SLACK_CHANNELS: '{"critical":"C1","warning":"C2","info":"C3"}', RETHREAD_AFTER_MINUTES: '60' };
  expect(appSettingsFromEnv(env)).toEqual({ table: 't', botTokenSecret: 's', channels: { critical: 'C1', warning: 'C2', info: 'C3' }, rethreadAfterMinutes: 60 });
  expect(() => appSettingsFromEnv({ ...env, THREAD_TABLE: '' })).toThrow(/THREAD_TABLE is required in Slack app mode/);
  expect(() => appSettingsFromEnv({ ...env, SLACK_CHANNELS: '{"critical":"C1"}' })).toThrow(/SLACK_CHANNELS names no channel for warning/);
});

test('the bot token secret may be the plain token or {"token": …}', () => {
  expect(tokenFromSecret('xoxb-1-2-abc\n')).toBe('xoxb-1-2-abc');
  expect(tokenFromSecret('{"token":"xoxb-1-2-abc"}')).toBe('xoxb-1-2-abc');
});
