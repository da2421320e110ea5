import type { ConnectionOptions } from 'bullmq';

/**
 * BullMQ rejects custom ids with ':' (unless they have exactly three parts, a legacy repeat-job form), and the
 * domain's ids use ':' as separator; this maps them one-to-one onto ids BullMQ accepts.
 */
export function toBullId(id: string): string {
  return id.replace(/[%|:]/g, (c) => (c === '%' ? '%25' : c === '|' ? '%7C' : '|'));
}

export function fromBullId(id: string): string {
  return id.replace(/%25|%7C|\|/g, (m) => (m === '%25' ? '%' : m === '%7C' ? '|' : ':'));
}

/** ioredis options from a redis:// or rediss:// URL (user, password, database number in the path). */
export function redisOptionsFromUrl(url: string): ConnectionOptions {
  const u = new URL(url);
  const db = Number(u.pathname.replace(/^\//, '') || 0);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(Number.isInteger(db) && db > 0 ? { db } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}
