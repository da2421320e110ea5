// Worker entry: the inference thread's code is TypeScript, and a worker does not inherit vitest's or a
// parent's transform, so register tsx here (a no-op cost when the parent already runs under tsx).
import { register } from 'tsx/esm/api';

register();
await import('./engine-thread.ts');
