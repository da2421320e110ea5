import { parseLibraryText } from '../domain/library-import.ts';
import { LIBRARY_KINDS, LibraryItemSchema, slugId } from '../domain/library.ts';
import { UserError } from '../errors.ts';
import { ok } from './render.ts';
import type { CommandSpec } from './spec-types.ts';
import { ADD_USAGE, LIBRARY_SPECS, type LibraryCommand } from './library-spec.ts';
export { LIBRARY_SPECS, type LibraryCommand };
import type { CommandContext, CommandReply } from './types.ts';

/** Items an import may bring in at once through a slash command (the CLI has no such limit). */
export const MAX_IMPORT_ITEMS = 500;
const LIST_LIMIT = 20;

type Args = Record<string, string | undefined>;

/** Text form of `library add`: the fields separated by `|`, since titles and texts have spaces. */
export function libraryTextArgs(spec: CommandSpec, rest: string): Args {
  if (spec.sub === 'add') {
    const [title, text, ...more] = rest.split('|').map((part) => part.trim());
    const args: Args = { title, text };
    for (const part of more) {
      if ((LIBRARY_KINDS as readonly string[]).includes(part.toLowerCase())) args.kind = part;
      else if (/^https?:\/\//.test(part)) args.url = part;
      else if (part !== '')
        throw new UserError(`"${part}" is neither a link nor a kind.`, `Type \`${ADD_USAGE}\`.`);
    }
    return args;
  }
  const name = spec.options[0]?.name;
  return name && rest !== '' ? { [name]: rest } : {};
}

/** Builds a library command from its arguments (text or structured form alike). */
export function buildLibraryCommand(spec: CommandSpec, args: Args): LibraryCommand {
  const need = (name: string) => {
    const value = args[name]?.trim();
    if (!value) throw new UserError(`Missing <${name}>.`, `Type \`${spec.usage}\`.`);
    return value;
  };
  switch (spec.sub) {
    case 'add': {
      const title = need('title');
      const candidate = {
        id: args.id?.trim() || slugId(title),
        title,
        text: need('text'),
        ...(args.url?.trim() ? { url: args.url.trim() } : {}),
        ...(args.topic?.trim() ? { topic: args.topic.trim() } : {}),
        kind: args.kind?.trim().toLowerCase() || 'faq',
      };
      const parsed = LibraryItemSchema.safeParse(candidate);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new UserError(
          `That item is not valid (${issue?.path.join('.') ?? 'item'}: ${issue?.message ?? 'invalid'}).`,
          `Type \`${ADD_USAGE}\`.`,
        );
      }
      return { kind: 'library.add', item: parsed.data };
    }
    case 'remove':
      return { kind: 'library.remove', id: need('id') };
    case 'import':
      return { kind: 'library.import', content: need('content') };
    default: {
      const query = args.query?.trim();
      return query ? { kind: 'library.list', query } : { kind: 'library.list' };
    }
  }
}

/** Runs a library command against the workspace's library in the store. */
export async function runLibraryCommand(command: LibraryCommand, ctx: CommandContext): Promise<CommandReply> {
  const { store, platform, workspaceId } = ctx;
  switch (command.kind) {
    case 'library.add': {
      const existed = (await store.listLibrary(platform, workspaceId)).some((i) => i.id === command.item.id);
      await store.putLibraryItems(platform, workspaceId, [command.item]);
      return ok(
        `${existed ? 'Replaced' : 'Added'} library item \`${command.item.id}\`: ${command.item.title}`,
      );
    }
    case 'library.remove': {
      const removed = await store.removeLibraryItems(platform, workspaceId, [command.id]);
      if (removed === 0)
        return {
          ok: false,
          text: `There is no library item \`${command.id}\`. Type \`library list\` to see the ids.`,
          ephemeral: true,
        };
      return ok(`Removed library item \`${command.id}\`.`);
    }
    case 'library.import': {
      const parsed = parseLibraryText(command.content);
      if (parsed.items.length === 0) {
        const why = parsed.errors.slice(0, 3).join('; ') || 'nothing found';
        return {
          ok: false,
          text: `Nothing imported (${why}). Paste JSONL lines like {"title": "…", "text": "…"}, or Markdown with a ## heading per item.`,
          ephemeral: true,
        };
      }
      if (parsed.items.length > MAX_IMPORT_ITEMS)
        return {
          ok: false,
          text: `That is ${parsed.items.length} items; a command imports at most ${MAX_IMPORT_ITEMS}. Use \`steward library import FILE\` for more.`,
          ephemeral: true,
        };
      await store.putLibraryItems(platform, workspaceId, parsed.items);
      const skipped =
        parsed.errors.length > 0
          ? ` Skipped ${parsed.errors.length}: ${parsed.errors.slice(0, 3).join('; ')}.`
          : '';
      return ok(`Imported ${parsed.items.length} library item(s).${skipped}`);
    }
    case 'library.list': {
      const all = await store.listLibrary(platform, workspaceId);
      const words = command.query?.toLowerCase().split(/\s+/).filter(Boolean) ?? [];
      const matching = all.filter((item) => {
        const hay = `${item.id} ${item.title} ${item.text}`.toLowerCase();
        return words.every((w) => hay.includes(w));
      });
      if (all.length === 0)
        return ok('The library is empty. An admin can type `library add <title> | <text>`.');
      if (matching.length === 0) return ok(`No library item has "${command.query}".`);
      const shown = matching.slice(0, LIST_LIMIT);
      const fields = shown.map((i) => ({
        name: `${i.id} (${i.kind})`,
        value: `${i.title}${i.url ? ` — ${i.url}` : ''}`,
      }));
      const more = matching.length > shown.length ? `\n…and ${matching.length - shown.length} more.` : '';
      return ok(fields.map((f) => `\`${f.name}\` ${f.value}`).join('\n') + more, {
        title: `Library (${matching.length} of ${all.length})`,
        fields,
      });
    }
  }
}
