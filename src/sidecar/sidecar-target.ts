import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';

/** Where each kind keeps its pod template, as a path of keys from the manifest's root. */
const POD_TEMPLATE_PATHS: { [kind: string]: string[] } = {
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
  Pod: [],
};

/**
 * The workload a sidecar attaches to: a cdk8s-plus workload or a raw API object.
 */
export class SidecarTarget {
  /**
   * A cdk8s-plus-27 workload or pod: Deployment, StatefulSet, DaemonSet, Job, CronJob or Pod.
   */
  public static fromWorkload(workload: kplus.AbstractPod): SidecarTarget {
    return new SidecarTarget(ApiObject.of(workload));
  }

  /**
   * A raw API object with a pod template, for example a `KubeDeployment` or an object brought
   * in with `Include` or `Helm`. Its kind must be Deployment, StatefulSet, DaemonSet,
   * ReplicaSet, Job, CronJob or Pod.
   */
  public static fromApiObject(apiObject: ApiObject): SidecarTarget {
    return new SidecarTarget(apiObject);
  }

  /** The API object whose pod template receives the sidecar. */
  public readonly apiObject: ApiObject;

  private constructor(apiObject: ApiObject) {
    if (!(apiObject.kind in POD_TEMPLATE_PATHS)) {
      throw new Error(
        '\'target\' must be a workload with a pod template '
        + `(${Object.keys(POD_TEMPLATE_PATHS).join(', ')}), `
        + `got kind ${JSON.stringify(apiObject.kind)} at ${apiObject.node.path}`,
      );
    }
    this.apiObject = apiObject;
  }

  /**
   * The pod template (metadata and spec) inside a synthesized manifest of this object.
   *
   * @internal
   */
  public _podTemplateOf(manifest: any): { metadata: any; spec: any } {
    let node = manifest;
    for (const key of POD_TEMPLATE_PATHS[this.apiObject.kind]) {
      node[key] = node[key] ?? {};
      node = node[key];
    }
    node.metadata = node.metadata ?? {};
    node.spec = node.spec ?? {};
    return node;
  }
}
