import type { Redis } from 'ioredis';
import type { Platform } from '../domain/message.ts';
import { type InterestProfile, optOutToken } from '../domain/profile.ts';
import {
  expireExcerpt,
  type ForgetResult,
  type MemberStore,
  type RetentionResult,
  redactMember,
} from './members.ts';
import type { FlagRecord } from './types.ts';

// The opt-out check and the write in one step, so a profile update racing an opt-out or forget-me cannot
// bring the profile back.
const PUT_PROFILE = `
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
return 1`;
const CAS_HASH = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur == ARGV[2] then redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) return 1 end
return 0`;

/**
 * A stored profile: JSON, with the vector as the base64 of its float32 values (`"f32:…"`), which is a third of the
 * size of 256 decimal numbers and parses without reading them one by one. Profiles written before hold a JSON
 * array, which still reads.
 */
export function encodeProfile(profile: InterestProfile): string {
  const f32 = Float32Array.from(profile.vector);
  return JSON.stringify({ ...profile, vector: `f32:${Buffer.from(f32.buffer).toString('base64')}` });
}

export function decodeProfile(raw: string): InterestProfile {
  const stored = JSON.parse(raw) as Omit<InterestProfile, 'vector'> & { vector: number[] | string };
  const { vector } = stored;
  if (typeof vector !== 'string') return stored as InterestProfile;
  const bytes = Buffer.from(vector.slice(4), 'base64');
  const f32 =
    bytes.byteOffset % 4 === 0
      ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2)
      : new Float32Array(Uint8Array.from(bytes).buffer);
  // Back to the five decimals foldMessage keeps (float32 holds them to about 1e-7). A loop, not Array.from(f32, fn),
  // which goes through the iterator protocol: an object per element, the largest allocation under load; into an
  // array of its final length, not grown by push (as in foldMessage).
  const out = new Array<number>(f32.length);
  for (let i = 0; i < f32.length; i++) out[i] = Math.round(f32[i]! * 1e5) / 1e5;
  return { ...stored, vector: out };
}

/**
 * Profiles and opt-outs in Redis, beside the store's keys (`<prefix>:store:`): `profile:<platform>:<ws>:<user>`
 * (encodeProfile), `profiles:<platform>:<ws>` (user → last update, for retention) and `optout:<platform>:<ws>` (hashed ids).
 */
export class RedisMembers implements MemberStore {
  constructor(
    private readonly db: () => Redis,
    private readonly k: string,
  ) {}

  #profile(platform: Platform, workspaceId: string, userId: string) {
    return `${this.k}:profile:${platform}:${workspaceId}:${userId}`;
  }
  #index(platform: Platform, workspaceId: string) {
    return `${this.k}:profiles:${platform}:${workspaceId}`;
  }
  #optOut(platform: Platform, workspaceId: string) {
    return `${this.k}:optout:${platform}:${workspaceId}`;
  }

  async getProfile(platform: Platform, workspaceId: string, userId: string) {
    const raw = await this.db().get(this.#profile(platform, workspaceId, userId));
    return raw === null ? null : decodeProfile(raw);
  }

  async putProfile(profile: InterestProfile): Promise<boolean> {
    const { platform, workspaceId, userId } = profile;
    const written = await this.db().eval(
      PUT_PROFILE,
      3,
      this.#profile(platform, workspaceId, userId),
      this.#optOut(platform, workspaceId),
      this.#index(platform, workspaceId),
      optOutToken(platform, workspaceId, userId),
      encodeProfile(profile),
      profile.updatedAt,
      userId,
    );
    return written === 1;
  }

  async setOptOut(platform: Platform, workspaceId: string, userId: string, optedOut: boolean) {
    const token = optOutToken(platform, workspaceId, userId);
    if (!optedOut) {
      await this.db().srem(this.#optOut(platform, workspaceId), token);
      return;
    }
    await this.db()
      .multi()
      .sadd(this.#optOut(platform, workspaceId), token)
      .del(this.#profile(platform, workspaceId, userId))
      .zrem(this.#index(platform, workspaceId), userId)
      .exec();
  }

  async isOptedOut(platform: Platform, workspaceId: string, userId: string) {
    return (
      (await this.db().sismember(
        this.#optOut(platform, workspaceId),
        optOutToken(platform, workspaceId, userId),
      )) === 1
    );
  }

  async forgetMember(platform: Platform, workspaceId: string, userId: string): Promise<ForgetResult> {
    const [[, deleted] = [null, 0]] =
      (await this.db()
        .multi()
        .del(this.#profile(platform, workspaceId, userId))
        .zrem(this.#index(platform, workspaceId), userId)
        .exec()) ?? [];
    const ids = await this.db().zrange(`${this.k}:flags:${platform}:${workspaceId}`, 0, -1);
    const flags = await this.#rewriteFlags(ids, (f) => redactMember(f, userId));
    return { profiles: Number(deleted), flags };
  }

  async applyRetention(platform: Platform, workspaceId: string, before: number): Promise<RetentionResult> {
    const index = this.#index(platform, workspaceId);
    const stale = await this.db().zrangebyscore(index, '-inf', `(${before}`);
    if (stale.length > 0) {
      await this.db()
        .multi()
        .del(...stale.map((u) => this.#profile(platform, workspaceId, u)))
        .zrem(index, ...stale)
        .exec();
    }
    const ids = await this.db().zrangebyscore(
      `${this.k}:flags:${platform}:${workspaceId}`,
      '-inf',
      `(${before}`,
    );
    const excerpts = await this.#rewriteFlags(ids, expireExcerpt);
    return { profiles: stale.length, excerpts };
  }

  /** Applies `change` to each flag (compare-and-set, so a moderator's concurrent action is not lost). */
  async #rewriteFlags(ids: string[], change: (flag: FlagRecord) => FlagRecord | null): Promise<number> {
    const hash = `${this.k}:flag`;
    let changed = 0;
    for (let start = 0; start < ids.length; start += 200) {
      const page = ids.slice(start, start + 200);
      const raws = await this.db().hmget(hash, ...page);
      for (let i = 0; i < page.length; i++) {
        let raw = raws[i] ?? null;
        for (let attempt = 0; raw !== null && attempt < 50; attempt++) {
          const next = change(JSON.parse(raw) as FlagRecord);
          if (next === null) break;
          if ((await this.db().eval(CAS_HASH, 1, hash, page[i]!, raw, JSON.stringify(next))) === 1) {
            changed += 1;
            break;
          }
          raw = await this.db().hget(hash, page[i]!);
        }
      }
    }
    return changed;
  }
}
