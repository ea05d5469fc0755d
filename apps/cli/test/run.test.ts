import { exampleIncidentOutcome } from '@tracemend/contracts/examples';
import { describe, expect, it } from 'vitest';
import { formatOutcome, parseRunArgs } from '../src/run';

describe('tracemend run arguments', () => {
  it('reads the alert file, the catalog and the flags in any order', () => {
    expect(parseRunArgs(['alert.json', '--config', 'c.yaml'])).toEqual({ alertFile: 'alert.json', configFile: 'c.yaml', wait: false, json: false });
    expect(parseRunArgs(['--json', '--config', 'c.yaml', 'alert.json', '--wait'])).toEqual({ alertFile: 'alert.json', configFile: 'c.yaml', wait: true, json: true });
  });

  it('names what is wrong', () => {
    expect(() => parseRunArgs(['alert.json'])).toThrow('--config <tracemend.config.yaml> is required');
    expect(() => parseRunArgs(['--config', 'c.yaml'])).toThrow('the alert file is missing');
    expect(() => parseRunArgs(['a.json', '--config'])).toThrow('--config needs a file');
    expect(() => parseRunArgs(['a.json', '--config', 'c.yaml', '--fast'])).toThrow('unknown option --fast');
    expect(() => parseRunArgs(['a.json', 'b.json', '--config', 'c.yaml'])).toThrow('unexpected argument b.json');
  });

  it('prints the outcome, one line per stage, the pull request and the risk', () => {
    const text = formatOutcome(exampleIncidentOutcome);
    expect(text.split('\n')[0]).toBe(`${exampleIncidentOutcome.outcome}: ${exampleIncidentOutcome.reason}`);
    expect(text.split('\n')).toHaveLength(1 + exampleIncidentOutcome.stages.length + (exampleIncidentOutcome.pr ? 1 : 0) + (exampleIncidentOutcome.risk ? 1 : 0));
  });
});
