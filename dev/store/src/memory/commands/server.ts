/** Connection and server commands: PING, ECHO, TIME, DBSIZE, FLUSHDB, FLUSHALL. */
import { commands } from "../command.ts";
import { Errors, OK, Status } from "../reply.ts";

function flush(argv: string[]): void {
  if (argv.length > 2 || (argv.length === 2 && !["async", "sync"].includes(argv[1]!.toLowerCase())))
    throw Errors.syntax();
}

export const serverCommands = commands({
  ping: [-1, (_ctx, argv) => {
    if (argv.length > 2) throw Errors.wrongArity("ping");
    return argv.length === 2 ? argv[1]! : new Status("PONG");
  }],
  echo: [2, (_ctx, argv) => argv[1]!],
  time: [1, (ctx) => {
    const ms = ctx.db.now();
    return [String(Math.floor(ms / 1000)), String((ms % 1000) * 1000)];
  }],
  dbsize: [1, (ctx) => ctx.db.size()],
  flushdb: [-1, (ctx, argv) => {
    flush(argv);
    ctx.db.flush();
    return OK;
  }, "write"],
  flushall: [-1, (ctx, argv) => {
    flush(argv);
    ctx.db.flush();
    return OK;
  }, "write"],
});
