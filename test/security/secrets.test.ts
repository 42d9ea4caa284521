import { createHash } from 'crypto';
import { Testing } from 'cdk8s';
import { expectSecretKept } from './fuzz/alertmanager-case';
import { AlertmanagerConfig, AlertmanagerWithProxy, StaticFile } from '../../src';

const PASSWORD = 's3cr3t-d41d8cd98f00b204';

function config(password = PASSWORD): AlertmanagerConfig {
  return AlertmanagerConfig.fromObject({
    route: { receiver: 'team' },
    receivers: [{
      name: 'team',
      email_configs: [{ to: 'team@example.com', auth_username: 'am', auth_password: password }],
      webhook_configs: [{
        url: 'https://hooks.example.com/x',
        http_config: { basic_auth: { username: 'am', password } },
      }],
    }],
  });
}

function synth(password = PASSWORD, props: object = {}) {
  const chart = Testing.chart();
  const am = new AlertmanagerWithProxy(chart, 'am', { config: config(password), ...props });
  return { am, objects: Testing.synth(chart) };
}

function podAnnotationsOf(objects: any[]): Record<string, string> {
  return objects.find((o) => o.kind === 'StatefulSet').spec.template.metadata.annotations;
}

describe('alertmanager.yml and its secrets', () => {
  test('live only in the Secret: no ConfigMap, annotation, arg, env or nginx.conf has them', () => {
    const { am, objects } = synth(PASSWORD, {
      replicas: 3,
      overrides: [StaticFile.fromString('/script.js', 'patched')],
      ingress: { host: 'alerts.example.com' },
    });

    expectSecretKept(objects, config().yaml, PASSWORD);
    expect(am.proxy.nginxConf).not.toContain(PASSWORD);
    for (const configMap of objects.filter((o) => o.kind === 'ConfigMap')) {
      expect(JSON.stringify(configMap)).not.toContain(PASSWORD);
      expect(JSON.stringify(configMap)).not.toContain('receivers');
    }
  });

  test('the checksum annotation is the sha256 of the config, not the config', () => {
    const { objects } = synth();
    const annotations = podAnnotationsOf(objects);
    const digest = createHash('sha256').update(config().yaml).digest('hex');

    expect(Object.values(annotations)).toContain(digest);
    for (const value of Object.values<string>(annotations)) {
      expect(value).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  test('a new password rolls the pods but leaves nginx.conf as it was', () => {
    const first = synth('s3cr3t-one');
    const second = synth('s3cr3t-two');

    expect(podAnnotationsOf(first.objects)).not.toEqual(podAnnotationsOf(second.objects));
    expect(first.am.proxy.nginxConf).toBe(second.am.proxy.nginxConf);
  });

  test('only the Alertmanager container mounts the Secret, read-only; nginx cannot read it', () => {
    const { objects } = synth();
    const secret = objects.find((o) => o.kind === 'Secret');
    const pod = objects.find((o) => o.kind === 'StatefulSet').spec.template.spec;
    const secretVolumes = pod.volumes
      .filter((v: any) => v.secret?.secretName === secret.metadata.name)
      .map((v: any) => v.name);
    const mountsOf = (name: string) =>
      pod.containers.find((c: any) => c.name === name).volumeMounts ?? [];

    expect(secretVolumes).toHaveLength(1);
    expect(mountsOf('alertmanager').filter((m: any) => secretVolumes.includes(m.name)))
      .toEqual([expect.objectContaining({ readOnly: true })]);
    expect(mountsOf('nginx').some((m: any) => secretVolumes.includes(m.name))).toBe(false);
    for (const container of pod.containers) {
      expect(JSON.stringify(container.env ?? [])).not.toContain(PASSWORD);
    }
  });

  test('a YAML error points at the place and does not echo the text', () => {
    const yaml = `receivers:\n  - name: team\n    password: '${PASSWORD}\n  bad: [`;

    expect(() => AlertmanagerConfig.fromYaml(yaml)).toThrow(/'config' YAML does not parse/);
    expect(() => AlertmanagerConfig.fromYaml(yaml)).not.toThrow(new RegExp(PASSWORD));
  });
});
