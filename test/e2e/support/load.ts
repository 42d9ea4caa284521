import * as http from 'http';
import { Answer, request } from './http';

export interface LoadOptions {
  /** URLs requested in turn by each loop. */
  readonly urls: string[];
  /** Loops running at once, each with one kept-alive connection. */
  readonly concurrency: number;
  /** Stop after this many requests in all. */
  readonly maxRequests: number;
  /** Stop after this long. */
  readonly maxMs: number;
  /** Extra request headers. @default - none */
  readonly headers?: Record<string, string>;
}

/** Counts of what a {@link startLoad} run received. */
export interface LoadResult {
  readonly requests: number;
  /** Answers by status code; a failed connection counts as status 0. */
  readonly statuses: Record<number, number>;
  readonly maxMs: number;
}

/** A running load; `stop()` ends it early and resolves with the counts. */
export interface RunningLoad {
  stop(): Promise<LoadResult>;
}

/**
 * GET load on `urls`, bounded in count and time whatever happens: it ends at `maxRequests`,
 * at `maxMs`, or at `stop()`, whichever comes first.
 */
export function startLoad(options: LoadOptions): RunningLoad {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const deadline = Date.now() + options.maxMs;
  const statuses: Record<number, number> = {};
  let requests = 0;
  let maxMs = 0;
  let stopped = false;
  const loop = async (offset: number) => {
    for (let i = offset; !stopped && requests < options.maxRequests && Date.now() < deadline; i++) {
      requests++;
      let answer: Answer | undefined;
      try {
        answer = await request(options.urls[i % options.urls.length], { agent, headers: options.headers, timeoutMs: 5_000 });
      } catch {
        answer = undefined;
      }
      const status = answer?.status ?? 0;
      statuses[status] = (statuses[status] ?? 0) + 1;
      maxMs = Math.max(maxMs, answer?.ms ?? 0);
    }
  };
  const loops = Promise.all(Array.from({ length: options.concurrency }, (_, i) => loop(i)));
  return {
    stop: async () => {
      stopped = true;
      await loops;
      agent.destroy();
      return { requests, statuses, maxMs };
    },
  };
}
