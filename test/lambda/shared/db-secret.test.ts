import { parseDbSecret } from '../../../lambda/shared/db-secret';

describe('parseDbSecret', () => {
  test('reads the RDS secret shape', () => {
    expect(parseDbSecret('s', JSON.stringify({ username: 'u', password: 'p', host: 'h', port: '6432', dbname: 'd', engine: 'postgres' }))).toEqual({
      username: 'u', password: 'p', host: 'h', port: 6432, dbname: 'd',
    });
  });

  test.each([
    [undefined, /s has no SecretString/],
    ['{not json hunter2', /s is not JSON/],
    ['null', /needs string "username" and "password"/],
    [JSON.stringify({ username: 'u' }), /needs string "username" and "password"/],
    [JSON.stringify({ username: 'u', password: '' }), /needs string "username" and "password"/],
  ])('%s is rejected without echoing the content', (raw, message) => {
    expect(() => parseDbSecret('s', raw)).toThrow(message);
    try {
      parseDbSecret('s', raw);
    } catch (e) {
      expect(String(e)).not.toContain('hunter2');
    }
  });
});
