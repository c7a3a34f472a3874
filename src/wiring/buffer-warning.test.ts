import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../observability/logger';
import { warnIfBufferCapped } from './transports';

describe('warnIfBufferCapped (socket(7) SO_RCVBUF is capped at net.core.rmem_max without an error)', () => {
  let dir: string;
  let warnings: Array<{ fields: object; message: string }>;
  const log = {
    warn: (fields: object, message: string) => warnings.push({ fields, message }),
  } as unknown as Logger;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rmem-'));
    warnings = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('says once that the buffer asked for is capped, and how to fix it', () => {
    writeFileSync(join(dir, 'rmem_max'), '212992\n');
    warnIfBufferCapped(8 * 1024 * 1024, log, join(dir, 'rmem_max'));
    expect(warnings).toEqual([
      {
        fields: { wanted: 8388608, rmemMax: 212992 },
        message: expect.stringMatching(/COAP_RECV_BUFFER_BYTES=8388608 is capped .* net.core.rmem_max=212992.*sysctl/),
      },
    ]);
  });

  it('is quiet when the kernel allows the size, or when it cannot tell', () => {
    writeFileSync(join(dir, 'rmem_max'), '16777216\n');
    warnIfBufferCapped(8 * 1024 * 1024, log, join(dir, 'rmem_max'));
    warnIfBufferCapped(8 * 1024 * 1024, log, join(dir, 'missing'));
    expect(warnings).toEqual([]);
  });
});
