import * as fc from 'fast-check';
import { sidecarCase, wellFormedSidecarCase } from './fuzz/arbitraries';
import {
  FuzzTally, fuzzParameters, NginxSampler, nginxAvailable, recordPlans,
} from './fuzz/checks';
import { runSidecarCase, SidecarFuzzContext } from './fuzz/sidecar-case';

// FUZZ_RUNS=10000 (the test:fuzz task) for a full run; these keep the default run short
const HOSTILE_RUNS = 300;
const WELL_FORMED_RUNS = 50;
// nginx -t on one accepted case in this many (FUZZ_NGINX_EVERY=1: every one); all are parsed
const NGINX_EVERY = 1;

const nginxNote = nginxAvailable() ? '' : ' (nginx -t skipped: nginx not installed)';

describe('NginxSidecar fuzzing', () => {
  let recorder: ReturnType<typeof recordPlans>;

  beforeAll(() => {
    recorder = recordPlans();
  });

  afterAll(() => {
    recorder.restore();
  });

  function context(): SidecarFuzzContext {
    return { recorder, tally: new FuzzTally(), sampler: new NginxSampler(NGINX_EVERY) };
  }

  test(`hostile props are refused by name or build a valid pod and nginx.conf${nginxNote}`, () => {
    const run = context();
    const started = Date.now();

    fc.assert(fc.property(sidecarCase, (c) => runSidecarCase(c, run)),
      fuzzParameters(HOSTILE_RUNS));

    const summary = run.tally.summary('NginxSidecar hostile props', Date.now() - started);
    process.stdout.write(`${summary}\n`);
    expect(run.tally.accepted).toBeGreaterThan(0);
    expect(run.tally.refused).toBeGreaterThan(0);
  });

  test(`well-formed props are never refused${nginxNote}`, () => {
    const run = context();
    const started = Date.now();

    fc.assert(fc.property(wellFormedSidecarCase, (c) => runSidecarCase(c, run, true)),
      fuzzParameters(WELL_FORMED_RUNS));

    const summary = run.tally.summary('NginxSidecar well-formed props', Date.now() - started);
    process.stdout.write(`${summary}\n`);
  });
});
