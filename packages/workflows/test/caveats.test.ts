import type { FailureEnvelope } from '@tracemend/contracts';
import { exampleFailureEnvelope } from '@tracemend/contracts/examples';
import { describe, expect, it } from 'vitest';
import { replayCaveats } from '../src/policy';

function envelope(overrides: { notes?: string[]; inputs?: FailureEnvelope['provenance']['inputs']; flags?: Record<string, boolean> }): FailureEnvelope {
  return {
    ...exampleFailureEnvelope,
    environment: { ...exampleFailureEnvelope.environment, featureFlags: overrides.flags ?? {} },
    provenance: { ...exampleFailureEnvelope.provenance, notes: overrides.notes ?? [], ...(overrides.inputs ? { inputs: overrides.inputs } : {}) },
  };
}

describe('replayCaveats: what a replay that did not reproduce ran without', () => {
  it('says nothing when every input was recorded whole and no flag was set', () => {
    expect(replayCaveats(envelope({ inputs: [{ path: 'entry.body', signal: 'span-attribute', source: 'http.request.body.content on span 1' }] }), {})).toEqual([]);
  });

  it('names values cut short, values no signal carried and guessed ones, and links the instrumenting guide once', () => {
    const missing = 'entry.args[0] (the invocation event of span 9) was not recorded; looked for attributes faas.event. The replay calls the handler with a null event; see docs/instrumenting.md';
    const caveats = replayCaveats(
      envelope({
        notes: [missing, 'entry.body: two sources disagree'],
        inputs: [
          { path: 'entry.body', signal: 'span-attribute', source: 'http.request.body.content on span 1', truncated: { marker: 'http.request.body.truncated', recordedBytes: 128, sizeBytes: 4096 } },
          { path: 'entry.args[0]', signal: 'inferred', source: 'nothing', guessed: true },
          { path: 'downstream[0].responseBody', signal: 'inferred', source: 'inferred from status 200: no body was recorded on span 5', guessed: true },
        ],
      }),
    );
    expect(caveats).toEqual([
      'the replay input entry.body was recorded cut short (http.request.body.truncated, 128 of 4096 bytes kept)',
      missing,
      'downstream[0].responseBody was guessed (inferred from status 200: no body was recorded on span 5)',
    ]);
  });

  it('says where recorded flags were set and which catalog field moves them, once the target is known and unless it names one', () => {
    const flagged = envelope({ flags: { 'notify.channel-throttle': true } });
    expect(replayCaveats(flagged)).toEqual([]);
    const [caveat, guide] = replayCaveats(flagged, {});
    expect(caveat).toContain('notify.channel-throttle=true');
    expect(caveat).toContain(`services.${exampleFailureEnvelope.identity.service}.featureFlags`);
    expect(guide).toBe('see docs/instrumenting.md');
    expect(replayCaveats(flagged, { featureFlags: { env: 'FEATURE_FLAGS', format: 'pairs', separator: ',', on: 'on', off: 'off' } })).toEqual([]);
  });
});
