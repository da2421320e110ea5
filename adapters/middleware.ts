/** One step of an adapter's inbound chain; it decides whether to call `next` (like bolt's middleware/process.ts). */
export type Middleware<C> = (ctx: C, next: () => Promise<void>) => Promise<void>;

/** Runs middleware in order, each step handing over to the next one by calling `next`. */
export function compose<C>(chain: Array<Middleware<C>>): (ctx: C) => Promise<void> {
  return (ctx) => {
    const run = (index: number): Promise<void> => {
      const middleware = chain[index];
      return middleware ? middleware(ctx, () => run(index + 1)) : Promise.resolve();
    };
    return run(0);
  };
}
