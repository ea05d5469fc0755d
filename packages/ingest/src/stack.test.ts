import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fingerprint } from './fingerprint';
import { frameOrigin, mapFramesToRepository, parseV8Frames, parseV8Stack, pathSegments } from './stack';

const REPO = ['src/app.ts', 'src/orders/create.ts', 'src/handler.mjs', 'lib/util.js', 'index.js', 'package.json'];

/** Parses `stack` and maps it to the REPO files, returning [function, file, inApp] per frame. */
function mapped(stack: string, files: readonly string[] = REPO, override?: string) {
  return mapFramesToRepository(parseV8Frames(stack), files, override);
}

function rows(stack: string, files: readonly string[] = REPO, override?: string) {
  return mapped(stack, files, override).frames.map((frame) => [frame.function, frame.file, frame.inApp]);
}

describe('parseV8Frames', () => {
  it('reads paths, file:// URLs, Windows paths, bundler URLs and async frames', () => {
    const frames = parseV8Frames(
      [
        "TypeError: Cannot read properties of undefined (reading 'id')",
        '    at createOrder (/var/task/src/orders/create.ts:12:7)',
        '    at async handler (file:///var/task/src/handler%20v2.mjs:4:3)',
        '    at Object.<anonymous> (C:\\app\\src\\app.ts:9:1)',
        '    at route (webpack://svc/./src/app.ts:3:2)',
        '    at /var/task/index.js:1:1',
        '    at Array.map (<anonymous>)',
        '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
      ].join('\n'),
    );
    expect(frames.map((frame) => [frame.function, frame.file, frame.line, frame.column])).toEqual([
      ['createOrder', '/var/task/src/orders/create.ts', 12, 7],
      ['handler', '/var/task/src/handler v2.mjs', 4, 3],
      ['Object.<anonymous>', 'C:\\app\\src\\app.ts', 9, 1],
      ['route', 'webpack://svc/./src/app.ts', 3, 2],
      ['<anonymous>', '/var/task/index.js', 1, 1],
      ['process.processTicksAndRejections', 'node:internal/process/task_queues', 95, 5],
    ]);
    expect(frames.every((frame) => !frame.inApp)).toBe(true);
  });

  it('tells dependencies and Node internals from own code by the path alone', () => {
    expect(frameOrigin('/var/task/node_modules/pg/lib/client.js')).toBe('dependency');
    expect(frameOrigin('C:\\app\\node_modules\\zod\\index.js')).toBe('dependency');
    expect(frameOrigin('node:internal/timers')).toBe('internal');
    expect(frameOrigin('internal/process/task_queues.js')).toBe('internal');
    expect(frameOrigin('/var/task/src/node_modules_helper.ts')).toBe('own');
    expect(pathSegments('C:\\app\\src\\x.js')).toEqual(['app', 'src', 'x.js']);
    expect(pathSegments('webpack://svc/./src/x.ts')).toEqual(['svc', 'src', 'x.ts']);
  });
});

describe('mapFramesToRepository on the deploy layouts services run under', () => {
  const cases: [string, string, string][] = [
    ['AWS Lambda', '/var/task/', '/var/task/'],
    ['a container under /usr/src/app', '/usr/src/app/', '/usr/src/app/'],
    ['the node image home', '/home/node/app/', '/home/node/app/'],
    ['a service folder under /opt', '/opt/service/orders/current/', '/opt/service/orders/current/'],
    ['a file:// URL (ES modules)', 'file:///srv/app/', '/srv/app/'],
    ['a Windows path', 'C:\\app\\', '/app/'],
    ['a webpack source map', 'webpack://orders-svc/./', '/orders-svc/'],
    ['a bundle beside its sources', '/var/task/../', '/var/task/../'],
  ];
  it.each(cases)('%s', (_layout, prefix, root) => {
    const at = (file: string) => (prefix.includes('\\') ? prefix + file.replace(/\//g, '\\') : prefix + file);
    const stack = [
      'TypeError: boom',
      `    at parse (${at('node_modules/zod/index.js')}:1:1)`,
      `    at createOrder (${at('src/orders/create.ts')}:12:7)`,
      `    at async handler (${at('src/handler.mjs')}:4:3)`,
      '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
    ].join('\n');
    const result = mapped(stack);
    expect(result.frames.map((frame) => [frame.function, frame.file, frame.inApp])).toEqual([
      ['parse', expect.stringContaining('node_modules'), false],
      ['createOrder', 'src/orders/create.ts', true],
      ['handler', 'src/handler.mjs', true],
      ['process.processTicksAndRejections', 'node:internal/process/task_queues', false],
    ]);
    expect(result.deployRoot).toBe(root);
  });

  it('prefers the root most frames share when a path could name two files', () => {
    const files = ['app/x.ts', 'x.ts', 'y.ts', 'z.ts'];
    const stack = 'E\n    at f (/srv/app/x.ts:1:1)\n    at g (/srv/app/y.ts:1:1)\n    at h (/srv/app/z.ts:1:1)';
    expect(rows(stack, files)).toEqual([
      ['f', 'x.ts', true],
      ['g', 'y.ts', true],
      ['h', 'z.ts', true],
    ]);
    // Alone, the longest suffix wins.
    expect(rows('E\n    at f (/srv/app/x.ts:1:1)', files)).toEqual([['f', 'app/x.ts', true]]);
  });

  it('leaves frames outside the repository (a runtime, a built file not in git) out of the app', () => {
    expect(rows('E\n    at a (/var/task/dist/app.js:1:1)\n    at Runtime.handle (file:///var/runtime/index.mjs:1173:29)')).toEqual([
      ['a', '/var/task/dist/app.js', false],
      ['Runtime.handle', '/var/runtime/index.mjs', false],
    ]);
  });

  it('uses the catalog deployRoot instead of inference when given', () => {
    const files = ['app/x.ts', 'x.ts'];
    expect(rows('E\n    at f (/srv/app/x.ts:1:1)', files, '/srv/app/')).toEqual([['f', 'x.ts', true]]);
    expect(rows('E\n    at f (/srv/app/x.ts:1:1)', files, '/srv/')).toEqual([['f', 'app/x.ts', true]]);
    expect(rows('E\n    at f (/elsewhere/x.ts:1:1)', files, '/srv/app')).toEqual([['f', '/elsewhere/x.ts', false]]);
    expect(mapped('E\n    at f (/srv/app/x.ts:1:1)', files, '/srv/app').deployRoot).toBe('/srv/app/');
  });

  // Segments of repository paths and of deploy roots come from disjoint sets, so every stack has one right answer.
  const repoSegment = fc.constantFrom('src', 'lib', 'orders', 'handlers', 'util', 'core');
  const fileName = fc.tuple(fc.constantFrom('index', 'x', 'y', 'handler', 'api', 'db'), fc.constantFrom('ts', 'js', 'mjs', 'cjs')).map(([name, ext]) => `${name}.${ext}`);
  const repoFile = fc.tuple(fc.array(repoSegment, { maxLength: 3 }), fileName).map(([dirs, name]) => [...dirs, name].join('/'));
  const rootSegment = fc.constantFrom('var', 'task', 'usr', 'app', 'home', 'node', 'opt', 'service', 'srv', 'deploy-1');
  const layout = fc.oneof(
    fc.array(rootSegment, { maxLength: 4 }).map((segments) => (file: string) => `/${[...segments, file].join('/')}`),
    fc.array(rootSegment, { maxLength: 3 }).map((segments) => (file: string) => `file:///${[...segments, file].join('/')}`),
    fc.array(rootSegment, { minLength: 1, maxLength: 3 }).map((segments) => (file: string) => `C:\\${[...segments, file].join('\\').replace(/\//g, '\\')}`),
    rootSegment.map((name) => (file: string) => `webpack://${name}/./${file}`),
    fc.array(rootSegment, { minLength: 1, maxLength: 3 }).map((segments) => (file: string) => `/${segments.join('/')}/../${file}`),
  );
  const frame = (files: string[]) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...files), fc.boolean()).map(([file, isAsync]) => ({ kind: 'repo' as const, file, isAsync })) },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom('pg', 'express', '@aws-sdk/client-s3'), fileName).map(([pkg, name]) => ({ kind: 'dependency' as const, file: `node_modules/${pkg}/${name}`, isAsync: false })) },
      { weight: 1, arbitrary: fc.constant({ kind: 'internal' as const, file: '', isAsync: false }) },
    );
  const scenario = fc
    .uniqueArray(repoFile, { minLength: 1, maxLength: 30 })
    .chain((files) => fc.record({ files: fc.constant(files), layout, frames: fc.array(frame(files), { minLength: 1, maxLength: 20 }) }));

  it('maps every generated stack to exactly the repository-relative paths (property)', () => {
    fc.assert(
      fc.property(scenario, ({ files, layout: at, frames }) => {
        const stack = [
          'Error: generated',
          ...frames.map((item, index) =>
            item.kind === 'internal'
              ? `    at process.processTicksAndRejections (node:internal/process/task_queues:${index + 1}:5)`
              : `    at ${item.isAsync ? 'async ' : ''}fn${index} (${at(item.file)}:${index + 1}:3)`,
          ),
        ].join('\n');
        const result = mapFramesToRepository(parseV8Frames(stack), files).frames;
        expect(result).toHaveLength(frames.length);
        result.forEach((mappedFrame, index) => {
          const expected = frames[index]!;
          expect(mappedFrame.inApp).toBe(expected.kind === 'repo');
          if (expected.kind === 'repo') expect(mappedFrame.file).toBe(expected.file);
          expect(mappedFrame.line).toBe(index + 1);
        });
      }),
      { numRuns: 300 },
    );
  });
});

describe('a crash inside node_modules reached from repository code', () => {
  const crash = (root: string) =>
    [
      "TypeError: Cannot read properties of undefined (reading 'rows')",
      `    at Client.query (${root}node_modules/pg/lib/client.js:526:17)`,
      `    at loadOrder (${root}src/orders/create.ts:30:9)`,
      `    at async createOrder (${root}src/orders/create.ts:12:7)`,
      `    at async handler (${root}src/handler.mjs:4:3)`,
    ].join('\n');

  it('keeps the dependency frame out of the app; the nearest repository frame leads, as the sandbox sees it under /work/', () => {
    const production = mapped(crash('/var/task/')).frames;
    expect(production[0]).toMatchObject({ function: 'Client.query', inApp: false });
    // The replay runs the repository at /work/ with its dependencies at /work/node_modules/.
    const replay = mapped(crash('/work/')).frames;
    const top = (frames: typeof production) => frames.filter((frame) => frame.inApp).map((frame) => [frame.function, frame.file]);
    expect(top(production)).toEqual([
      ['loadOrder', 'src/orders/create.ts'],
      ['createOrder', 'src/orders/create.ts'],
      ['handler', 'src/handler.mjs'],
    ]);
    expect(top(replay)).toEqual(top(production));
  });
});

describe('fingerprints do not depend on the deploy root', () => {
  const stack = (root: string) => `TypeError: x\n    at Client.query (${root}node_modules/pg/lib/client.js:1:1)\n    at loadOrder (${root}src/orders/create.ts:30:9)\n    at handler (${root}src/handler.mjs:4:3)`;

  it('is the same under /srv/app/, /var/task/, a file:// URL and a Windows path, mapped or not', () => {
    const byAppRoots = fingerprint('orders', 'TypeError', parseV8Stack(stack('/srv/app/')));
    expect(parseV8Stack(stack('/srv/app/')).some((frame) => frame.inApp)).toBe(true);
    // Unknown to the app-root heuristic: nothing is in-app, yet the fingerprint is the same.
    expect(parseV8Stack(stack('/var/task/')).some((frame) => frame.inApp)).toBe(false);
    expect(fingerprint('orders', 'TypeError', parseV8Stack(stack('/var/task/')))).toBe(byAppRoots);
    expect(fingerprint('orders', 'TypeError', mapped(stack('/var/task/')).frames)).toBe(byAppRoots);
    expect(fingerprint('orders', 'TypeError', parseV8Stack(stack('file:///home/node/app/')))).toBe(byAppRoots);
    expect(fingerprint('orders', 'TypeError', parseV8Stack(stack('C:\\svc\\').replace(/\//g, '\\')))).toBe(byAppRoots);
    // The dependency frame does not take part: another driver version, same fingerprint.
    expect(fingerprint('orders', 'TypeError', parseV8Stack(stack('/var/task/').replace('client.js:1:1', 'connection.js:9:9')))).toBe(byAppRoots);
    expect(fingerprint('orders', 'TypeError', parseV8Stack(stack('/var/task/').replace('loadOrder', 'loadOrders')))).not.toBe(byAppRoots);
  });
});
