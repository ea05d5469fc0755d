import { sandboxSuite } from '@tracemend/testing/vitest-sandbox';
import { configDefaults, defineConfig } from 'vitest/config';

// test/mocha-repo and test/ava-repo are repositories the tests verify, not tests of this package.
export default defineConfig({ test: { ...sandboxSuite, exclude: [...configDefaults.exclude, 'test/mocha-repo/**', 'test/ava-repo/**'] } });
