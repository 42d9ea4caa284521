import { spawn } from 'child_process';
import { requireTool } from '../test/support/processes';

export interface WrkOptions {
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  /** @default 2 */
  readonly threads?: number;
  /** @default - none */
  readonly headers?: Record<string, string>;
  /** CPUs wrk may run on, as taskset takes them (`1`, `0-1`). @default - any */
  readonly cpu?: string;
}

export interface WrkResult {
  readonly requests: number;
  readonly requestsPerSecond: number;
  /** Answers with a status outside 2xx and 3xx. */
  readonly non2xx: number;
  /** Connect, read, write errors and timeouts. */
  readonly socketErrors: number;
  /** Answers in 2xx or 3xx per second: the rate of useful answers. */
  readonly goodPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly bytesRead: number;
}

/** Runs wrk once against 127.0.0.1 and parses its report. */
export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  if (new URL(options.url).hostname !== '127.0.0.1') {
    throw new Error(`the benchmark only loads 127.0.0.1, got ${options.url}`);
  }
  const args = [
    `-t${options.threads ?? 2}`, `-c${options.connections}`, `-d${options.seconds}s`,
    '--latency', '--timeout', '5s',
    ...Object.entries(options.headers ?? {}).flatMap(([name, value]) => ['-H', `${name}: ${value}`]),
    options.url,
  ];
  const wrk = requireTool('wrk');
  const [command, commandArgs] = options.cpu ? ['taskset', ['-c', options.cpu, wrk, ...args]] : [wrk, args];
  const output = await run(command, commandArgs, (options.seconds + 15) * 1000);
  return parseWrk(output);
}

export function parseWrk(output: string): WrkResult {
  const number = (pattern: RegExp) => {
    const match = pattern.exec(output);
    if (!match) {
      throw new Error(`wrk output lacks ${pattern}:\n${output}`);
    }
    return match;
  };
  const requests = Number(number(/(\d+) requests in ([\d.]+)(\w+),\s+([\d.]+)(\w+) read/)[1]);
  const read = number(/requests in [\d.]+\w+,\s+([\d.]+)(\w+) read/);
  const requestsPerSecond = Number(number(/Requests\/sec:\s+([\d.]+)/)[1]);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(output)?.[1] ?? 0);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const socketErrors = errors ? errors.slice(1).map(Number).reduce((a, b) => a + b, 0) : 0;
  const seconds = requests / requestsPerSecond;
  return {
    requests,
    requestsPerSecond,
    non2xx,
    socketErrors,
    goodPerSecond: requests > 0 ? (requests - non2xx) / seconds : 0,
    p50Ms: toMs(number(/50%\s+([\d.]+)(us|ms|s)\b/)),
    p99Ms: toMs(number(/99%\s+([\d.]+)(us|ms|s)\b/)),
    bytesRead: Number(read[1]) * ({ B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 } as Record<string, number>)[read[2]],
  };
}

function toMs(match: RegExpExecArray): number {
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}

async function run(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => { output += chunk; });
    child.stderr.on('data', (chunk) => { output += chunk; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) {
        resolve(output);
      } else {
        reject(new Error(`wrk exited with ${code}:\n${output}`));
      }
    });
  });
}
