import type { AlertAction, HideAction, ReactAction } from './action.ts';
import { SENTIMENT_EMOJI } from './action.ts';
import type { Analysis, Signals, SupportedLanguages, TopicMatch, WordWeight } from './analysis.ts';
import type { InboundMessage } from './message.ts';
import { ALLOW_LABEL, type RuleHit, UNSPACED } from './rules.ts';
import { inboundJobId, refOf } from './message.ts';
import type { WorkspaceSettings } from './settings.ts';

/** Sentiment scores at or above this count as "strong" for sentimentTags = strong. */
export const STRONG_SENTIMENT = 0.8;

/** What a message calls for. The reply text is generated later, only when `reply` is set. */
export interface Decision {
  actions: Array<ReactAction | AlertAction | HideAction>;
  reply: { reason: 'mention' | 'topic' | 'direct'; topic?: string } | null;
  /** The message goes into the flag log (flagged and not exempt), even when no moderation channel is set. */
  flag: boolean;
}

/** Applies thresholds and topic matches to raw signals. */
export function analyse(
  signals: Signals,
  settings: WorkspaceSettings,
  defaults: {
    thresholds: Record<string, number>;
    languages: SupportedLanguages;
    thresholdsByLanguage?: Record<string, Record<string, number>>;
  },
  topics: TopicMatch[],
  ruleHits: readonly RuleHit[] = [],
): Analysis {
  const { language } = signals;
  const readsSentiment = defaults.languages.sentiment.includes(language);
  const readsModeration = defaults.languages.moderation.includes(language);
  const flagged: string[] = [];
  const reasons: Record<string, string[]> = {};
  const weights: Record<string, WordWeight[]> = {};
  const rules = ruleHits.length > 0 ? { rules: [...ruleHits] } : {};
  const allowHits = ruleHits.filter((hit) => hit.label === ALLOW_LABEL);
  const allowedBy = allowHits.map((hit) => hit.id);
  const allowed = allowedBy.length > 0 ? { allowedBy } : {};
  const allowedWording = allowHits.map((hit) => hit.match);
  if (!readsModeration) {
    // The model abstains; rules are patterns anyone can read, so they still apply.
    addRuleHits(ruleHits, flagged, reasons);
    return {
      language,
      ...sentimentOf(signals, readsSentiment),
      moderation: { scores: {}, flagged, reasons, abstained: 'language', ...rules, ...allowed },
      topics,
    };
  }
  for (const [label, score] of Object.entries(signals.moderation)) {
    const threshold =
      settings.thresholds[label] ??
      defaults.thresholdsByLanguage?.[language]?.[label] ??
      defaults.thresholds[label] ??
      0.5;
    // An allow rule matched the words behind this label: the workspace vouches for that wording, so it is not raised.
    if (score >= threshold && !vouchedFor(signals, label, allowedWording)) {
      flagged.push(label);
      reasons[label] = signals.attributions[label] ?? [];
      const weighted = signals.attributionWeights?.[label];
      if (weighted && weighted.length > 0) weights[label] = weighted;
    }
  }
  flagged.sort((a, b) => (signals.moderation[b] ?? 0) - (signals.moderation[a] ?? 0));
  // Rule labels first: a matched threat outranks any model score.
  addRuleHits(ruleHits, flagged, reasons);
  return {
    language,
    ...sentimentOf(signals, readsSentiment),
    moderation: {
      scores: signals.moderation,
      flagged,
      reasons,
      ...(Object.keys(weights).length > 0 ? { attributionWeights: weights } : {}),
      ...rules,
      ...allowed,
    },
    topics,
  };
}

/** A word counts as one that drove a label when its attribution is at least this share of the strongest word's. */
const DRIVING_WORD_WEIGHT = 0.5;

/**
 * Whether allow rules vouch for a model label: every word that drove it lies inside a wording an allow rule matched.
 * The driving words are those with at least DRIVING_WORD_WEIGHT of the strongest word's attribution, or every word
 * listed when the model gives no weights; a label without words is vouched for by any allow match. So an allowed
 * wording does not carry an insult written beside it ("this game is sick you idiot" still raises `offensive`).
 */
function vouchedFor(signals: Signals, label: string, allowedWording: readonly string[]): boolean {
  if (allowedWording.length === 0) return false;
  const weighted = signals.attributionWeights?.[label];
  const words =
    weighted && weighted.length > 0
      ? weighted.filter((w) => w.weight >= DRIVING_WORD_WEIGHT).map((w) => w.word)
      : (signals.attributions[label] ?? []);
  return words.every((word) => allowedWording.some((wording) => containsWord(wording, word)));
}

/** Whole-word containment, case-insensitive; a Han or kana word (written without spaces) as any substring. */
function containsWord(wording: string, word: string): boolean {
  const w = word.trim().toLowerCase();
  if (w === '') return true;
  const text = wording.toLowerCase();
  if (UNSPACED.test(w)) return text.includes(w);
  for (let at = text.indexOf(w); at !== -1; at = text.indexOf(w, at + 1)) {
    const before = text.slice(0, at);
    const after = text.slice(at + w.length);
    if (!/[\p{L}\p{N}]$/u.test(before) && !/^[\p{L}\p{N}]/u.test(after)) return true;
  }
  return false;
}

/** The flagged labels a rule raised (allow rules raise none), in flagged order. */
export function ruleLabelsOf(moderation: Analysis['moderation']): string[] {
  const raised = new Set((moderation.rules ?? []).map((hit) => hit.label).filter((l) => l !== ALLOW_LABEL));
  return moderation.flagged.filter((label) => raised.has(label));
}

function addRuleHits(hits: readonly RuleHit[], flagged: string[], reasons: Record<string, string[]>): void {
  for (const hit of [...hits].reverse()) {
    if (hit.label === ALLOW_LABEL) continue;
    if (!flagged.includes(hit.label)) flagged.unshift(hit.label);
    const why = hit.why ?? `rule “${hit.match}”`;
    reasons[hit.label] = [why, ...(reasons[hit.label] ?? []).filter((w) => w !== why)];
  }
}

function sentimentOf(signals: Signals, reads: boolean): Pick<Analysis, 'sentiment' | 'sentimentAbstained'> {
  return reads ? { sentiment: signals.sentiment } : { sentiment: null, sentimentAbstained: 'language' };
}

function isExempt(message: InboundMessage, settings: WorkspaceSettings): boolean {
  return (
    settings.exemptChannels.includes(message.channelId) ||
    (message.threadId !== undefined && settings.exemptChannels.includes(message.threadId)) ||
    message.author.roles.some((role) => settings.exemptRoles.includes(role))
  );
}

/** Flag id shared by the alert, the hide action and the flag log entry of one message. */
export function flagIdOf(message: InboundMessage): string {
  return `flag:${inboundJobId(refOf(message))}`;
}

/** The pure decision from (message, analysis, settings) to actions. */
export function decide(message: InboundMessage, analysis: Analysis, settings: WorkspaceSettings): Decision {
  const target = refOf(message);
  const base = inboundJobId(target);
  const actions: Decision['actions'] = [];
  const exempt = isExempt(message, settings);

  const sentiment = analysis.sentiment;
  const tag =
    sentiment !== null &&
    (settings.sentimentTags === 'all' ||
      (settings.sentimentTags === 'strong' &&
        sentiment.label !== 'neutral' &&
        sentiment.scores[sentiment.label] >= STRONG_SENTIMENT));
  if (sentiment && tag && !exempt) {
    const { label } = sentiment;
    actions.push({
      kind: 'react',
      key: `${base}:react`,
      target,
      sentiment: label,
      emoji: SENTIMENT_EMOJI[label],
    });
  }

  const flagged = analysis.moderation.flagged;
  const flag = flagged.length > 0 && !exempt;
  if (flag && settings.moderationChannelId !== null) {
    const flagId = flagIdOf(message);
    const autoHide = settings.moderationMode === 'auto-hide';
    const ruleLabels = ruleLabelsOf(analysis.moderation);
    actions.push({
      kind: 'alert',
      key: `${base}:alert`,
      target,
      flagId,
      moderationChannelId: settings.moderationChannelId,
      author: { id: message.author.id, name: message.author.name },
      excerpt: message.text.slice(0, 1000),
      scores: analysis.moderation.scores,
      flagged,
      reasons: analysis.moderation.reasons,
      ...(ruleLabels.length > 0 ? { ruleLabels } : {}),
      autoHidden: autoHide,
    });
    if (autoHide) actions.push({ kind: 'hide', key: `${base}:hide`, target, flagId });
  }

  return { actions, reply: replyIntent(message, analysis, settings, flagged.length > 0), flag };
}

/**
 * Whether a message that addresses the bot (mention or DM) will be answered under these settings, before any
 * analysis: the adapter shows "typing…" on this, the worker decides on it (plus what the analysis finds).
 */
export function expectsAddressedReply(
  message: { direct?: boolean | undefined; mentionsBot: boolean },
  settings: Pick<WorkspaceSettings, 'replyMode'>,
): boolean {
  return settings.replyMode !== 'off' && (message.direct === true || message.mentionsBot);
}

function replyIntent(
  message: InboundMessage,
  analysis: Analysis,
  settings: WorkspaceSettings,
  flagged: boolean,
): Decision['reply'] {
  // Never chat back to content that moderators are being asked to look at.
  if (settings.replyMode === 'off' || flagged) return null;
  if (expectsAddressedReply(message, settings)) return { reason: message.direct ? 'direct' : 'mention' };
  const best = analysis.topics[0];
  if (settings.replyMode === 'topics' && best !== undefined) return { reason: 'topic', topic: best.topic };
  return null;
}
