import { describe, expect, it } from 'vitest';
import { fingerprint, messageHash } from './fingerprint';
import { parseV8Stack } from './stack';

describe('messageHash', () => {
  it('is the same for one bug with different values', () => {
    expect(messageHash('order 17 failed')).toBe(messageHash('order 99 failed'));
    expect(messageHash('order 17 failed')).not.toBe(messageHash('order 17 refunded'));
  });
});

describe('parseV8Stack', () => {
  it('maps deployed frames to repository paths and marks the rest as not in-app', () => {
    const frames = parseV8Stack(
      [
        "TypeError: Cannot read properties of undefined (reading 'push')",
        '    at normalizePreferences (/srv/app/src/users.ts:58:14)',
        '    at async createUser (file:///srv/app/src/app.ts:56:18)',
        '    at Layer.handle (/srv/app/node_modules/express/lib/router/layer.js:95:5)',
        '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
        '    at /opt/runtime/main.js:3:1',
      ].join('\n'),
    );
    expect(frames.map((f) => [f.function, f.file, f.line, f.inApp])).toEqual([
      ['normalizePreferences', 'src/users.ts', 58, true],
      ['createUser', 'src/app.ts', 56, true],
      ['Layer.handle', '/srv/app/node_modules/express/lib/router/layer.js', 95, false],
      ['process.processTicksAndRejections', 'node:internal/process/task_queues', 95, false],
      ['<anonymous>', '/opt/runtime/main.js', 3, false],
    ]);
  });
});

describe('fingerprint', () => {
  const frames = parseV8Stack('E\n    at a (/srv/app/src/a.ts:1:1)\n    at b (/srv/app/src/b.ts:2:2)');
  it('depends on service, error type and in-app frames, not on lines', () => {
    const shifted = frames.map((frame) => ({ ...frame, line: frame.line + 10 }));
    expect(fingerprint('svc', 'TypeError', frames)).toBe(fingerprint('svc', 'TypeError', shifted));
    expect(fingerprint('svc', 'TypeError', frames)).not.toBe(fingerprint('svc', 'RangeError', frames));
    expect(fingerprint('svc', 'TypeError', frames)).not.toBe(fingerprint('other', 'TypeError', frames));
    expect(fingerprint('svc', 'TypeError', frames)).not.toBe(fingerprint('svc', 'TypeError', frames.slice().reverse()));
    expect(fingerprint('svc', 'TypeError', frames)).toMatch(/^[0-9a-f]{32}$/);
  });
});
