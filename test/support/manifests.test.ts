import { ApiObject, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { findManifestProblems, synthAndValidate, validateManifests } from './manifests';

/** A Deployment and a Service, valid as they stand; tests break one field at a time. */
function validObjects(): any[] {
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [{
              name: 'nginx',
              image: 'nginx:stable',
              ports: [{ containerPort: 8080, name: 'nginx-http' }],
              readinessProbe: { httpGet: { path: '/', port: 'nginx-http' } },
              volumeMounts: [{ name: 'config', mountPath: '/etc/nginx/sidecar' }],
            }],
            volumes: [{ name: 'config', configMap: { name: 'web-config' } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: {
        selector: { app: 'web' },
        ports: [{ name: 'http', port: 80, targetPort: 'nginx-http' }],
      },
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web-config' }, data: { a: 'b' } },
  ];
}

describe('validateManifests', () => {
  test('accepts valid objects', () => {
    expect(() => validateManifests(validObjects())).not.toThrow();
  });

  test('accepts what cdk8s-plus synthesizes', () => {
    const chart = Testing.chart();
    const deployment = new kplus.Deployment(chart, 'web', {
      containers: [{ image: 'nginx', portNumber: 8080 }],
    });
    deployment.exposeViaService({ ports: [{ port: 80, targetPort: 8080 }] });

    const objects = synthAndValidate(chart);

    expect(objects.map((o) => o.kind)).toEqual(['Deployment', 'Service']);
  });

  test('fails when a name is not DNS-1123, listing every problem', () => {
    const objects = validObjects();
    objects[0].metadata.name = 'Bad_Name';
    objects[1].metadata.name = '1-starts-with-digit';

    expect(() => validateManifests(objects)).toThrow(/2 manifest problem\(s\)/);
    expect(() => validateManifests(objects))
      .toThrow(/Deployment\/Bad_Name: metadata.name \(DNS-1123 subdomain\)/);
    expect(() => validateManifests(objects))
      .toThrow(/Service\/1-starts-with-digit: metadata.name \(DNS-1035 label\)/);
  });

  test('fails when a container port is 70000', () => {
    const objects = validObjects();
    objects[0].spec.template.spec.containers[0].ports[0].containerPort = 70000;

    expect(() => validateManifests(objects))
      .toThrow(/ports\[0\]\.containerPort must be an integer in 1\.\.65535, got 70000/);
  });

  test('fails when a required field is missing', () => {
    const objects = validObjects();
    delete objects[0].spec.template.spec.containers[0].name;

    expect(() => validateManifests(objects))
      .toThrow(/schema: spec.template.spec.containers.0 lacks required field 'name'/);
  });

  test('fails when a field has the wrong type', () => {
    const objects = validObjects();
    objects[1].spec.ports[0].port = '80';

    expect(() => validateManifests(objects)).toThrow(/schema: spec.ports.0.port must be integer/);
  });

  test('fails when a named targetPort names no container port', () => {
    const objects = validObjects();
    objects[1].spec.ports[0].targetPort = 'http-missing';

    expect(() => validateManifests(objects))
      .toThrow(/targetPort 'http-missing' names no container port \(known: nginx-http\)/);
  });

  test('fails when a port name is longer than 15 characters', () => {
    const objects = validObjects();
    objects[0].spec.template.spec.containers[0].ports[0].name = 'nginx-http-proxy-port';

    expect(findManifestProblems(objects)).toEqual(expect.arrayContaining([
      expect.stringMatching(/\.name "nginx-http-proxy-port" is not an IANA service name/),
    ]));
  });

  test('fails when a volume mount or a configMap item has nothing to point at', () => {
    const objects = validObjects();
    const pod = objects[0].spec.template.spec;
    pod.containers[0].volumeMounts.push({ name: 'cache', mountPath: '/var/cache/nginx' });
    pod.volumes[0].configMap.items = [{ key: 'nginx.conf', path: 'nginx.conf' }];

    const problems = findManifestProblems(objects);

    expect(problems).toEqual([
      expect.stringMatching(/'config' item key 'nginx.conf' is not in ConfigMap web-config/),
      expect.stringMatching(/volumeMounts\[1\] refers to volume 'cache', which the pod lacks/),
    ]);
  });

  test('fails when the selector does not match the pod template', () => {
    const objects = validObjects();
    objects[0].spec.selector.matchLabels.app = 'other';

    expect(() => validateManifests(objects)).toThrow(/matchLabels app=other does not match/);
  });

  test('fails on a kind without a schema unless unknown kinds are allowed', () => {
    const chart = Testing.chart();
    const apiVersion = 'monitoring.coreos.com/v1';
    new ApiObject(chart, 'rule', { apiVersion, kind: 'PrometheusRule' });

    expect(() => synthAndValidate(chart))
      .toThrow(/no Kubernetes schema for apiVersion monitoring.coreos.com\/v1, kind Prometheus/);
    expect(() => synthAndValidate(chart, { allowUnknownKinds: true })).not.toThrow();
  });
});
