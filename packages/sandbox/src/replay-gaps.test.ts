import { describe, expect, it } from 'vitest';
import type { FailureEnvelope } from '@tracemend/contracts';
import { exampleFailureEnvelope } from '@tracemend/contracts/examples';
import { replayGaps } from './reproduce';

function envelope(overrides: { notes?: string[]; inputs?: FailureEnvelope['provenance']['inputs']; flags?: Record<string, boolean> }): FailureEnvelope {
  return {
    ...exampleFailureEnvelope,
    environment: { ...exampleFailureEnvelope.environment, featureFlags: overrides.flags ?? {} },
    provenance: { ...exampleFailureEnvelope.provenance, notes: overrides.notes ?? [], ...(overrides.inputs ? { inputs: overrides.inputs } : {}) },
  };
}

describe('replayGaps: what a failed reproduction says was missing', () => {
  it('says nothing when every input was recorded and no flag was set', () => {
    expect(replayGaps(envelope({ inputs: [{ path: 'entry.body', signal: 'span-attribute', source: 'http.request.body.content on span 1' }] }), {})).toEqual([]);
  });

  it('names values no signal carried, guessed ones, and links the instrumenting guide once', () => {
    const missing = 'entry.args[0] (the invocation event of span 9) was not recorded; looked for attributes faas.event. The replay calls the handler with a null event; see docs/instrumenting.md';
    const gaps = replayGaps(
      envelope({
        notes: [missing, 'request.body: two sources disagree'],
        inputs: [
          { path: 'entry.args[0]', signal: 'inferred', source: 'nothing', guessed: true },
          { path: 'downstream[0].responseBody', signal: 'inferred', source: 'inferred from status 200: no body was recorded on span 5', guessed: true },
        ],
      }),
      {},
    );
    expect(gaps).toEqual([missing, 'downstream[0].responseBody was guessed (inferred from status 200: no body was recorded on span 5)']);
  });

  it('says where recorded flags were set and which catalog field moves them, unless the catalog names it', () => {
    const flagged = envelope({ flags: { 'notify.channel-throttle': true } });
    const [gap, guide] = replayGaps(flagged, {});
    expect(gap).toContain('notify.channel-throttle=true');
    expect(gap).toContain(`services.${exampleFailureEnvelope.identity.service}.featureFlags`);
    expect(guide).toBe('see docs/instrumenting.md');
    expect(replayGaps(flagged, { featureFlags: { env: 'FEATURE_FLAGS', format: 'pairs', separator: ',', on: 'on', off: 'off' } })).toEqual([]);
  });
});
