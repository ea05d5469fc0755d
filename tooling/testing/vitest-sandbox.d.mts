export interface SandboxSuiteSettings {
  readonly pool: 'forks';
  readonly fileParallelism: false;
  readonly testTimeout: number;
  readonly hookTimeout: number;
}

export declare const sandboxSuite: SandboxSuiteSettings;
