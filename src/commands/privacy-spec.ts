import type { CommandSpec } from './spec-types.ts';

export const MAX_RETENTION_DAYS = 3650;

/** Member commands of issue 11 (recommend, privacy) and the admin's retention limit. */
export type PrivacyCommand =
  | { kind: 'recommend' }
  | { kind: 'privacy.opt-out' }
  | { kind: 'privacy.opt-in' }
  | { kind: 'privacy.forget-me' }
  | { kind: 'config.retention'; days: number | null };

export const PRIVACY_SPECS: readonly CommandSpec[] = [
  {
    group: null,
    sub: 'recommend',
    usage: 'recommend',
    description: 'Library items and channels for you, from what you talk about, with the reason',
    adminOnly: false,
    options: [],
  },
  {
    group: 'privacy',
    sub: 'opt-out',
    usage: 'privacy opt-out',
    description: 'Stop Steward learning your interests, and delete what it learnt',
    adminOnly: false,
    options: [],
  },
  {
    group: 'privacy',
    sub: 'opt-in',
    usage: 'privacy opt-in',
    description: 'Let Steward learn your interests again, for recommendations',
    adminOnly: false,
    options: [],
  },
  {
    group: 'privacy',
    sub: 'forget-me',
    usage: 'privacy forget-me',
    description: 'Delete your profile and every text of yours Steward stored, and opt out',
    adminOnly: false,
    options: [],
  },
  {
    group: 'config',
    sub: 'retention',
    usage: 'config retention <days|off>',
    description: 'Days member profiles and flagged-message excerpts are kept',
    adminOnly: true,
    options: [
      {
        name: 'days',
        type: 'string',
        description: `Days from 1 to ${MAX_RETENTION_DAYS}, or off`,
        required: true,
      },
    ],
  },
];
