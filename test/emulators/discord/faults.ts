/** Injected failures: the next N requests matching a route get a 429 or a 5xx instead of the real answer. */

export interface FaultRule {
  method?: string;
  /** Matched against the path without the /api/vN prefix, e.g. /^\/channels\/\d+\/messages$/. */
  path: RegExp;
  status: number;
  times: number;
  /** 429 only: seconds to wait, sent as the body's retry_after and the Retry-After header. */
  retryAfter?: number;
  /** 429 only: a global rate limit (X-RateLimit-Global). */
  global?: boolean;
  /** 5xx only: perform the request first, then answer 5xx (the "succeeded but the answer got lost" case). */
  afterCommit?: boolean;
}

export interface FaultResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export class FaultInjector {
  private rules: FaultRule[] = [];

  add(rule: FaultRule): void {
    this.rules.push({ ...rule });
  }

  clear(): void {
    this.rules = [];
  }

  /** Takes one use of the first matching rule, if any. */
  take(method: string, path: string): FaultRule | undefined {
    const rule = this.rules.find(
      (r) => (!r.method || r.method === method) && r.path.test(path) && r.times > 0,
    );
    if (rule) rule.times -= 1;
    return rule;
  }

  static respond(rule: FaultRule): FaultResponse {
    if (rule.status === 429) {
      const retryAfter = rule.retryAfter ?? 0.2;
      // Discord sends these headers with every 429; discord.js reads Retry-After and X-RateLimit-*.
      const headers: Record<string, string> = {
        'retry-after': String(retryAfter),
        'x-ratelimit-limit': '5',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset-after': String(retryAfter),
        'x-ratelimit-bucket': 'emulated-bucket',
        'x-ratelimit-scope': rule.global ? 'global' : 'user',
      };
      if (rule.global) headers['x-ratelimit-global'] = 'true';
      return {
        status: 429,
        headers,
        body: {
          message: 'You are being rate limited.',
          retry_after: retryAfter,
          global: rule.global ?? false,
        },
      };
    }
    return {
      status: rule.status,
      headers: {},
      body: { message: `${rule.status}: Emulated failure`, code: 0 },
    };
  }
}
