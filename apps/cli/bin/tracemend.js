#!/usr/bin/env node
// Runs the TypeScript sources through tsx's loader: packages are source-first.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
