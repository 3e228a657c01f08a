import http from "node:http";
export async function startStore(o: { port: number; token: string; redisUrl?: string }) {
  const srv = http.createServer((req, res) => { res.setHeader("content-type","application/json"); res.end(JSON.stringify([{ result: "PONG" }])); });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as any).port;
  return { url: `http://127.0.0.1:${port}`, controlUrl: `http://127.0.0.1:${port}`, token: o.token, backend: { name: "stub" }, close: async () => srv.close() };
}
