/** One option of a structured command; the Discord adapter registers these, help prints them. */
export interface OptionSpec {
  name: string;
  type: 'string' | 'number' | 'channel' | 'role';
  description: string;
  required: boolean;
  choices?: readonly string[];
  min?: number;
  max?: number;
}

/** One `/steward [group] sub` command: its text usage, who may run it, and its options. */
export interface CommandSpec {
  group: 'topics' | 'config' | 'rules' | 'library' | 'privacy' | null;
  sub: string;
  usage: string;
  description: string;
  adminOnly: boolean;
  options: readonly OptionSpec[];
}
