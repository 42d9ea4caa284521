import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { validateManifests } from '../support/manifests';
import { expectNginxConfigValid, layOutPod, testWithNginx } from '../support/nginx';
import { makeTempDir } from '../support/processes';

const EXAMPLE_DIR = path.join(__dirname, '..', '..', 'examples', 'alertmanager');

/**
 * The README's main job, run as a user runs it: `cdk8s synth` in examples/alertmanager, here
 * into a temporary folder so the test leaves the example's own dist/ alone.
 */
describe('examples/alertmanager, synthesized with cdk8s synth', () => {
  const files = new Map<string, any[]>();

  beforeAll(() => {
    const outdir = makeTempDir('example-synth');
    execFileSync('npx', ['cdk8s', 'synth', '--no-check-upgrade', '--output', outdir], {
      cwd: EXAMPLE_DIR,
      env: { ...process.env, CDK8S_CHECK_UPGRADE: 'false' },
      stdio: 'pipe',
    });
    for (const file of fs.readdirSync(outdir).sort()) {
      const text = fs.readFileSync(path.join(outdir, file), 'utf-8');
      files.set(file, YAML.parseAllDocuments(text).map((doc) => doc.toJSON()));
    }
  }, 120_000);

  test('writes one file per chart', () => {
    expect([...files.keys()]).toEqual(['alertmanager.k8s.yaml', 'any-workload.k8s.yaml']);
  });

  test('every object passes the Kubernetes schemas and our own checks', () => {
    for (const objects of files.values()) {
      expect(objects.length).toBeGreaterThan(0);
      validateManifests(objects);
    }
  });

  testWithNginx('the real nginx accepts the nginx.conf of every chart', () => {
    for (const objects of files.values()) {
      expectNginxConfigValid(layOutPod(objects));
    }
  });
});
