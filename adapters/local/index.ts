export { LOCAL, LocalChatAdapter, type LocalAdapterOptions } from './adapter.ts';
export { OrderedOutput } from './ordered-output.ts';
export { trackingQueue } from './tracking-queue.ts';
