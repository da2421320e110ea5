import { LifecycleError } from '../../src/errors.ts';

export type EngineState = 'new' | 'starting' | 'started' | 'stopped';

/**
 * start()/stop() bookkeeping shared by both engines. start() runs once; a failed start leaves the engine 'new'
 * (startable again once the setting is fixed). stop() is idempotent: a second call returns the first call's
 * promise, and a stop during start() waits for the start, then stops.
 */
export class EngineLifecycle {
  #state: EngineState = 'new';
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;

  get state(): EngineState {
    return this.#state;
  }

  /** Runs `load`; the state is 'started' once it resolves and 'new' again if it rejects. */
  start(load: () => Promise<void>): Promise<void> {
    if (this.#state !== 'new') {
      return Promise.reject(new LifecycleError(`model engine cannot start: it is ${this.#state}`));
    }
    this.#state = 'starting';
    this.#starting = load().then(
      () => {
        this.#state = 'started';
      },
      (error: unknown) => {
        this.#state = 'new';
        throw error;
      },
    );
    return this.#starting;
  }

  /** Marks the engine stopped (new calls are refused from here on), then runs `close` once. */
  stop(close: () => Promise<void>): Promise<void> {
    if (this.#stopping) return this.#stopping;
    const stopStarted = () => {
      this.#state = 'stopped';
      return close();
    };
    if (this.#state === 'starting' && this.#starting) {
      this.#stopping = this.#starting.then(stopStarted, () => {
        this.#state = 'stopped';
      });
      return this.#stopping;
    }
    if (this.#state !== 'started') {
      return Promise.reject(new LifecycleError(`model engine cannot stop: it is ${this.#state}`));
    }
    this.#stopping = stopStarted();
    return this.#stopping;
  }
}
