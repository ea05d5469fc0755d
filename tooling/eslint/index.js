// Shared flat ESLint configuration: `base` for every package, `workflows` for Temporal workflow code.
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

/** Type-aware rules for all TypeScript sources. */
export const base = tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', '**/coverage/**'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // Tests and command-line entry points may print; packages log through pino.
    files: ['**/*.test.ts', '**/test/**/*.ts', 'apps/cli/**/*.ts', 'bench/**/*.ts', 'fixtures/**/*.ts', 'infra/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);

/** Modules with side effects that workflow code must never load: it runs in Temporal's deterministic sandbox. */
export const workflowForbiddenImports = [
  ...builtinModules,
  ...builtinModules.map((name) => `node:${name}`),
  'pino',
  'dockerode',
  'ts-morph',
  'better-sqlite3',
  'undici',
  'axios',
  '@temporalio/activity',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/testing',
];

const workflowForbiddenPatterns = ['@octokit/*', '@opentelemetry/*', 'node:*'];

/** The workflow rule set: workflow sources may import `@temporalio/workflow`, contracts and themselves only. */
export function workflows(files) {
  return tseslint.config({
    files,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: workflowForbiddenImports.map((name) => ({
            name,
            message: 'Workflow code runs in the deterministic sandbox: no Node builtins, I/O clients or loggers.',
          })),
          patterns: [
            {
              group: workflowForbiddenPatterns,
              message: 'Workflow code runs in the deterministic sandbox: no Node builtins, I/O clients or loggers.',
            },
            {
              group: ['@tracemend/*', '!@tracemend/contracts'],
              allowTypeImports: true,
              message: 'Workflows import stage packages as types only; activities run in the worker.',
            },
          ],
        },
      ],
    },
  });
}
