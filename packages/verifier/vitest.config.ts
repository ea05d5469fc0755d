import { sandboxSuite } from '@tracemend/testing/vitest-sandbox';
import { configDefaults, defineConfig } from 'vitest/config';

// test/mocha-repo is a repository the tests verify with mocha, not a test of this package.
export default defineConfig({ test: { ...sandboxSuite, exclude: [...configDefaults.exclude, 'test/mocha-repo/**'] } });
