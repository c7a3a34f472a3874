import { AttributeError, attributesToQuery } from './attributes';

describe('attributesToQuery (LwM2M-Core 1.2 §5.1.2)', () => {
  it('renders values and unsets in a stable order', () => {
    expect(attributesToQuery({ pmax: 60, pmin: 10, gt: 30.5, st: null })).toEqual([
      'pmin=10',
      'pmax=60',
      'gt=30.5',
      'st',
    ]);
  });
  it.each([
    [{ pmin: -1 }, /pmin/],
    [{ pmin: 1.5 }, /pmin/],
    [{ pmin: 10, pmax: 5 }, /pmax/],
    [{ epmin: 5, epmax: 5 }, /epmax/],
    [{ lt: 10, gt: 12, st: 1 }, /lt \+ 2\*st/],
    [{ gt: Number.NaN }, /gt/],
    [{}, /no attribute/],
  ])('rejects %j', (attrs, message) => {
    expect(() => attributesToQuery(attrs)).toThrow(AttributeError);
    expect(() => attributesToQuery(attrs)).toThrow(message);
  });
});
