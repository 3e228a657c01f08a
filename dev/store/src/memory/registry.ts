/** The command table, lookup with Redis' validation errors, and execution. */
import type { CommandSpec, CommandTable, Ctx } from "./command.ts";
import { hashCommands } from "./commands/hashes.ts";
import { keyCommands } from "./commands/keys.ts";
import { listCommands } from "./commands/lists.ts";
import { scriptingCommands } from "./commands/scripting.ts";
import { serverCommands } from "./commands/server.ts";
import { setCommands } from "./commands/sets.ts";
import { streamCommands } from "./commands/streams.ts";
import { stringCommands } from "./commands/strings.ts";
import { zrangeCommands } from "./commands/zranges.ts";
import { zsetCommands } from "./commands/zsets.ts";
import { err, Errors, type IReply } from "./reply.ts";

const TABLE: CommandTable = {
  ...serverCommands,
  ...keyCommands,
  ...stringCommands,
  ...hashCommands,
  ...setCommands,
  ...zsetCommands,
  ...zrangeCommands,
  ...listCommands,
  ...streamCommands,
  ...scriptingCommands,
};

/** Names of every implemented command (subcommands as "script|load"). */
export const COMMAND_NAMES: string[] = Object.values(TABLE).flatMap((c) =>
  c.subcommands ? Object.keys(c.subcommands) : [c.name],
);

type Resolution = CommandSpec | { error: "unknown" | "subcommand" | "arity"; spec?: CommandSpec };

function resolve(argv: string[]): Resolution {
  let spec = TABLE[argv[0]!.toLowerCase()];
  if (spec === undefined) return { error: "unknown" };
  if (spec.subcommands && argv.length >= 2) {
    const sub = spec.subcommands[`${spec.name}|${argv[1]!.toLowerCase()}`];
    if (sub === undefined) return { error: "subcommand" };
    spec = sub;
  }
  const ok = spec.arity > 0 ? argv.length === spec.arity : argv.length >= -spec.arity;
  return ok ? spec : { error: "arity", spec };
}

/** `%.*s` on bytes. */
const truncateBytes = (s: string, n: number): string => {
  const b = Buffer.from(s);
  return b.length <= n ? s : b.subarray(0, Math.max(0, n)).toString();
};

function unknownCommand(argv: string[]): string {
  let args = "";
  for (let i = 1; i < argv.length && Buffer.byteLength(args) < 128; i++)
    args += `'${truncateBytes(argv[i]!, 128 - Buffer.byteLength(args))}' `;
  return `ERR unknown command '${truncateBytes(argv[0]!, 128)}', with args beginning with: ${args}`;
}

/** The command spec for argv, or the CommandError Redis replies while queueing/processing it. */
export function lookup(argv: string[]): CommandSpec {
  if (argv.length === 0) throw err("ERR empty command");
  const r = resolve(argv);
  if ("run" in r) return r;
  let message: string;
  if (r.error === "unknown") message = unknownCommand(argv);
  else if (r.error === "subcommand")
    message = `ERR unknown subcommand '${truncateBytes(argv[1]!, 128)}'. Try ${argv[0]!.toUpperCase()} HELP.`;
  else message = Errors.wrongArity(r.spec!.name).message;
  throw err(message.replace(/[\r\n]/g, " "));
}

export function execute(ctx: Ctx, argv: string[]): IReply {
  return lookup(argv).run(ctx, argv);
}

/** redis.call's checks (Redis `scriptCall`), with the messages scripts get. */
export function executeFromScript(ctx: Ctx, argv: string[], readOnly: boolean): IReply {
  const r = resolve(argv);
  if (!("run" in r)) {
    throw err(r.error === "arity" ? "ERR Wrong number of args calling Redis command from script" : "ERR Unknown Redis command called from script");
  }
  if (r.noscript) throw err("ERR This Redis command is not allowed from script");
  if (readOnly && r.write) throw err("ERR Write commands are not allowed from read-only scripts.");
  return r.run(ctx, argv);
}
