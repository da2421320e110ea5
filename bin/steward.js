#!/usr/bin/env -S node --initial-old-space-size=256
// Entry point for `npx steward …`, `npm start` and the Docker image: runs the compiled code in dist/
// (`npm run build`; `npm ci` builds it too). In a checkout without dist/, the TypeScript sources run through tsx,
// a dev dependency, so this fallback is for development only. The flags on the first line are app/node-flags.ts's
// (why there); `node bin/steward.js` without them runs the same, with more GC pauses.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/app/cli/main.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../app/cli/main.ts');
}
