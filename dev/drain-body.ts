/**
 * `wrangler dev` only: when the worker answers before reading all of a request body it has
 * started to read (a chunked body over the JSON limit gets its 413 part-way), the dev server's
 * proxy stalls the *next* request, whoever sends it, until it times out (503). Cancelling the
 * body does not release it, nor does reading the rest after the answer has gone; reading it to
 * the end before answering does. So the dev entry hands the worker a body it can take back, and
 * after a refusal reads what is left (bounded) before the refusal goes out. The deployed worker
 * (src/worker/index.ts) has no such proxy in front of it and never reads what it refuses.
 */

export interface DrainOptions {
  /** Most bytes read after a refusal; a larger body is cancelled instead. @default 64 MiB */
  maxBytes?: number;
  /** Longest wait for the rest of the body; then it is cancelled. @default 10_000 */
  maxMs?: number;
}

export interface DrainableRequest<R extends Request> {
  /** The request to give the worker: the same (its `cf` too), with a body this module can finish reading. */
  request: R;
  /** Call with the worker's answer before returning it: a refusal (4xx, 5xx) first reads the rest of the body. */
  settle(response: Response): Promise<void>;
}

export function drainable<R extends Request>(request: R, options: DrainOptions = {}): DrainableRequest<R> {
  const source = request.body;
  if (source === null) return { request, settle: async () => {} };
  const { maxBytes = 64 * 1024 * 1024, maxMs = 10_000 } = options;
  // Taken at the worker's first read: a body the worker never touches stays unlocked, and the
  // runtime discards it as usual.
  let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  const read = () => (reader ??= source.getReader()).read();
  const drain = async () => {
    let bytes = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), maxMs)));
    try {
      for (;;) {
        const next = await Promise.race([read(), late]);
        if (next === "late" || next.done) break;
        bytes += next.value.byteLength;
        if (bytes > maxBytes) break;
      }
      await reader?.cancel().catch(() => {});
    } catch {
      // The client went away (the read fails): nothing left to read.
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  };
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
    },
    { highWaterMark: 0 },
  );
  return {
    request: new Request(request, { body }) as unknown as R,
    settle: async (response) => {
      // Only a body the worker started to read and left: one never read is the runtime's to discard.
      if (response.status >= 400 && reader !== null) await drain();
    },
  };
}
