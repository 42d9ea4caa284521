import { Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { expectNginxAccepts, expectValidManifests } from './fuzz/checks';
import {
  AlertmanagerStorage, AlertmanagerWithProxy, NginxSidecar, NginxSidecarProps, Route, SidecarTarget,
  StaticFile,
} from '../../src';
import { testWithNginx } from '../support/nginx';

/*
 * Minimal counterexamples of bugs the fuzzing found (see fuzz/known-bugs.ts, which keeps the
 * fuzzing from stopping on them). Each test fails until src/ is fixed; then its entry in
 * known-bugs.ts goes away.
 */

function sidecar(props: Partial<NginxSidecarProps> = {}) {
  const chart = Testing.chart();
  const app = new kplus.Deployment(chart, 'app', {
    containers: [{ image: 'registry.example.com/app:1', portNumber: 9093 }],
  });
  const proxy = new NginxSidecar(chart, 'proxy', {
    target: SidecarTarget.fromWorkload(app),
    upstreamPort: 9093,
    ...props,
  });
  return { chart, proxy, objects: () => Testing.synth(chart) };
}

describe('NginxSidecar regressions found by fuzzing', () => {
  test('resources memory that is not a whole number of MiB is refused naming \'resources\'', () => {
    // today: cdk8s's own "'1 kibibytes' cannot be converted into a whole number of mebibytes."
    expect(() => sidecar({ resources: { memory: { limit: Size.kibibytes(1) } } }))
      .toThrow(/'resources\.memory\.limit'.*1 KiB/);
  });

  test('a memory request above the memory limit is refused naming \'resources\'', () => {
    // today: accepted; the apiserver refuses the pod template
    expect(() => sidecar({
      resources: { memory: { request: Size.mebibytes(256), limit: Size.mebibytes(128) } },
    })).toThrow(/'resources\.memory\.request' 256Mi/);
  });

  test('a duration that is not a whole number of milliseconds is refused naming its prop', () => {
    // today: cdk8s's own "1.5 must be a whole number of millis." names no prop
    expect(() => sidecar({ timeouts: { connect: Duration.millis(1.5) } }))
      .toThrow(/'timeouts.connect'.*1\.5/);
    expect(() => Route.microCached('/api/', { validFor: Duration.seconds(1.0005) }))
      .toThrow(/'validFor'/);
  });

  test('a duration beyond what nginx can hold is refused naming its prop', () => {
    // today: accepted, renders `proxy_connect_timeout 1000000000000d;`, which nginx -t refuses
    expect(() => sidecar({ timeouts: { connect: Duration.days(1e12) } }))
      .toThrow(/'timeouts.connect'/);
  });

  testWithNginx('a cache or browser lifetime not in whole seconds renders a time nginx accepts', () => {
    // today: `proxy_cache_valid 200 1500ms;`; nginx reads these lifetimes in whole seconds and
    // refuses "ms" ("invalid time value"), as it does for `expires` and `inactive=`
    let built;
    try {
      built = sidecar({ routes: [Route.cached('/lib/', { validFor: Duration.millis(1500) })] });
    } catch (error) {
      expect((error as Error).message).toMatch(/'validFor'.*1500/);
      return;
    }
    expectNginxAccepts(built.objects());
  });

  test('a port below 1024, which non-root nginx cannot bind, is refused naming its prop', () => {
    // today: accepted; nginx runs as user 101 with every capability dropped, so bind() fails
    // with "Permission denied" unless the cluster lowered net.ipv4.ip_unprivileged_port_start
    expect(() => sidecar({ listenPort: 80 })).toThrow(/'listenPort'.*80/);
    expect(() => sidecar({ compressorPort: 1023 })).toThrow(/'compressorPort'.*1023/);
  });

  testWithNginx('an empty compression.types list renders a gzip_types nginx accepts', () => {
    // today: `gzip_types;`, which nginx -t refuses ("invalid number of arguments")
    let built;
    try {
      built = sidecar({ compression: { types: [] } });
    } catch (error) {
      expect((error as Error).message).toMatch(/'compression.types'/);
      return;
    }
    expectNginxAccepts(built.objects());
  });

  test('a value too long for one nginx word is refused naming the prop, not the directive', () => {
    // today: "nginx argument of 'add_header' must render to at most 4094 bytes ..."
    expect(() => sidecar({ responseHeaders: [{ name: 'X-Long', value: 'v'.repeat(4095) }] }))
      .toThrow(/'responseHeaders'/);
    expect(() => sidecar({ routes: [Route.uncached(`/${'a'.repeat(4094)}`)] }))
      .toThrow(/'routes'|'path'/);
  });

  test('a size beyond what nginx can hold is refused naming its prop', () => {
    // today: accepted, renders `gzip_min_length 1.2089258196146292e+24;` or a max_size nginx
    // cannot hold, and an emptyDir sizeLimit of the same size
    expect(() => sidecar({ compression: { minLength: Size.tebibytes(1e12) } }))
      .toThrow(/'compression.minLength'/);
    expect(() => sidecar({ cache: { maxSize: Size.tebibytes(1e6) } }))
      .toThrow(/'cache.maxSize'/);
  });

  test('an empty override file is mounted (its ConfigMap key exists)', () => {
    // today: the ConfigMap drops the empty value, the volume item names a missing key and the
    // kubelet cannot start the pod
    const { objects } = sidecar({ overrides: [StaticFile.fromString('/empty.txt', '')] });

    expect(() => expectValidManifests(objects())).not.toThrow();
  });

  test('overrides at /a and /a/b (not both files) are refused naming \'overrides\'', () => {
    // today: accepted; the kubelet cannot write a/b below the file a
    expect(() => sidecar({
      overrides: [StaticFile.fromString('/a', 'x'), StaticFile.fromString('/a/b', 'y')],
    })).toThrow(/'overrides'.*\/a/);
  });

  test('an override path segment longer than a file name is refused naming \'urlPath\'', () => {
    // today: accepted; a file name holds at most 255 bytes (252 leave room for the .gz copy)
    expect(() => StaticFile.fromString(`/${'p'.repeat(256)}`, 'x')).toThrow(/'urlPath'/);
  });

  test('an empty image, or one with whitespace or controls, is refused naming \'image\'', () => {
    // today: accepted; the apiserver refuses an empty image and a runtime cannot parse the rest
    expect(() => sidecar({ image: '' })).toThrow(/'image'/);
    expect(() => sidecar({ image: 'nginx:1.28.0 ' })).toThrow(/'image'/);
  });
});

describe('AlertmanagerWithProxy regressions found by fuzzing', () => {
  test('an apiMicroCache out of range is refused naming \'apiMicroCache\', not \'validFor\'', () => {
    // today: "'validFor' of route '/api/v2/' must be at least 1 second, got 0 ms"
    const build = () => new AlertmanagerWithProxy(Testing.chart(), 'am', {
      apiMicroCache: Duration.seconds(0),
    });

    expect(build).toThrow(/'apiMicroCache'/);
  });

  test('a storage size that is not a whole number of MiB is refused naming its prop', () => {
    // today: cdk8s's own "'1 kibibytes' cannot be converted into a whole number of mebibytes."
    expect(() => AlertmanagerStorage.ephemeral(Size.kibibytes(1))).toThrow(/'sizeLimit'/);
    expect(() => AlertmanagerStorage.persistent({ size: Size.kibibytes(1536) })).toThrow(/'size'/);
  });

  test('ingress names that are not DNS names are refused naming their prop', () => {
    // today: accepted; the apiserver refuses the Ingress
    const build = (ingress: object) => () =>
      new AlertmanagerWithProxy(Testing.chart(), 'am', { ingress });

    expect(build({ host: 'alerts example.com' })).toThrow(/'ingress.host'/);
    expect(build({ ingressClassName: 'Nginx!' })).toThrow(/'ingress.ingressClassName'/);
    expect(build({ host: 'alerts.example.com', tlsSecretName: '${' }))
      .toThrow(/'ingress.tlsSecretName'/);
  });
});
