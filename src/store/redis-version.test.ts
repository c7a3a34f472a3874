import { redisVersionOf, redisVersionProblem } from './redis-version';

const info = (v: string): string => `# Server\r\nredis_version:${v}\r\nredis_mode:standalone\r\n`;

describe('Redis version check', () => {
  it('accepts 6.2 and newer, refuses older with a reason, and lets an unstated version pass', () => {
    expect(redisVersionOf(info('7.0.15'))).toEqual([7, 0, 15]);
    expect(redisVersionProblem(info('6.2.0'))).toBeUndefined();
    expect(redisVersionProblem(info('7.2.4'))).toBeUndefined();
    expect(redisVersionProblem(info('10.0.0'))).toBeUndefined();
    expect(redisVersionProblem(info('6.0.16'))).toBe(
      'Redis 6.0.16 is too old: 6.2 or newer is needed (GETDEL, SET PXAT)',
    );
    expect(redisVersionProblem(info('5.0.7'))).toMatch(/5\.0\.7 is too old/);
    expect(redisVersionProblem('# Server\r\nredis_mode:standalone\r\n')).toBeUndefined();
  });
});
