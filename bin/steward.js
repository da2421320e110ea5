#!/usr/bin/env node
// Entry point for `npx steward …` / a global install: registers tsx so the TypeScript sources run as they are.
import { register } from 'tsx/esm/api';

register();
await import('../app/cli/main.ts');
