export { parseCommand } from './parse.ts';
export { executeCommand, runCommand } from './run.ts';
export { collectStatus } from './status.ts';
export { COMMAND_SPECS, type CommandSpec, type OptionSpec } from './spec.ts';
export { mentionTarget } from './mentions.ts';
export type * from './types.ts';
