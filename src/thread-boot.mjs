// Worker entry from source (tsx, vitest): a worker thread inherits no transform, so register tsx here, then load
// the thread's own module, whose URL spawnThread passes as the thread's last argument (src/threads.ts).
import { register } from 'tsx/esm/api';

register();
await import(process.argv.at(-1));
