import { compilePattern, PatternError } from './pattern';

describe('compilePattern', () => {
  it('matches globs on the whole name and regexes as written', () => {
    expect(compilePattern('sensor-*').test('sensor-12')).toBe(true);
    expect(compilePattern('sensor-*').test('xsensor-12')).toBe(false);
    expect(compilePattern('dev-??').test('dev-ab')).toBe(true);
    expect(compilePattern('dev-??').test('dev-abc')).toBe(false);
    expect(compilePattern('a.b*').test('axb')).toBe(false);
    expect(compilePattern('/^urn:imei:\\d+$/').test('urn:imei:123')).toBe(true);
    expect(compilePattern('/METER/i').test('smart-meter-1')).toBe(true);
  });

  it('refuses a regular expression that does not compile, quoting it, and ignores the g and y flags', () => {
    expect(() => compilePattern('/a(/')).toThrow(PatternError);
    expect(() => compilePattern('/a(/')).toThrow(/invalid regular expression \/a\(\//);
    const re = compilePattern('/x/gy');
    expect(re.flags).toBe('');
    expect([re.test('x'), re.test('x')]).toEqual([true, true]);
  });
});
