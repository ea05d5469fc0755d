import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { cliStateDir, defaultSandboxImage, loadCliConfig } from '../src/env';

describe('loadCliConfig', () => {
  it('has defaults that work on a laptop: local Temporal, the emulator, templates only', () => {
    const config = loadCliConfig({});
    expect(config).toEqual({
      temporalAddress: '127.0.0.1:7233',
      temporalNamespace: 'default',
      temporalUiUrl: 'http://127.0.0.1:8233',
      sandboxImage: defaultSandboxImage(),
      demoPorts: { gateway: 8787, github: 8790 },
    });
    expect(defaultSandboxImage('20.20.2')).toBe('tracemend/sandbox-node:20.20.2');
  });

  it('reads a real GitHub target and an LLM provider', () => {
    const config = loadCliConfig({
      TRACEMEND_GITHUB_API_URL: 'https://ghe.example.com/api/v3',
      TRACEMEND_GITHUB_TOKEN: 'ghp_x',
      TRACEMEND_LLM_PROVIDER: 'openai-compatible',
      TRACEMEND_LLM_BASE_URL: 'http://127.0.0.1:11434/v1',
      TRACEMEND_TEMPORAL_UI_URL: 'http://ui.example.com/',
    });
    expect(config.github).toEqual({ apiUrl: 'https://ghe.example.com/api/v3', token: 'ghp_x' });
    expect(config.llm).toEqual({ provider: 'openai-compatible', baseUrl: 'http://127.0.0.1:11434/v1' });
    expect(config.temporalUiUrl).toBe('http://ui.example.com');
  });

  it('names the variable that is wrong', () => {
    expect(() => loadCliConfig({ TRACEMEND_LLM_PROVIDER: 'gpt' })).toThrow(/TRACEMEND_LLM_PROVIDER/);
    expect(() => loadCliConfig({ TRACEMEND_GITHUB_API_URL: 'not a url' })).toThrow(/TRACEMEND_GITHUB_API_URL/);
    expect(() => loadCliConfig({ TRACEMEND_LLM_API_KEY: 'sk-1' })).toThrow(/TRACEMEND_LLM_PROVIDER is required/);
    expect(() => loadCliConfig({ TRACEMEND_DEMO_GATEWAY_PORT: '70000' })).toThrow(/TRACEMEND_DEMO_GATEWAY_PORT/);
    expect(loadCliConfig({ TRACEMEND_DEMO_GITHUB_PORT: '9090' }).demoPorts).toEqual({ gateway: 8787, github: 9090 });
  });

  it('keeps state in TRACEMEND_STATE_DIR when set, as the worker does, else in the workspace', () => {
    expect(cliStateDir(loadCliConfig({ TRACEMEND_STATE_DIR: '/srv/tracemend-state' }), '/repo')).toBe('/srv/tracemend-state');
    expect(cliStateDir(loadCliConfig({}), '/repo')).toBe(join('/repo', '.tracemend'));
  });
});
