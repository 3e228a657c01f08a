/** Error texts as Redis' Lua integration builds them, and Lua 5.1 wording of 5.3 messages. */

/** Redis `luaPushErrorBuff`: "-CODE msg" keeps its code, anything else gets "ERR". */
export function errorText(message: string, fromReply: boolean): string {
  let code = "ERR";
  let msg = message;
  if (fromReply) {
    const sp = message.indexOf(" ");
    if (sp >= 0) [code, msg] = [message.slice(0, sp), message.slice(sp + 1)];
  }
  return `${code} ${msg.replace(/^[\r\n]+|[\r\n]+$/g, "")}`;
}

/** Lua 5.3 says "attempt to index a nil value (field 'x')", 5.1 "attempt to index field 'x' (a nil value)". */
export const lua51Wording = (msg: string): string =>
  msg.replace(/attempt to (.+?) a (\w+) value \((local|global|field|upvalue|method|constant) '([^']*)'\)/, (_, op, type, kind, name) =>
    `attempt to ${op} ${kind === "constant" ? "field" : kind} '${name}' (a ${type} value)`);

/**
 * Lua 5.1 quotes every token in syntax errors ("near '<eof>'") and reports a bare expression
 * statement as "'=' expected" where 5.3 says "syntax error".
 */
export const lua51SyntaxWording = (msg: string): string =>
  msg.replace(/ near <eof>$/, " near '<eof>'").replace(/^(user_script:\d+:) syntax error near /, "$1 '=' expected near ");

