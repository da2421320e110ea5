import { PassThrough, Readable } from 'node:stream';
import type { Io } from '../../app/cli/main.ts';

/** In-memory stdin/stdout/stderr for running `main()` in the test process. */
export function memoryIo(env: NodeJS.ProcessEnv, stdin = ''): Io & { out: () => string; err: () => string } {
  const collect = () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (chunk) => {
      text += chunk;
    });
    return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
  };
  const stdout = collect();
  const stderr = collect();
  return {
    stdin: Readable.from([stdin]) as unknown as NodeJS.ReadStream,
    stdout: stdout.stream,
    stderr: stderr.stream,
    env,
    out: stdout.text,
    err: stderr.text,
  };
}
