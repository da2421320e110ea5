import type { Platform } from '../domain/message.ts';
import { type InterestProfile, optOutToken } from '../domain/profile.ts';
import { type FlagRecord, STEWARD_ACTOR } from '../domain/flag.ts';

/**
 * The member part of the Store (issue 11): interest profiles and the privacy controls over them. Profiles,
 * opt-outs and the redaction of a member's flag-log entries live together so that forget-me is one call.
 */
export interface MemberStore {
  getProfile(platform: Platform, workspaceId: string, userId: string): Promise<InterestProfile | null>;
  /** Writes a profile, unless the member has opted out (then nothing is written and it returns false). */
  putProfile(profile: InterestProfile): Promise<boolean>;
  /** Opt-out stops profiling (and deletes the profile); opt-in allows it again. */
  setOptOut(platform: Platform, workspaceId: string, userId: string, optedOut: boolean): Promise<void>;
  isOptedOut(platform: Platform, workspaceId: string, userId: string): Promise<boolean>;
  /**
   * Forget-me: deletes the member's profile (and the recommendations kept in it), and redacts their flag-log
   * entries: excerpt, author id and name, and their own moderator actions. Returns what it changed.
   */
  forgetMember(platform: Platform, workspaceId: string, userId: string): Promise<ForgetResult>;
  /** Retention: deletes profiles not updated since `before` and blanks flag excerpts written before it. */
  applyRetention(platform: Platform, workspaceId: string, before: number): Promise<RetentionResult>;
}

export interface ForgetResult {
  profiles: number;
  flags: number;
}

export interface RetentionResult {
  profiles: number;
  excerpts: number;
}

/** What replaces a forgotten member's id, name and text in the flag log. */
export const FORGOTTEN = '[forgotten]';
/** What replaces an excerpt older than the retention limit. */
export const EXPIRED = '[expired]';

/** True when the flag mentions the member: wrote it, is quoted in its reply chain, acted on it or decided its appeal. */
function mentions(flag: FlagRecord, userId: string): boolean {
  return (
    flag.authorId === userId ||
    flag.history.some((h) => h.actorId === userId) ||
    (flag.context?.some((turn) => turn.authorId === userId) ?? false) ||
    flag.appeal?.decidedById === userId
  );
}

/**
 * The flag with the people `masked` picks replaced by `as`: the author's id, name, excerpt, appeal note and the
 * words drawn from the excerpt (reasons, attribution weights); a reply-chain turn's author and text; an appeal
 * decider's id and name; a moderator action's actor, name and note (what was done, and when, stays). Bot turns
 * and Steward's own entries are never masked.
 */
function maskPeople(flag: FlagRecord, masked: (personId: string) => boolean, as: string): FlagRecord {
  const next: FlagRecord = structuredClone(flag);
  if (masked(flag.authorId)) {
    next.authorId = as;
    next.authorName = as;
    next.excerpt = as;
    next.reasons = Object.fromEntries(Object.keys(flag.reasons).map((label) => [label, []]));
    if (flag.attributionWeights) next.attributionWeights = blankWeights(flag.attributionWeights);
    if (next.appeal) next.appeal = { ...next.appeal, memberId: as, note: as };
  }
  if (next.appeal?.decidedById !== undefined && masked(next.appeal.decidedById)) {
    const { decidedByName: _name, ...appeal } = next.appeal;
    next.appeal = { ...appeal, decidedById: as };
  }
  if (next.context)
    next.context = next.context.map((turn) =>
      !turn.fromBot && masked(turn.authorId) ? { authorId: as, text: as, fromBot: false } : turn,
    );
  next.history = next.history.map((h) =>
    h.actorId !== STEWARD_ACTOR && masked(h.actorId) ? { at: h.at, actorId: as, action: h.action } : h,
  );
  return next;
}

/** The flag with every trace of the member removed, or null when the flag does not mention them. */
export function redactMember(flag: FlagRecord, userId: string): FlagRecord | null {
  return mentions(flag, userId) ? maskPeople(flag, (id) => id === userId, FORGOTTEN) : null;
}

/** What stands for anyone else in one member's data export. */
export const SOMEONE_ELSE = '[someone else]';

/**
 * A flag as one member's data export shows it, or null when it does not concern them: all of it when they wrote
 * the message, their own moderator actions when they only acted on it; anyone else's id, name, words and notes
 * replaced by SOMEONE_ELSE (what was done, and when, stays). Steward's own entries stay as they are.
 */
export function memberView(flag: FlagRecord, userId: string): FlagRecord | null {
  return mentions(flag, userId) ? maskPeople(flag, (id) => id !== userId, SOMEONE_ELSE) : null;
}

/** The flag with its excerpt (and the words drawn from it) blanked, or null when that was already done. */
export function expireExcerpt(flag: FlagRecord): FlagRecord | null {
  if (flag.excerpt === EXPIRED || flag.excerpt === FORGOTTEN) return null;
  return {
    ...flag,
    excerpt: EXPIRED,
    ...(flag.context ? { context: flag.context.map((turn) => ({ ...turn, text: EXPIRED })) } : {}),
    reasons: Object.fromEntries(Object.keys(flag.reasons).map((label) => [label, []])),
    ...(flag.attributionWeights ? { attributionWeights: blankWeights(flag.attributionWeights) } : {}),
  };
}

/** The weights' labels with no words: the words are the member's own, like the reasons. */
const blankWeights = (weights: NonNullable<FlagRecord['attributionWeights']>) =>
  Object.fromEntries(Object.keys(weights).map((label) => [label, []]));

const memberKey = (platform: Platform, workspaceId: string, userId: string) =>
  `${platform}:${workspaceId}:${userId}`;

/** The flag log as the member part sees it in the memory and file stores. */
export interface FlagAccess {
  all(): Iterable<FlagRecord>;
  /** Replaces flags; the file store then rewrites its log so no old version of them stays on disk. */
  replace(flags: FlagRecord[]): Promise<void>;
}

/** Profiles and opt-outs in process memory (MemoryStore); FileStore persists them through `persist`. */
export class MemoryMembers implements MemberStore {
  readonly profiles = new Map<string, InterestProfile>();
  readonly optedOut = new Set<string>();

  constructor(
    private readonly flags: FlagAccess,
    private readonly persist: () => Promise<void> = async () => {},
  ) {}

  async getProfile(platform: Platform, workspaceId: string, userId: string) {
    const profile = this.profiles.get(memberKey(platform, workspaceId, userId));
    return profile ? structuredClone(profile) : null;
  }

  async putProfile(profile: InterestProfile): Promise<boolean> {
    if (this.optedOut.has(optOutToken(profile.platform, profile.workspaceId, profile.userId))) return false;
    this.profiles.set(
      memberKey(profile.platform, profile.workspaceId, profile.userId),
      structuredClone(profile),
    );
    // Not awaited: the file store rewrites profiles.json (coalesced) and waiting for each fsync would add tens of
    // ms to every message. A profile is derived data; a crash loses at most the updates of the last write.
    // The privacy changes below are awaited: an opt-out or forget-me is on disk before it is confirmed.
    void this.persist().catch(() => {});
    return true;
  }

  async setOptOut(platform: Platform, workspaceId: string, userId: string, optedOut: boolean) {
    const token = optOutToken(platform, workspaceId, userId);
    if (optedOut) {
      this.optedOut.add(token);
      this.profiles.delete(memberKey(platform, workspaceId, userId));
    } else this.optedOut.delete(token);
    await this.persist();
  }

  async isOptedOut(platform: Platform, workspaceId: string, userId: string) {
    return this.optedOut.has(optOutToken(platform, workspaceId, userId));
  }

  async forgetMember(platform: Platform, workspaceId: string, userId: string): Promise<ForgetResult> {
    const profiles = this.profiles.delete(memberKey(platform, workspaceId, userId)) ? 1 : 0;
    const changed = [...this.flags.all()]
      .filter((f) => f.platform === platform && f.workspaceId === workspaceId)
      .flatMap((f) => redactMember(f, userId) ?? []);
    await this.flags.replace(changed);
    await this.persist();
    return { profiles, flags: changed.length };
  }

  async applyRetention(platform: Platform, workspaceId: string, before: number): Promise<RetentionResult> {
    let profiles = 0;
    for (const [key, p] of this.profiles) {
      if (p.platform === platform && p.workspaceId === workspaceId && p.updatedAt < before) {
        this.profiles.delete(key);
        profiles += 1;
      }
    }
    const expired = [...this.flags.all()]
      .filter((f) => f.platform === platform && f.workspaceId === workspaceId && f.createdAt < before)
      .flatMap((f) => expireExcerpt(f) ?? []);
    if (expired.length > 0) await this.flags.replace(expired);
    if (profiles > 0) await this.persist();
    return { profiles, excerpts: expired.length };
  }

  /** The JSON the file store keeps in profiles.json. */
  serialise(): string {
    return JSON.stringify({ profiles: [...this.profiles.values()], optedOut: [...this.optedOut] });
  }

  restore(text: string): void {
    const parsed = JSON.parse(text) as { profiles?: InterestProfile[]; optedOut?: string[] };
    for (const p of parsed.profiles ?? [])
      this.profiles.set(memberKey(p.platform, p.workspaceId, p.userId), p);
    for (const token of parsed.optedOut ?? []) this.optedOut.add(token);
  }
}
