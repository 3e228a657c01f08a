/**
 * What the operator tools (user:add, keys:generate) share: flags parsed with `--help` and a
 * one-line answer to a bad flag (never Node's stack trace), and a password read from a prompt,
 * stdin or the environment (never argv: npm echoes the command line, the shell keeps it).
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** A one-line message on stderr, then exit (2: a usage error, 1: the work failed). */
export function die(tool: string, message: string, code = 2): never {
  process.stderr.write(`${tool}: ${message}\n`);
  process.exit(code);
}

/** `--help` / `-h` prints `usage` and exits 0; an unknown or malformed flag is one line and exit 2. */
export function parseFlags<O extends Options>(tool: string, usage: string, options: O, args = process.argv.slice(2)) {
  try {
    const { values } = parseArgs({ args, options: { ...options, help: { type: "boolean", short: "h" } }, strict: true, allowPositionals: false });
    if ((values as { help?: boolean }).help) {
      process.stdout.write(usage.endsWith("\n") ? usage : `${usage}\n`);
      process.exit(0);
    }
    return values as ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>>["values"];
  } catch (error) {
    // Node's messages name the flag; its explanation of `--` after a bad flag is not for us.
    const first = (error as Error).message.split(". ")[0]!.split("\n")[0];
    return die(tool, `${first} (--help lists the flags)`);
  }
}

/**
 * The password: `envName` when set; otherwise a prompt without echo when stdin is a terminal;
 * otherwise the first line of stdin (`printf '%s\n' "$PW" | npm run …`).
 */
export async function readPassword(envName: string, prompt = "password: "): Promise<string> {
  const fromEnv = process.env[envName];
  if (fromEnv) return fromEnv;
  if (process.stdin.isTTY) return promptHidden(prompt);
  let text = "";
  for await (const chunk of process.stdin) text += String(chunk);
  return text.split(/\r?\n/)[0] ?? "";
}

/** Reads one line from the terminal in raw mode, echoing nothing. Ctrl-C aborts. */
function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.setEncoding("utf8");
    let value = "";
    const done = (result: string | null) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onData);
      process.stderr.write("\n");
      if (result === null) process.exit(130);
      resolve(result);
    };
    const onData = (chars: string) => {
      for (const ch of chars) {
        if (ch === "\r" || ch === "\n") return done(value);
        if (ch === "\u0003") return done(null);
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
        else if (ch >= " ") value += ch;
      }
    };
    stdin.on("data", onData);
    stdin.resume();
  });
}
