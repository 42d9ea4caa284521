import * as fc from 'fast-check';
import {
  alertmanagerCase, AlertmanagerFuzzContext, runAlertmanagerCase,
} from './fuzz/alertmanager-case';
import {
  FuzzTally, fuzzParameters, NginxSampler, nginxAvailable, recordPlans,
} from './fuzz/checks';

// FUZZ_RUNS=10000 (the test:fuzz task) for a full run; this keeps the default run short
const RUNS = 100;
const NGINX_EVERY = 1;

const nginxNote = nginxAvailable() ? '' : ' (nginx -t skipped: nginx not installed)';

describe('AlertmanagerWithProxy fuzzing', () => {
  let recorder: ReturnType<typeof recordPlans>;

  beforeAll(() => {
    recorder = recordPlans();
  });

  afterAll(() => {
    recorder.restore();
  });

  const title = 'hostile props are refused by name or build restricted pods, a kept secret and a '
    + `valid nginx.conf${nginxNote}`;

  test(title, () => {
    const run: AlertmanagerFuzzContext = {
      recorder,
      tally: new FuzzTally(),
      sampler: new NginxSampler(NGINX_EVERY),
    };
    const started = Date.now();

    fc.assert(fc.property(alertmanagerCase, (c) => runAlertmanagerCase(c, run)),
      fuzzParameters(RUNS));

    const summary = run.tally.summary('AlertmanagerWithProxy hostile props', Date.now() - started);
    process.stdout.write(`${summary}\n`);
    expect(run.tally.accepted).toBeGreaterThan(0);
  });
});
