import { configDefaults, defineConfig } from 'vitest/config';

// test/runner-reports holds what real runners printed, and the script that regenerates it: not tests of this package.
export default defineConfig({ test: { exclude: [...configDefaults.exclude, 'test/runner-reports/**'] } });
