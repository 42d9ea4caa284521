import { Testing } from 'cdk8s';
import { SidecarCase } from './arbitraries';
import { buildSidecarCase, localPathOf } from './build';
import {
  addGiven, expectConfigMatchesModel, expectNginxAccepts, expectNodeProtected,
  expectNothingExposed, expectProperRefusal, expectValidManifests, FuzzTally, nginxAvailable,
  NginxSampler, PlainDirective, recordPlans, walk,
} from './checks';
import { knownBugOf } from './known-bugs';
import { assertRestricted, assertSidecarKeepsPodSecurity } from '../../support/pod-security';

/** Every prop name a refusal of this case may name, with the values it may show. */
export function givenProps(c: SidecarCase): Map<string, unknown[]> {
  const given = new Map<string, unknown[]>();
  const listenPort = c.listenPort ?? 8080;
  addGiven(given, 'upstreamPort', c.upstreamPort === 'app' ? c.target.appPort : c.upstreamPort);
  addGiven(given, 'listenPort', listenPort);
  addGiven(given, 'compressorPort', c.compressorPort ?? listenPort + 1);
  addGiven(given, 'routes', c.routes);
  addGiven(given, 'path', c.routes?.map((r) => r.path));
  addGiven(given, 'validFor', c.routes?.map((r) => r.validFor));
  addGiven(given, 'idleTimeout', c.routes?.map((r) => r.idleTimeout));
  addGiven(given, 'browserCacheFor', [...(c.routes ?? []), ...(c.overrides ?? [])].map((x) => x.browserCacheFor));
  addGiven(given, 'overrides', c.overrides);
  addGiven(given, 'urlPath', c.overrides?.map((o) => o.urlPath));
  addGiven(given, 'contentType', c.overrides?.map((o) => o.contentType));
  addGiven(given, 'base64', c.overrides?.filter((o) => o.via === 'base64').map((o) => o.content));
  addGiven(given, 'localPath', c.overrides?.map((o, i) => (o.via.endsWith('file') ? localPathOf(o, i) : undefined)));
  addGiven(given, 'healthPath', c.healthPath ?? '/nginx-health');
  addGiven(given, 'timeouts', c.timeouts);
  for (const key of ['connect', 'read', 'send'] as const) {
    addGiven(given, `timeouts.${key}`, c.timeouts?.[key]);
  }
  addGiven(given, 'cache', c.cache);
  addGiven(given, 'cache.maxSize', c.cache?.maxSize);
  addGiven(given, 'cache.inactive', c.cache?.inactive);
  addGiven(given, 'compression', c.compression);
  addGiven(given, 'compression.level', c.compression?.level);
  addGiven(given, 'compression.minLength', c.compression?.minLength);
  addGiven(given, 'compression.types', c.compression?.types);
  addGiven(given, 'clientMaxBodySize', c.clientMaxBodySize);
  addGiven(given, 'workerProcesses', c.workerProcesses);
  addGiven(given, 'workerConnections', c.workerConnections);
  addGiven(given, 'responseHeaders', c.responseHeaders === 'recommended' ? undefined : c.responseHeaders);
  addGiven(given, 'image', c.image);
  addGiven(given, 'containerName', c.containerName);
  addGiven(given, 'resources', c.resources);
  return given;
}

/** What a test file needs to run sidecar cases: the plan recorder, a tally and the sampler. */
export interface SidecarFuzzContext {
  readonly recorder: ReturnType<typeof recordPlans>;
  readonly tally: FuzzTally;
  readonly sampler: NginxSampler;
}

/**
 * One case: either the library refuses it with an Error that names the prop and shows its
 * value, or everything it builds is valid (manifests, Pod Security, nginx.conf as modelled,
 * nothing exposed, node protected, and - on a sample - the real nginx -t).
 */
export function runSidecarCase(c: SidecarCase, context: SidecarFuzzContext, mustAccept = false): void {
  const { recorder, tally, sampler } = context;
  tally.cases++;
  const known = knownBugOf(c);
  if (known) {
    tally.skip(known.test);
    return;
  }
  recorder.plans.length = 0;
  let built;
  let objects: any[];
  try {
    built = buildSidecarCase(c);
    objects = Testing.synth(built.built.chart);
  } catch (error) {
    if (mustAccept) {
      throw new Error(`a well-formed case was refused: ${(error as Error).message}`);
    }
    tally.refuse(expectProperRefusal(error, givenProps(c)));
    return;
  }
  tally.accepted++;
  const { sidecar, before } = built;
  const containerName = c.containerName ?? 'nginx';

  expectValidManifests(objects);
  if (built.built.restrictedOnItsOwn) {
    assertRestricted(objects, { readOnlyRootFilesystem: [containerName] });
  }
  assertSidecarKeepsPodSecurity(before, objects, { sidecar: containerName });

  const plan = recorder.plans[recorder.plans.length - 1];
  const tree = expectConfigMatchesModel(sidecar.nginxConf, plan);
  const configMaps = objects.filter((o) => o.kind === 'ConfigMap' && o.data?.['nginx.conf'] !== undefined);
  if (configMaps.length !== 1 || configMaps[0].data['nginx.conf'] !== sidecar.nginxConf) {
    throw new Error('the ConfigMap does not hold exactly the rendered nginx.conf');
  }
  expectNothingExposed(tree, sidecar.listenPort, plan.compressorPort, plan.listenOnIpv6);
  expectHeadersApplied(tree, plan.responseHeaders);
  expectNodeProtected(tree, objects);

  if (nginxAvailable() && sampler.shouldCheck(sidecar.nginxConf)) {
    expectNginxAccepts(objects, containerName);
    sampler.accepted(sidecar.nginxConf);
    tally.nginxChecked++;
  }
}

/** Each header the user asked for is added once, at the public server's level, with `always`. */
export function expectHeadersApplied(tree: PlainDirective[], headers: { name: string; value: string }[]): void {
  const added: string[][] = [];
  walk(tree, (d) => {
    if (d.name === 'add_header') {
      added.push(d.args);
    }
  });
  for (const header of headers) {
    if (!added.some((args) => JSON.stringify(args) === JSON.stringify([header.name, header.value, 'always']))) {
      throw new Error(`header ${JSON.stringify(header)} is not added with 'always'`);
    }
  }
}
