import { Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  expectConfigMatchesModel, expectNodeProtected, find, nginxBytes, quantityValue, recordPlans,
} from './fuzz/checks';
import {
  AlertmanagerStorage, AlertmanagerWithProxy, NginxSidecar, NginxSidecarProps, SidecarTarget,
} from '../../src';

let recorder: ReturnType<typeof recordPlans>;
beforeAll(() => {
  recorder = recordPlans();
});
afterAll(() => recorder.restore());

function build(props: Partial<NginxSidecarProps> = {}) {
  recorder.plans.length = 0;
  const chart = Testing.chart();
  const app = new kplus.Deployment(chart, 'app', {
    containers: [{ image: 'app', portNumber: 9093 }],
  });
  const proxy = new NginxSidecar(chart, 'proxy', {
    target: SidecarTarget.fromWorkload(app),
    upstreamPort: 9093,
    ...props,
  });
  const tree = expectConfigMatchesModel(proxy.nginxConf, recorder.plans[recorder.plans.length - 1]);
  const objects = Testing.synth(chart);
  const pod = objects.find((o) => o.kind === 'Deployment').spec.template.spec;
  return { tree, objects, pod, http: find(tree, 'http')[0].children! };
}

describe('limits that protect the node', () => {
  test.each([
    ['the default cache', undefined, 256],
    ['a 1 MiB cache', Size.mebibytes(1), 1],
    ['a 10 GiB cache', Size.gibibytes(10), 10 * 1024],
  ])('%s: the state emptyDir has a sizeLimit above max_size', (_title, maxSize, mib) => {
    const { tree, objects, pod, http } = build(maxSize ? { cache: { maxSize } } : {});
    const state = pod.volumes.find((v: any) => v.name === 'nginx-state');
    const maxSizeArg = find(http, 'proxy_cache_path')[0].args
      .find((a) => a.startsWith('max_size='))!;

    expectNodeProtected(tree, objects);
    expect(nginxBytes(maxSizeArg.slice('max_size='.length))).toBe(mib * 1024 ** 2);
    expect(quantityValue(state.emptyDir.sizeLimit)).toBe((mib + 64) * 1024 ** 2);
  });

  test('the cache, its temp files and the pid file all live in the bounded volume', () => {
    const { http, tree, pod } = build();
    const nginx = pod.containers.find((c: any) => c.name === 'nginx');
    const stateMount = nginx.volumeMounts.find((m: any) => m.name === 'nginx-state').mountPath;
    const paths = [
      find(tree, 'pid')[0].args[0],
      find(http, 'proxy_cache_path')[0].args[0],
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
        .map((name) => find(http, `${name}_temp_path`)[0].args[0]),
    ];

    expect(paths.every((p) => p.startsWith(`${stateMount}/`))).toBe(true);
    expect(find(http, 'proxy_cache_path')[0].args).toContain('use_temp_path=off');
    expect(nginx.securityContext.readOnlyRootFilesystem).toBe(true);
  });

  test('request bodies and buffers are bounded', () => {
    const { http } = build();

    expect(find(http, 'client_max_body_size')[0].args).toEqual(['4m']);
    expect(find(http, 'client_body_buffer_size')[0].args).toEqual(['128k']);
    expect(find(http, 'proxy_buffers')[0].args).toEqual(['32', '16k']);
    expect(find(http, 'proxy_busy_buffers_size')[0].args).toEqual(['64k']);
  });

  test('the nginx container has a memory limit and small requests by default', () => {
    const { pod } = build();
    const nginx = pod.containers.find((c: any) => c.name === 'nginx');

    expect(nginx.resources).toEqual({
      limits: { memory: '128Mi' },
      requests: { cpu: '50m', memory: '32Mi' },
    });
  });

  test('workers are bounded and not counted from the node\'s CPUs', () => {
    const { tree } = build();

    expect(find(tree, 'worker_processes')[0].args).toEqual(['1']);
    expect(find(find(tree, 'events')[0].children!, 'worker_connections')[0].args).toEqual(['1024']);
  });

  test('fails when clientMaxBodySize is above 1 GiB', () => {
    expect(() => build({ clientMaxBodySize: Size.kibibytes(1024 * 1024 + 1) }))
      .toThrow(/'clientMaxBodySize' must be a whole number of KiB from 1 to 1048576 KiB, got 1048577 KiB/);
  });

  test('fails when cache.maxSize is below 1 MiB or not whole MiB', () => {
    expect(() => build({ cache: { maxSize: Size.kibibytes(512) } }))
      .toThrow(/'cache.maxSize'.*512/);
    expect(() => build({ cache: { maxSize: Size.kibibytes(1536) } }))
      .toThrow(/'cache.maxSize' must be a whole number of MiB from 1 to 1048576 MiB, got 1536 KiB/);
  });

  test('fails when workers are unbounded', () => {
    expect(() => build({ workerProcesses: 65 }))
      .toThrow(/'workerProcesses' must be an integer between 1 and 64, got 65/);
    expect(() => build({ workerConnections: 65537 })).toThrow(/'workerConnections'.*65537/);
  });

  test('Alertmanager\'s ephemeral storage has a sizeLimit; the proxy cache stays bounded', () => {
    recorder.plans.length = 0;
    const chart = Testing.chart();
    const am = new AlertmanagerWithProxy(chart, 'am', {
      storage: AlertmanagerStorage.ephemeral(Size.mebibytes(128)),
      proxy: { cache: { maxSize: Size.mebibytes(512) } },
    });
    const plan = recorder.plans[recorder.plans.length - 1];
    const tree = expectConfigMatchesModel(am.proxy.nginxConf, plan);
    const objects = Testing.synth(chart);
    const volumes = objects.find((o) => o.kind === 'StatefulSet').spec.template.spec.volumes;

    expectNodeProtected(tree, objects);
    expect(volumes.find((v: any) => v.name === 'storage').emptyDir.sizeLimit).toBe('128Mi');
  });
});
