/** EVAL, EVALSHA and SCRIPT LOAD|EXISTS|FLUSH; the Lua side lives in ../lua/. */
import { commands, type Ctx } from "../command.ts";
import { intArg } from "../numbers.ts";
import { err, OK, type IReply } from "../reply.ts";

/** Splits `numkeys key... arg...` (Redis `evalGenericCommand` checks). */
function keysAndArgs(argv: string[]): [string[], string[]] {
  const numkeys = intArg(argv[2]!);
  if (numkeys > argv.length - 3) throw err("ERR Number of keys can't be greater than number of args");
  if (numkeys < 0) throw err("ERR Number of keys can't be negative");
  return [argv.slice(3, 3 + numkeys), argv.slice(3 + numkeys)];
}

const noscript = "noscript" as const;

export const scriptingCommands = commands({
  eval: [-3, (ctx, argv) => {
    const [keys, args] = keysAndArgs(argv);
    return ctx.scripting.eval(ctx, argv[1]!, keys, args);
  }, noscript],
  evalsha: [-3, (ctx: Ctx, argv: string[]): IReply => {
    if (argv[1]!.length !== 40) throw err("NOSCRIPT No matching script. Please use EVAL.");
    const [keys, args] = keysAndArgs(argv);
    return ctx.scripting.evalsha(ctx, argv[1]!, keys, args);
  }, noscript],
  script: {
    name: "script",
    arity: -2,
    noscript: true,
    run: () => null,
    subcommands: commands({
      "script|load": [3, (ctx, argv) => ctx.scripting.load(argv[2]!), noscript],
      "script|exists": [-3, (ctx, argv) => argv.slice(2).map((sha) => (ctx.scripting.exists(sha) ? 1 : 0)), noscript],
      "script|flush": [-2, (ctx, argv) => {
        const mode = argv[2]?.toLowerCase();
        if (argv.length > 3 || (argv.length === 3 && mode !== "sync" && mode !== "async"))
          throw err("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
        ctx.scripting.flush();
        return OK;
      }, noscript],
    }),
  },
});
