import * as v8 from 'v8';
import * as vm from 'vm';
import { App, Chart, Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { NginxSidecar, Route, SidecarTarget } from '../src';

export type SynthOutput = 'yaml' | 'json';

// a full collection before each timing, so no case pays for the garbage of the one before
v8.setFlagsFromString('--expose-gc');
const collectGarbage: () => void = vm.runInNewContext('gc');

/** One timing: building the construct tree and synthesizing it. */
export interface SynthTiming {
  readonly workloads: number;
  readonly sidecar: boolean;
  readonly output: SynthOutput;
  readonly ms: number;
  /** Bytes of YAML written, or of the objects as JSON; measured after the clock stopped. */
  readonly bytes: number;
  /** Kubernetes objects synthesized. */
  readonly objects: number;
}

/**
 * Builds `workloads` cdk8s-plus Deployments in one chart, each with an nginx sidecar when asked,
 * and synthesizes them: to YAML text as `cdk8s synth` writes it, or to objects as
 * `Testing.synth` returns them. Returns the wall time of both steps and the output's size.
 */
export function timeSynth(workloads: number, sidecar: boolean, output: SynthOutput): Omit<SynthTiming, 'workloads' | 'sidecar' | 'output'> {
  const started = process.hrtime.bigint();
  const app = new App({ outdir: '/nonexistent-bench-outdir' });
  const chart = new Chart(app, 'bench');
  for (let i = 0; i < workloads; i++) {
    const workload = new kplus.Deployment(chart, `app-${i}`, {
      containers: [{ name: 'app', image: 'registry.example/app:1.0.0', ports: [{ number: 9093, name: 'http' }] }],
    });
    if (sidecar) {
      new NginxSidecar(chart, `proxy-${i}`, {
        target: SidecarTarget.fromWorkload(workload),
        upstreamPort: 9093,
        routes: [
          Route.cached('/', { exact: true, validFor: Duration.days(1) }),
          Route.cached('/static/', { validFor: Duration.days(1) }),
          Route.microCached('/api/v1/', { validFor: Duration.seconds(1) }),
          Route.uncached('/api/'),
        ],
      });
    }
  }
  const result = output === 'yaml' ? app.synthYaml() : Testing.synth(chart);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const bytes = typeof result === 'string' ? Buffer.byteLength(result) : Buffer.byteLength(JSON.stringify(result));
  const objects = typeof result === 'string' ? result.split(/^---$/m).length : result.length;
  if (bytes === 0) {
    throw new Error('synthesized nothing');
  }
  return { ms, bytes, objects };
}

/**
 * Times every size, with and without sidecars, in interleaved rounds: each round runs every
 * case once, in an order that alternates, so drift (heap growth, JIT, other load) spreads over
 * all cases instead of landing on one.
 */
export function synthRounds(sizes: number[], rounds: number, output: SynthOutput): SynthTiming[] {
  // warm-up: the first synth of a process loads modules and compiles hot paths
  timeSynth(50, false, output);
  timeSynth(50, true, output);
  const timings: SynthTiming[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const workloads of sizes) {
      const order = round % 2 === 0 ? [false, true] : [true, false];
      for (const sidecar of order) {
        collectGarbage();
        timings.push({ workloads, sidecar, output, ...timeSynth(workloads, sidecar, output) });
      }
    }
  }
  return timings;
}
