/** `steward help`: every subcommand with its flags. */
export const USAGE = `Steward — a self-hostable community bot for Discord and Slack

Usage: steward <command> [options]      (npm run --silent steward -- <command> …)

Commands:
  local                       one process: terminal chat, in-process queue, models in a worker thread
                              (npm start); lines starting with / are admin commands, try /help
  bot                         the Discord and/or Slack adapters (whichever variables are set); with
                              REDIS_URL workers run elsewhere, without it one embedded worker runs here
  worker [--device cpu|cuda] [--concurrency N]
                              takes jobs from Redis (REDIS_URL) and runs the models; start as many as needed
  dashboard [--port P]        the web dashboard on 127.0.0.1 (flags, actions, settings, /metrics); prints
                              its address and a one-time sign-in link
  analyze [--json] [--reply] [--format auto|text|jsonl] [FILE|-]
                              audits a chat log: one message per line (text, or JSONL with a "text" field;
                              auto: a line that is a JSON object is JSONL, any other line is text);
                              writes one result per line, in order; bad lines become {"line","error"}
  library import FILE|- [--workspace ID] [--platform P] [--format jsonl|markdown]
                              adds items to the community library (JSONL: one {"id","title","text","url",
                              "topic","kind"} per line; Markdown: a ## heading per item); also: list, remove ID…
  flags export [--platform P] [--workspace ID] [--status dismissed|actioned|all]
                              moderators' decisions on flags as JSONL labelled examples (default: the
                              local workspace) for models/training: signals.py --feedback FILE
  recommend [--json] [--each] [--library FILE] [--limit N] [FILE|-]
                              JSONL lines {"user","text"} build each user's interest profile in order; then
                              one line per user with library recommendations and why ({"user","recommendations"});
                              --each: a line after every input line for that request and profile so far
  privacy export --user U [--platform P] [--workspace ID]
                              everything kept about one member (profile, opt-out, flags) as JSON
  config --print              the effective configuration as JSON, secrets redacted
  invite-url                  the Discord URL that adds the bot to a server (needs DISCORD_APPLICATION_ID)
  help                        this text

Configuration comes from environment variables (and STEWARD_CONFIG, a JSON file); see README.md.
`;
