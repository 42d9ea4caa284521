import { Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { validateManifests } from '../support/manifests';
import { expectNginxConfigValid, layOutPod } from '../support/nginx';

/** A cdk8s-plus StatefulSet running an app on `port`, as the recipe's Alertmanager does. */
export function appStatefulSet(chart: Chart, port = 9093): kplus.StatefulSet {
  return new kplus.StatefulSet(chart, 'app', {
    containers: [{
      name: 'app',
      image: 'quay.io/prometheus/alertmanager:v0.25.0',
      ports: [{ number: port, name: 'http' }],
    }],
  });
}

/** Synthesizes, validates every object against the schemas and returns the manifests. */
export function synth(chart: Chart): any[] {
  const manifests = Testing.synth(chart);
  validateManifests(manifests);
  return manifests;
}

/** Runs the real `nginx -t` on the config of the nginx container in `manifests`. */
export function expectNginxAccepts(manifests: any[], containerName = 'nginx'): void {
  expectNginxConfigValid(layOutPod(manifests, { containerName }));
}

export function byKind(manifests: any[], kind: string): any[] {
  return manifests.filter((m) => m.kind === kind);
}

export function onlyOfKind(manifests: any[], kind: string): any {
  const found = byKind(manifests, kind);
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}, found ${found.length}`);
  }
  return found[0];
}

export function podSpecOf(workload: any): any {
  return workload.kind === 'CronJob'
    ? workload.spec.jobTemplate.spec.template.spec
    : workload.spec.template.spec;
}

export function containerOf(workload: any, name: string): any {
  const container = podSpecOf(workload).containers.find((c: any) => c.name === name);
  if (!container) {
    throw new Error(`no container ${name} in ${workload.kind}/${workload.metadata.name}`);
  }
  return container;
}

export function configMapNamed(manifests: any[], name: string): any {
  const found = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === name);
  if (!found) {
    throw new Error(`no ConfigMap ${name}`);
  }
  return found;
}
