import { ApiObject, Cron, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { buildTarget } from './fuzz/build';
import { expectValidManifests } from './fuzz/checks';
import {
  AlertmanagerStorage, AlertmanagerWithProxy, NginxSidecar, Route, SecurityHeaders, SidecarTarget,
  StaticFile,
} from '../../src';
import {
  assertRestricted, assertSidecarKeepsPodSecurity, podSecurityViolations, podSpecViolations,
} from '../support/pod-security';

/** A pod spec that meets restricted; tests break one field at a time. */
function restrictedSpec(): any {
  return {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [{
      name: 'nginx',
      image: 'nginx',
      securityContext: {
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        readOnlyRootFilesystem: true,
        runAsUser: 101,
      },
    }],
    volumes: [{ name: 'state', emptyDir: { sizeLimit: '64Mi' } }],
  };
}

describe('podSpecViolations', () => {
  test('accepts a restricted pod', () => {
    expect(podSpecViolations(restrictedSpec(), 'Pod/x')).toEqual([]);
  });

  const breaks: Array<[string, (spec: any) => void, RegExp]> = [
    ['hostNetwork', (s) => { s.hostNetwork = true; }, /pod: hostNetwork must not be true/],
    ['hostPID', (s) => { s.hostPID = true; }, /pod: hostPID must not be true/],
    ['hostIPC', (s) => { s.hostIPC = true; }, /pod: hostIPC must not be true/],
    [
      'a hostPath volume',
      (s) => { s.volumes.push({ name: 'h', hostPath: { path: '/' } }); },
      /volume 'h' must not be a hostPath/,
    ],
    [
      'an nfs volume',
      (s) => { s.volumes.push({ name: 'n', nfs: { server: 'x', path: '/' } }); },
      /volume 'n' has type nfs/,
    ],
    [
      'privileged',
      (s) => { s.containers[0].securityContext.privileged = true; },
      /containers\[nginx\]: privileged must not be true/,
    ],
    [
      'privilege escalation',
      (s) => { delete s.containers[0].securityContext.allowPrivilegeEscalation; },
      /allowPrivilegeEscalation must be false/,
    ],
    [
      'no runAsNonRoot anywhere',
      (s) => { delete s.securityContext.runAsNonRoot; },
      /runAsNonRoot must be true/,
    ],
    [
      'runAsNonRoot false on the pod',
      (s) => { s.securityContext.runAsNonRoot = false; },
      /pod: securityContext.runAsNonRoot must not be false/,
    ],
    [
      'runAsUser 0',
      (s) => { s.containers[0].securityContext.runAsUser = 0; },
      /runAsUser must not be 0/,
    ],
    [
      'no seccomp anywhere',
      (s) => { delete s.securityContext.seccompProfile; },
      /seccompProfile.type must be RuntimeDefault or Localhost/,
    ],
    [
      'Unconfined seccomp on the container',
      (s) => { s.containers[0].securityContext.seccompProfile = { type: 'Unconfined' }; },
      /got Unconfined/,
    ],
    [
      'capabilities not dropped',
      (s) => { s.containers[0].securityContext.capabilities = {}; },
      /capabilities.drop must include ALL/,
    ],
    [
      'an added capability',
      (s) => { s.containers[0].securityContext.capabilities.add = ['SYS_ADMIN']; },
      /capabilities.add must hold only NET_BIND_SERVICE, got SYS_ADMIN/,
    ],
    [
      'a hostPort',
      (s) => { s.containers[0].ports = [{ containerPort: 80, hostPort: 80 }]; },
      /hostPort 80 must not be set/,
    ],
    [
      'an unsafe sysctl',
      (s) => { s.securityContext.sysctls = [{ name: 'kernel.msgmax', value: '1' }]; },
      /sysctl kernel.msgmax/,
    ],
    [
      'a writable root filesystem for nginx',
      (s) => { s.containers[0].securityContext.readOnlyRootFilesystem = false; },
      /readOnlyRootFilesystem must be true/,
    ],
    [
      'an init container running as root',
      (s) => {
        s.initContainers = [{ name: 'init', image: 'x', securityContext: { runAsUser: 0 } }];
      },
      /initContainers\[init\]: runAsUser must not be 0/,
    ],
  ];

  test.each(breaks)('reports %s', (_title, breakIt, finding) => {
    const spec = restrictedSpec();
    breakIt(spec);

    expect(podSpecViolations(spec, 'Pod/x').join('\n')).toMatch(finding);
  });

  test('a container setting wins over the pod setting', () => {
    const spec = restrictedSpec();
    delete spec.securityContext.seccompProfile;
    spec.containers[0].securityContext.seccompProfile = { type: 'RuntimeDefault' };

    expect(podSpecViolations(spec, 'Pod/x')).toEqual([]);
  });
});

describe('assertSidecarKeepsPodSecurity', () => {
  function before(): any[] {
    return [{
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'app' },
      spec: {
        template: {
          spec: {
            hostNetwork: true,
            containers: [{ name: 'app', image: 'app', securityContext: { runAsUser: 0 } }],
          },
        },
      },
    }];
  }
  const sidecarContainer = () => {
    const container = restrictedSpec().containers[0];
    container.securityContext = {
      ...container.securityContext,
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    };
    return container;
  };

  test('accepts a compliant sidecar beside a non-compliant app', () => {
    const after = before();
    after[0].spec.template.spec.containers.push(sidecarContainer());

    expect(() => assertSidecarKeepsPodSecurity(before(), after)).not.toThrow();
  });

  test('fails when the sidecar itself is not restricted', () => {
    const after = before();
    after[0].spec.template.spec.containers.push({ ...sidecarContainer(), securityContext: {} });

    expect(() => assertSidecarKeepsPodSecurity(before(), after))
      .toThrow(/sidecar: .*allowPrivilegeEscalation/);
  });

  test('fails when the user\'s container or pod fields were changed', () => {
    const after = before();
    after[0].spec.template.spec.containers[0].securityContext = {};
    after[0].spec.template.spec.hostNetwork = false;
    after[0].spec.template.spec.containers.push(sidecarContainer());

    expect(() => assertSidecarKeepsPodSecurity(before(), after))
      .toThrow(/pod-level fields changed: hostNetwork[\s\S]*the user's containers changed/);
  });

  test('fails when a hostPath volume was added', () => {
    const after = before();
    after[0].spec.template.spec.containers.push(sidecarContainer());
    after[0].spec.template.spec.volumes = [{ name: 'nginx-state', hostPath: { path: '/tmp' } }];

    expect(() => assertSidecarKeepsPodSecurity(before(), after))
      .toThrow(/new volume 'nginx-state' has type hostPath/);
  });
});

/**
 * Typical ways to use the library. Each builds its chart twice, without and with the sidecar,
 * and every workload it synthesizes goes through the restricted check.
 */
describe('every workload of typical configurations', () => {
  const kinds = [
    'Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'Pod', 'HardenedDeployment',
    'RawRestricted', 'RawLoose',
  ] as const;
  const settings: Array<[string, object]> = [
    ['defaults', {}],
    ['Alertmanager-like routes and overrides', {
      routes: [Route.cached('/lib/'), Route.microCached('/api/v2/'), Route.uncached('/api/')],
      overrides: [StaticFile.fromString('/script.js', 'console.log(1);'.repeat(100))],
      responseHeaders: SecurityHeaders.recommended(),
    }],
    ['a custom container name, port and resources', {
      containerName: 'proxy',
      listenPort: 18080,
      resources: { memory: { request: Size.mebibytes(64), limit: Size.mebibytes(128) } },
    }],
  ];

  for (const kind of kinds) {
    test.each(settings)(`${kind} with %s: the sidecar is restricted and loosens nothing`, (_, props) => {
      const built = buildTarget({ kind, appPort: 9093, expose: 'service+ingress' });
      const before = Testing.synth(built.chart);
      const sidecar = new NginxSidecar(built.chart, 'proxy', {
        target: built.target,
        upstreamPort: 9093,
        ...props,
      });
      built.expose(sidecar);
      const after = Testing.synth(built.chart);
      const containerName = (props as any).containerName ?? 'nginx';

      expectValidManifests(after);
      assertSidecarKeepsPodSecurity(before, after, { sidecar: containerName });
      if (built.restrictedOnItsOwn) {
        assertRestricted(after, { readOnlyRootFilesystem: [containerName] });
      } else {
        expect(podSecurityViolations(after, { readOnlyRootFilesystem: [containerName] })
          .filter((finding) => finding.includes(`[${containerName}]`))).toEqual([]);
      }
    });
  }

  test('a raw root, privileged, hostPath workload keeps exactly its own findings', () => {
    const built = buildTarget({ kind: 'RawLoose', appPort: 9093, expose: 'service' });
    const before = Testing.synth(built.chart);
    new NginxSidecar(built.chart, 'proxy', { target: built.target, upstreamPort: 9093 });
    const after = Testing.synth(built.chart);

    expect(podSecurityViolations(before).length).toBeGreaterThan(5);
    const findings = (objects: any[]) => podSecurityViolations(objects, { readOnlyRootFilesystem: [] });
    expect(findings(after)).toEqual(findings(before));
  });

  test('a raw Pod and a raw CronJob get a restricted sidecar', () => {
    const chart = Testing.chart();
    const container = { name: 'app', image: 'app', ports: [{ containerPort: 9093 }] };
    const pod = new ApiObject(chart, 'pod', {
      apiVersion: 'v1',
      kind: 'Pod',
      spec: { containers: [container] },
    });
    const cron = new ApiObject(chart, 'cron', {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      spec: {
        schedule: Cron.daily().expressionString,
        jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [container] } } } },
      },
    });
    const before = Testing.synth(chart);
    for (const [id, target] of [['pod-proxy', pod], ['cron-proxy', cron]] as const) {
      new NginxSidecar(chart, id, { target: SidecarTarget.fromApiObject(target), upstreamPort: 9093 });
    }

    assertSidecarKeepsPodSecurity(before, Testing.synth(chart));
  });
});

describe('AlertmanagerWithProxy pods', () => {
  const variants: Array<[string, object]> = [
    ['defaults', {}],
    ['three replicas, ephemeral storage, an ingress with TLS', {
      replicas: 3,
      storage: AlertmanagerStorage.ephemeral(Size.mebibytes(128)),
      ingress: { host: 'alerts.example.com', tlsSecretName: 'alerts-tls' },
    }],
    ['a route prefix, a micro-cache, overrides and security headers', {
      routePrefix: '/alertmanager',
      apiMicroCache: Duration.seconds(1),
      overrides: [StaticFile.fromString('/script.js', 'patched')],
      proxy: { responseHeaders: SecurityHeaders.recommended(), containerName: 'proxy' },
    }],
    ['release 0.32', { version: '0.32.0' }],
  ];

  test.each(variants)('with %s every pod is restricted, nginx and Alertmanager read-only', (_, props) => {
    const chart = Testing.chart();
    new AlertmanagerWithProxy(chart, 'alertmanager', props);
    const objects = Testing.synth(chart);
    const proxyName = (props as any).proxy?.containerName ?? 'nginx';

    expectValidManifests(objects);
    assertRestricted(objects, { readOnlyRootFilesystem: [proxyName, 'alertmanager'] });
  });
});

test('kplus workloads with a sidecar on the side keep the user\'s own container untouched', () => {
  const chart = Testing.chart();
  const app = new kplus.Deployment(chart, 'app', {
    containers: [{
      image: 'app',
      portNumber: 9093,
      securityContext: { ensureNonRoot: false, user: 0 },
    }],
  });
  const before = Testing.synth(chart);
  new NginxSidecar(chart, 'proxy', { target: SidecarTarget.fromWorkload(app), upstreamPort: 9093 });

  assertSidecarKeepsPodSecurity(before, Testing.synth(chart));
});
