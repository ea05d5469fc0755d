import { sandboxSuite } from '@tracemend/testing/vitest-sandbox';
import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { ...sandboxSuite } });
