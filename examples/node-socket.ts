/**
 * A WebSocket from Node (a server, a CLI) through the browser client, with `ws`: no `Origin`,
 * an `Authorization: Bearer` header and a single-use ticket. test/client/ws-node-client.node.test.ts
 * runs it against the worker.
 */
import WebSocket from "ws";
import { createSessionClient, type WebSocketConstructor } from "edge-session/client";

export async function openNodeSocket(baseUrl: string, email: string, password: string) {
  const session = createSessionClient({ baseUrl, WebSocket: WebSocket as unknown as WebSocketConstructor, socketAuthorization: true });
  await session.login(email, password);
  const socket = (await session.openSocket()) as unknown as WebSocket; // Bearer header + ticket, no Origin
  return { session, socket };
}
