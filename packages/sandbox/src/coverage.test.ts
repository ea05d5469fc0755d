import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeMappings, inlineSourceMap, sourceLineCoverage } from './coverage';
import type { ScriptCoverage } from './replay';

function inline(map: object): string {
  return `//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}`;
}

describe('decodeMappings', () => {
  it('decodes relative VLQ fields across segments and lines', () => {
    // AAAA: 0,0,0,0; SAAS: +9,0,0,+9; next line AACA: 0,0,+1,0; KAAK: +5,0,0,+5. Only the generated
    // column restarts per line; original positions carry over.
    expect(decodeMappings('AAAA,SAAS;AACA,KAAK')).toEqual([
      { generatedLine: 0, generatedColumn: 0, sourceIndex: 0, originalLine: 0, originalColumn: 0 },
      { generatedLine: 0, generatedColumn: 9, sourceIndex: 0, originalLine: 0, originalColumn: 9 },
      { generatedLine: 1, generatedColumn: 0, sourceIndex: 0, originalLine: 1, originalColumn: 9 },
      { generatedLine: 1, generatedColumn: 5, sourceIndex: 0, originalLine: 1, originalColumn: 14 },
    ]);
    // gB is 16 (a continuation digit), D is -1.
    expect(decodeMappings('gBAAD')[0]).toMatchObject({ generatedColumn: 16, originalColumn: -1 });
  });
});

describe('sourceLineCoverage', () => {
  it('gives each original line the count of the innermost range around its mapped positions', () => {
    // Generated: one line holding two functions; the map sends `a` to original line 3 and `b` to line 7.
    const code = 'function a(){}function b(){}';
    const source = `${code}\n${inline({ version: 3, sources: ['x.ts'], mappings: 'AAEA,cAIA' })}`;
    const script: ScriptCoverage = {
      file: 'src/x.ts',
      url: 'file:///work/src/x.ts',
      scriptId: '1',
      source,
      functions: [
        { functionName: '', isBlockCoverage: true, ranges: [{ startOffset: 0, endOffset: source.length, count: 1 }] },
        { functionName: 'a', isBlockCoverage: true, ranges: [{ startOffset: 0, endOffset: 14, count: 4 }] },
        { functionName: 'b', isBlockCoverage: true, ranges: [{ startOffset: 14, endOffset: 28, count: 0 }] },
      ],
    };
    expect(inlineSourceMap(source)?.sources).toEqual(['x.ts']);
    expect([...(sourceLineCoverage(script) ?? [])]).toEqual([
      [3, 4],
      [7, 0],
    ]);
    expect(sourceLineCoverage({ ...script, source: code })).toBeUndefined();
  });

  it('counts the own lines of a plain JavaScript file, which has no source map (real V8 coverage)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sandbox-coverage-'));
    const file = join(dir, 'compat.js');
    await writeFile(
      file,
      [
        "'use strict';",
        '',
        '// Minimum check.',
        'function meets(version, minimum) {',
        '  if (version === undefined) {',
        '    return false;',
        '  }',
        '  return version >= minimum;',
        '}',
        '',
        'module.exports = { meets };',
        '',
      ].join('\n'),
    );
    const session = new Session();
    session.connect();
    try {
      await session.post('Profiler.enable');
      await session.post('Debugger.enable');
      await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
      const { meets } = createRequire(file)(file) as { meets: (version?: number, minimum?: number) => boolean };
      await session.post('Profiler.takePreciseCoverage');
      expect(meets(5, 4)).toBe(true);
      expect(meets(3, 4)).toBe(false);
      const { result } = await session.post('Profiler.takePreciseCoverage');
      const covered = result.find((script) => script.url === pathToFileURL(file).href);
      expect(covered).toBeDefined();
      const { scriptSource } = await session.post('Debugger.getScriptSource', { scriptId: covered!.scriptId });
      const script: ScriptCoverage = { file: 'src/compat.js', url: covered!.url, scriptId: covered!.scriptId, functions: covered!.functions, source: scriptSource };
      // Called twice: the body ran twice, the early return never; the top level ran before the reset
      // and is not reported, the comment and blank lines are not code.
      expect(Object.fromEntries(sourceLineCoverage(script) ?? [])).toEqual({ 4: 2, 5: 2, 6: 0, 7: 0, 8: 2, 9: 2 });
      expect(sourceLineCoverage({ ...script, file: 'src/compat.ts' })).toBeUndefined();
    } finally {
      session.disconnect();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
