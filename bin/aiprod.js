#!/usr/bin/env node
// Entry shim for `npx aiprod`: Node 20 cannot strip types, so tsx compiles src/ on the fly.
import { register } from 'tsx/esm/api';

register();
await import('../src/main/cli.ts');
