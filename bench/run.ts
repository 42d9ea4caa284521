/**
 * Benchmarks of the nginx sidecar before a real Alertmanager, all on 127.0.0.1:
 * throughput and latency with wrk, bytes per answer, nginx memory, micro-cache staleness,
 * and synthesis time. Prints the tables and rewrites docs/benchmarks.md with this run.
 *
 *   npm run bench                               # the full run, about 13 minutes
 *   BENCH_SECONDS=1 BENCH_ROUNDS=1 BENCH_OUT=/tmp/b.md npm run bench   # a quick look
 *   BENCH_RENDER=/tmp/bench-results-….json npm run bench   # the report again from a run's raw numbers
 *
 * Also BENCH_SYNTH_SIZES (100,1000,2000) and BENCH_SYNTH_ROUNDS (5).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { descendants, sampleMemory, TreeMemory, treeMemory } from './memory';
import { renderReport } from './report';
import { ALERT_COUNT, BenchServers, startBenchServers } from './servers';
import { synthRounds, SynthTiming } from './synth';
import { runWrk, WrkResult } from './wrk';
import { alertIds, postAlert } from '../test/e2e/support/alertmanager-api';
import { getGzip, request, sleep } from '../test/e2e/support/http';
import { STYLESHEET_PATH } from '../test/e2e/support/ui-assets';
import { cleanUp, requireTool } from '../test/support/processes';

export const SETTINGS = {
  seconds: Number(process.env.BENCH_SECONDS ?? 4),
  rounds: Number(process.env.BENCH_ROUNDS ?? 3),
  connections: [50, 200],
  threads: 2,
  synthSizes: (process.env.BENCH_SYNTH_SIZES ?? '100,1000,2000').split(',').map(Number),
  synthRounds: Number(process.env.BENCH_SYNTH_ROUNDS ?? 5),
  out: process.env.BENCH_OUT ?? path.join(__dirname, '..', 'docs', 'benchmarks.md'),
  // on 2 CPUs or more: every server on the first, wrk on the second, so the two sides do not
  // fight over one CPU and rounds vary less
  serverCpu: os.cpus().length >= 2 ? '0' : undefined,
  wrkCpu: os.cpus().length >= 2 ? '1' : undefined,
};

export type Resource = 'script.js' | 'stylesheet' | '/api/v2/alerts';
export type Setup = 'direct' | 'sidecar' | 'sidecar, micro-cache' | 'static ceiling' | 'gzip-per-request baseline'
  | 'sidecar, entry with Content-Length (experiment)';

export interface Cell {
  readonly resource: Resource;
  readonly setup: Setup;
  readonly gzip: boolean;
  readonly connections: number;
  readonly url: string;
}

export interface CellResult {
  readonly cell: Cell;
  readonly runs: WrkResult[];
  /** Medians over the rounds. */
  readonly goodPerSecond: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Summed over the rounds. */
  readonly non2xx: number;
  readonly socketErrors: number;
}

export interface BytesRow {
  readonly resource: Resource;
  readonly setup: Setup;
  readonly original: number;
  readonly plain: number;
  readonly gzip: number;
}

export interface MemoryRow {
  readonly what: string;
  readonly memory: TreeMemory;
}

export interface StalenessResult {
  readonly trials: number;
  /** Per trial: the latest start, after the POST, of a read that still lacked the alert. */
  readonly staleForMs: number[];
}

export interface Environment {
  readonly date: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGib: number;
  readonly node: string;
  readonly nginx: string;
  readonly alertmanager: string;
  readonly wrk: string;
}

export interface BenchResults {
  readonly settings: typeof SETTINGS;
  readonly environment: Environment;
  readonly cells: CellResult[];
  readonly bytes: BytesRow[];
  readonly memory: MemoryRow[];
  readonly staleness: StalenessResult;
  readonly synth: SynthTiming[];
  readonly alertsJsonBytes: number;
  readonly totalSeconds: number;
}

const RESOURCES: Array<[Resource, string]> = [
  ['script.js', '/script.js'],
  ['stylesheet', STYLESHEET_PATH],
  ['/api/v2/alerts', '/api/v2/alerts'],
];

function cells(servers: BenchServers): Cell[] {
  const out: Cell[] = [];
  for (const [resource, urlPath] of RESOURCES) {
    const setups: Array<[Setup, string, boolean[]]> = [
      ['direct', servers.micro.alertmanagerUrl, [false, true]],
      ...(resource === '/api/v2/alerts'
        ? [['sidecar', servers.plain.nginxUrl, [false, true]], ['sidecar, micro-cache', servers.micro.nginxUrl, [false, true]]] as Array<[Setup, string, boolean[]]>
        : [['sidecar', servers.micro.nginxUrl, [false, true]]] as Array<[Setup, string, boolean[]]>),
      ['static ceiling', servers.ceiling.url, [false, true]],
      // it differs from a plain proxy only when it compresses
      ['gzip-per-request baseline', servers.baseline.url, [true]],
      ...(resource === 'script.js'
        ? [['sidecar, entry with Content-Length (experiment)', servers.contentLengthVariant.url, [true]]] as Array<[Setup, string, boolean[]]>
        : []),
    ];
    for (const [setup, base, encodings] of setups) {
      for (const gzip of encodings) {
        for (const connections of SETTINGS.connections) {
          out.push({ resource, setup, gzip, connections, url: base + urlPath });
        }
      }
    }
  }
  return out;
}

async function measureThroughput(servers: BenchServers, memory: MemoryRow[]): Promise<CellResult[]> {
  const all = cells(servers);
  // every cache warm before the first measurement
  for (const cell of all) {
    await (cell.gzip ? getGzip(cell.url) : request(cell.url));
  }
  const runs = new Map<Cell, WrkResult[]>(all.map((cell) => [cell, []]));
  const samplers = [servers.micro.nginx, servers.plain.nginx].map((nginx) => sampleMemory(nginx.pid));
  for (let round = 0; round < SETTINGS.rounds; round++) {
    // interleaved: each round runs every cell once, starting at a different place
    const offset = Math.floor((round * all.length) / SETTINGS.rounds);
    const order = [...all.slice(offset), ...all.slice(0, offset)];
    for (const [i, cell] of order.entries()) {
      const result = await runWrk({
        url: cell.url,
        connections: cell.connections,
        seconds: SETTINGS.seconds,
        threads: SETTINGS.threads,
        headers: cell.gzip ? { 'Accept-Encoding': 'gzip' } : {},
        cpu: SETTINGS.wrkCpu,
      });
      runs.get(cell)!.push(result);
      log(`round ${round + 1}/${SETTINGS.rounds} ${i + 1}/${order.length} ${describeCell(cell)}: `
        + `${result.goodPerSecond.toFixed(0)} good/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, `
        + `non-2xx ${result.non2xx}`);
      await sleep(200);
    }
  }
  const [microMax, plainMax] = samplers.map((sampler) => sampler.stop());
  memory.push({ what: 'sidecar with micro-cache, largest during all throughput runs', memory: microMax });
  memory.push({ what: 'default sidecar, largest during all throughput runs', memory: plainMax });
  return all.map((cell) => {
    const r = runs.get(cell)!;
    return {
      cell,
      runs: r,
      goodPerSecond: median(r.map((x) => x.goodPerSecond)),
      requestsPerSecond: median(r.map((x) => x.requestsPerSecond)),
      p50Ms: median(r.map((x) => x.p50Ms)),
      p99Ms: median(r.map((x) => x.p99Ms)),
      non2xx: r.reduce((sum, x) => sum + x.non2xx, 0),
      socketErrors: r.reduce((sum, x) => sum + x.socketErrors, 0),
    };
  });
}

async function measureBytes(servers: BenchServers): Promise<BytesRow[]> {
  const rows: BytesRow[] = [];
  const setups: Array<[Setup, string]> = [
    ['direct', servers.micro.alertmanagerUrl],
    ['sidecar', servers.micro.nginxUrl],
    ['static ceiling', servers.ceiling.url],
    ['gzip-per-request baseline', servers.baseline.url],
  ];
  for (const [resource, urlPath] of RESOURCES) {
    for (const [setup, base] of setups) {
      const plain = await request(base + urlPath);
      const gzip = await getGzip(base + urlPath);
      const original = resource === '/api/v2/alerts' ? servers.alertsJson.length : servers.micro.ui.files.get(urlPath)!.length;
      rows.push({ resource, setup, original, plain: plain.body.length, gzip: gzip.body.length });
    }
  }
  return rows;
}

/** The default sidecar's nginx: idle, then under the heaviest loads, then idle again. */
async function measureMemory(servers: BenchServers, rows: MemoryRow[]): Promise<void> {
  const nginx = servers.plain.nginx;
  rows.push({ what: 'default sidecar, idle after start', memory: treeMemory(nginx.pid) });
  for (const [, urlPath] of RESOURCES) {
    await getGzip(servers.plain.nginxUrl + urlPath);
    await request(servers.plain.nginxUrl + urlPath);
  }
  rows.push({ what: 'default sidecar, idle with the UI cached', memory: treeMemory(nginx.pid) });
  const loads: Array<[string, string, boolean]> = [
    ['script.js gzip (cache hits)', '/script.js', true],
    ['/api/v2/alerts gzip (proxied, compressed per answer)', '/api/v2/alerts', true],
    ['/api/v2/alerts plain (proxied)', '/api/v2/alerts', false],
  ];
  for (const [what, urlPath, gzip] of loads) {
    const sampler = sampleMemory(nginx.pid, 25);
    const result = await runWrk({
      url: servers.plain.nginxUrl + urlPath,
      connections: 200,
      seconds: SETTINGS.seconds,
      threads: SETTINGS.threads,
      headers: gzip ? { 'Accept-Encoding': 'gzip' } : {},
      cpu: SETTINGS.wrkCpu,
    });
    rows.push({ what: `default sidecar, 200 connections on ${what}, ${result.goodPerSecond.toFixed(0)} good/s`, memory: sampler.stop() });
  }
  await sleep(1_000);
  rows.push({ what: 'default sidecar, idle after the load', memory: treeMemory(nginx.pid) });
}

/** How long after a POST the micro-cached list through nginx can still lack the new alert. */
async function measureStaleness(servers: BenchServers, trials: number): Promise<StalenessResult> {
  const url = `${servers.micro.nginxUrl}/api/v2/alerts`;
  const staleForMs: number[] = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 3 });
  try {
    for (let trial = 0; trial < trials; trial++) {
      const id = `staleness-${trial}`;
      let postedAt: number | undefined;
      let latestStale = 0;
      let stop = false;
      const reader = async () => {
        for (let n = 0; !stop && n < 2_000; n++) {
          const started = Date.now();
          const listed = alertIds(await getGzip(url, { agent })).includes(id);
          if (postedAt !== undefined && !listed) {
            latestStale = Math.max(latestStale, started - postedAt);
          }
          await sleep(5);
        }
      };
      const readers = Promise.all([reader(), reader(), reader()]);
      // land the POST at a different point of the cache entry's life in each trial
      await sleep(300 + (trial * 1_000) / trials);
      await postAlert(servers.micro.alertmanagerUrl, id);
      postedAt = Date.now();
      await sleep(3_000);
      stop = true;
      await readers;
      staleForMs.push(latestStale);
    }
  } finally {
    agent.destroy();
  }
  return { trials, staleForMs };
}

function environment(): Environment {
  const version = (command: string, args: string[]) => {
    const result = spawnSync(command, args, { encoding: 'utf-8', timeout: 10_000 });
    return `${result.stdout ?? ''}\n${result.stderr ?? ''}`.split('\n').map((line) => line.trim()).find((line) => line) ?? 'unknown';
  };
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGib: Math.round(os.totalmem() / 1024 ** 3),
    node: process.version,
    nginx: version(requireTool('nginx'), ['-v']),
    alertmanager: version(requireTool('alertmanager'), ['--version']),
    wrk: version(requireTool('wrk'), ['-v']),
  };
}

/** Every thread of every server process, workers included, onto `cpu`. */
function pinServers(servers: BenchServers, cpu: string): void {
  const roots = [
    servers.micro.nginx, servers.micro.alertmanager, servers.plain.nginx, servers.plain.alertmanager,
    servers.ceiling, servers.baseline, servers.contentLengthVariant,
  ].map((p) => p.pid);
  for (const pid of roots.flatMap((root) => [root, ...descendants(root)])) {
    const result = spawnSync('taskset', ['-a', '-p', '-c', cpu, String(pid)], { encoding: 'utf-8' });
    if (result.status !== 0) {
      throw new Error(`taskset failed for pid ${pid}: ${result.stderr}`);
    }
  }
}

export function describeCell(cell: Cell): string {
  return `${cell.resource} via ${cell.setup}, ${cell.gzip ? 'gzip' : 'plain'}, ${cell.connections} conns`;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

async function main(): Promise<void> {
  if (process.env.BENCH_RENDER) {
    const saved: BenchResults = JSON.parse(fs.readFileSync(process.env.BENCH_RENDER, 'utf-8'));
    const report = renderReport({ ...saved, settings: { ...saved.settings, out: SETTINGS.out } }, ALERT_COUNT);
    process.stdout.write(report);
    fs.writeFileSync(SETTINGS.out, report);
    return;
  }
  const started = Date.now();
  const env = environment();
  log(`synthesis: ${SETTINGS.synthSizes.join(', ')} workloads, ${SETTINGS.synthRounds} rounds`);
  // before any server starts, so nothing else competes for the CPU
  const synth = [
    ...synthRounds(SETTINGS.synthSizes, SETTINGS.synthRounds, 'yaml'),
    ...synthRounds(SETTINGS.synthSizes, SETTINGS.synthRounds, 'json'),
  ];

  log('starting Alertmanager, the sidecars, the static ceiling and the gzip baseline');
  const servers = await startBenchServers();
  if (SETTINGS.serverCpu !== undefined) {
    pinServers(servers, SETTINGS.serverCpu);
  }
  const memory: MemoryRow[] = [];
  await measureMemory(servers, memory);
  const bytes = await measureBytes(servers);
  const cellResults = await measureThroughput(servers, memory);
  log('micro-cache staleness');
  const staleness = await measureStaleness(servers, 6);

  const results: BenchResults = {
    settings: SETTINGS,
    environment: env,
    cells: cellResults,
    bytes,
    memory,
    staleness,
    synth,
    alertsJsonBytes: servers.alertsJson.length,
    totalSeconds: (Date.now() - started) / 1000,
  };
  // the raw numbers, every round of every case, for a closer look than the report gives
  const raw = path.join(os.tmpdir(), `bench-results-${Date.now()}.json`);
  fs.writeFileSync(raw, JSON.stringify(results, null, 1));
  log(`raw results in ${raw}`);
  const report = renderReport(results, ALERT_COUNT);
  process.stdout.write(report);
  fs.mkdirSync(path.dirname(SETTINGS.out), { recursive: true });
  fs.writeFileSync(SETTINGS.out, report);
  log(`wrote ${SETTINGS.out} after ${results.totalSeconds.toFixed(0)} s`);
}

// run only when started as a program; report.ts imports its types
if (require.main === module) {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void cleanUp().finally(() => process.exit(130));
    });
  }
  main()
    .then(() => cleanUp())
    .catch(async (error) => {
      process.stderr.write(`${error?.stack ?? error}\n`);
      await cleanUp();
      process.exit(1);
    });
}
