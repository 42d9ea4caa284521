import * as crypto from 'crypto';
import * as http from 'http';
import * as zlib from 'zlib';

/** One HTTP answer, body as received (still compressed when the server compressed it). */
export interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  /** Time from sending the request to the last byte of the answer. */
  readonly ms: number;
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  /** Reuse connections through this agent; by default every request opens its own. */
  readonly agent?: http.Agent;
  /**
   * Abort after this long.
   *
   * @default 10000
   */
  readonly timeoutMs?: number;
}

/** A request to `url`, which must point at 127.0.0.1: tests send nothing anywhere else. */
export async function request(url: string, options: RequestOptions = {}): Promise<Answer> {
  const target = new URL(url);
  if (target.hostname !== '127.0.0.1') {
    throw new Error(`tests only talk to 127.0.0.1, got ${url}`);
  }
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = http.request(target, {
      method: options.method ?? 'GET',
      headers: options.headers,
      agent: options.agent ?? false,
      timeout: options.timeoutMs ?? 10_000,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: Buffer.concat(chunks),
        ms: Number(process.hrtime.bigint() - started) / 1e6,
      }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${options.timeoutMs ?? 10_000} ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** GET with `Accept-Encoding: gzip`, as a browser sends it. */
export async function getGzip(url: string, options: RequestOptions = {}): Promise<Answer> {
  return request(url, { ...options, headers: { 'Accept-Encoding': 'gzip, deflate, br', ...options.headers } });
}

/** The answer's body with any gzip Content-Encoding undone. */
export function decoded(answer: Answer): Buffer {
  return answer.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(answer.body) : answer.body;
}

/** The answer's body parsed as JSON, after undoing gzip. */
export function json(answer: Answer): any {
  return JSON.parse(decoded(answer).toString('utf-8'));
}

/** Resolves after `ms` milliseconds. */
export async function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Length and SHA-256 of `content`: compares like the bytes, but fast (jest's deep equality walks
 * a Buffer byte by byte) and with a readable failure message.
 */
export function fingerprint(content: Buffer | undefined): string {
  if (content === undefined) {
    return 'undefined';
  }
  return `${content.length} bytes, sha256 ${crypto.createHash('sha256').update(content).digest('hex')}`;
}
