/**
 * Pod Security Standards, "restricted" profile, checked on synthesized manifests.
 *
 * The rules follow the Kubernetes Pod Security Standards (baseline plus restricted, policy
 * version "latest") as the pod-security admission controller applies them: each rule looks at
 * the pod-level field and at every container, init container and ephemeral container, where a
 * container's own setting wins over the pod's. On top of the standard, containers named in
 * `readOnlyRootFilesystem` must run with a read-only root filesystem.
 *
 * Findings are plain strings that name the workload, the container (or `pod`) and the rule, so
 * two runs can be compared as sets: {@link assertSidecarKeepsPodSecurity} uses that to show a
 * sidecar added nothing to what the user's own pod already broke.
 */

/** One pod template found in the manifests. */
export interface PodTemplateRef {
  /** `Kind/name` of the object holding the pod. */
  readonly workload: string;
  readonly spec: any;
}

export interface PodSecurityOptions {
  /**
   * Containers that must also have `readOnlyRootFilesystem: true`.
   *
   * @default ['nginx']
   */
  readonly readOnlyRootFilesystem?: string[];
}

const POD_TEMPLATE_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'];

/** Every pod (or pod template) in `objects`, with the object it belongs to. */
export function podTemplatesOf(objects: any[]): PodTemplateRef[] {
  const pods: PodTemplateRef[] = [];
  for (const object of objects) {
    const spec = object?.kind === 'Pod' ? object.spec
      : object?.kind === 'CronJob' ? object.spec?.jobTemplate?.spec?.template?.spec
        : POD_TEMPLATE_KINDS.includes(object?.kind) ? object.spec?.template?.spec : undefined;
    if (spec && typeof spec === 'object') {
      pods.push({ workload: `${object.kind}/${object.metadata?.name ?? '?'}`, spec });
    }
  }
  return pods;
}

// restricted: only these volume types
const ALLOWED_VOLUME_TYPES = new Set([
  'configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected',
  'secret',
]);
// baseline: capabilities beyond the runtime's default set may not be added
const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE',
  'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
]);
// baseline: namespaced sysctls known to be safe
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const SELINUX_TYPES = new Set([
  'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t',
]);
const SECCOMP_OK = new Set(['RuntimeDefault', 'Localhost']);

interface ContainerRef {
  readonly container: any;
  /** `containers[nginx]`, `initContainers[setup]` ... */
  readonly label: string;
}

function containersOf(spec: any): ContainerRef[] {
  const found: ContainerRef[] = [];
  for (const field of ['initContainers', 'containers', 'ephemeralContainers']) {
    for (const container of spec?.[field] ?? []) {
      found.push({ container, label: `${field}[${container?.name}]` });
    }
  }
  return found;
}

/**
 * Every way `spec` breaks the restricted profile, one line each, prefixed with `where`.
 * Pod-level findings read `<where> pod: ...`, container findings `<where> containers[x]: ...`.
 */
export function podSpecViolations(
  spec: any,
  where: string,
  options: PodSecurityOptions = {},
): string[] {
  const readOnly = options.readOnlyRootFilesystem ?? ['nginx'];
  const found: string[] = [];
  const pod = (rule: string) => found.push(`${where} pod: ${rule}`);
  const podContext = spec?.securityContext ?? {};

  // baseline, pod level
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC']) {
    if (spec?.[field] === true) {
      pod(`${field} must not be true`);
    }
  }
  if (podContext.windowsOptions?.hostProcess === true) {
    pod('securityContext.windowsOptions.hostProcess must not be true');
  }
  for (const volume of spec?.volumes ?? []) {
    const types = Object.keys(volume ?? {}).filter((key) => key !== 'name');
    for (const type of types) {
      if (type === 'hostPath') {
        pod(`volume '${volume.name}' must not be a hostPath`);
      } else if (!ALLOWED_VOLUME_TYPES.has(type)) {
        pod(`volume '${volume.name}' has type ${type}, not one restricted allows`);
      }
    }
  }
  for (const sysctl of podContext.sysctls ?? []) {
    if (!SAFE_SYSCTLS.has(sysctl?.name)) {
      pod(`sysctl ${sysctl?.name} is not a safe sysctl`);
    }
  }
  checkSeLinux(podContext.seLinuxOptions, pod);
  checkAppArmor(podContext.appArmorProfile, pod);
  // restricted, pod level: explicit bad values are findings even when containers override them
  if (podContext.runAsNonRoot === false) {
    pod('securityContext.runAsNonRoot must not be false');
  }
  if (podContext.runAsUser === 0) {
    pod('securityContext.runAsUser must not be 0');
  }
  if (podContext.seccompProfile && !SECCOMP_OK.has(podContext.seccompProfile.type)) {
    pod('securityContext.seccompProfile.type must be RuntimeDefault or Localhost, '
      + `got ${podContext.seccompProfile.type}`);
  }

  for (const { container, label } of containersOf(spec)) {
    const at = (rule: string) => found.push(`${where} ${label}: ${rule}`);
    const context = container?.securityContext ?? {};
    // baseline
    if (context.privileged === true) {
      at('privileged must not be true');
    }
    if (context.windowsOptions?.hostProcess === true) {
      at('windowsOptions.hostProcess must not be true');
    }
    for (const port of container?.ports ?? []) {
      if (port?.hostPort !== undefined && port.hostPort !== 0) {
        at(`hostPort ${port.hostPort} must not be set`);
      }
    }
    if (context.procMount !== undefined && context.procMount !== 'Default') {
      at(`procMount must be Default, got ${context.procMount}`);
    }
    checkSeLinux(context.seLinuxOptions, at);
    checkAppArmor(context.appArmorProfile, at);
    // restricted
    if (context.allowPrivilegeEscalation !== false) {
      at('allowPrivilegeEscalation must be false');
    }
    const effectiveNonRoot = context.runAsNonRoot ?? podContext.runAsNonRoot;
    if (effectiveNonRoot !== true) {
      at('runAsNonRoot must be true (on the container or the pod)');
    }
    if (context.runAsUser === 0) {
      at('runAsUser must not be 0');
    }
    const seccomp = context.seccompProfile?.type ?? podContext.seccompProfile?.type;
    if (!SECCOMP_OK.has(seccomp)) {
      at(`seccompProfile.type must be RuntimeDefault or Localhost (on the container or the pod), got ${seccomp}`);
    }
    const drop: string[] = context.capabilities?.drop ?? [];
    if (!drop.includes('ALL')) {
      at('capabilities.drop must include ALL');
    }
    for (const capability of context.capabilities?.add ?? []) {
      if (capability !== 'NET_BIND_SERVICE') {
        at(`capabilities.add must hold only NET_BIND_SERVICE, got ${capability}`);
      }
      if (!BASELINE_CAPABILITIES.has(capability)) {
        at(`capability ${capability} is beyond the baseline set`);
      }
    }
    if (readOnly.includes(container?.name) && context.readOnlyRootFilesystem !== true) {
      at('readOnlyRootFilesystem must be true');
    }
  }
  return found;
}

function checkSeLinux(options: any, report: (rule: string) => void): void {
  if (!options) {
    return;
  }
  if (options.type !== undefined && options.type !== '' && !SELINUX_TYPES.has(options.type)) {
    report(`seLinuxOptions.type ${options.type} is not allowed`);
  }
  if (options.user || options.role) {
    report('seLinuxOptions.user and .role must not be set');
  }
}

function checkAppArmor(profile: any, report: (rule: string) => void): void {
  if (profile?.type === 'Unconfined') {
    report('appArmorProfile.type must not be Unconfined');
  }
}

/** Every restricted-profile finding in every pod of `objects`. */
export function podSecurityViolations(objects: any[], options: PodSecurityOptions = {}): string[] {
  return podTemplatesOf(objects).flatMap((pod) => podSpecViolations(pod.spec, pod.workload, options));
}

/** Throws one Error listing every finding, unless every pod in `objects` is restricted. */
export function assertRestricted(objects: any[], options: PodSecurityOptions = {}): void {
  const found = podSecurityViolations(objects, options);
  if (podTemplatesOf(objects).length === 0) {
    throw new Error('no pod or pod template in the manifests: nothing was checked');
  }
  if (found.length > 0) {
    throw new Error(`${found.length} Pod Security (restricted) finding(s):\n  - ${found.join('\n  - ')}`);
  }
}

export interface SidecarPodSecurityOptions {
  /**
   * Name of the container the sidecar added.
   *
   * @default 'nginx'
   */
  readonly sidecar?: string;
  /**
   * Names of volumes the sidecar added.
   *
   * @default ['nginx-config', 'nginx-overrides', 'nginx-state']
   */
  readonly sidecarVolumes?: string[];
}

/**
 * Compares the same chart synthesized without (`before`) and with (`after`) a sidecar, and
 * throws unless, for every pod:
 *
 * - the sidecar container itself meets the restricted profile (with the pod's settings applied
 *   where it sets none) and runs with a read-only root filesystem;
 * - every pod-level field other than `containers` and `volumes`, every container of the user's
 *   and every volume of the user's is exactly as it was;
 * - the volumes added are the sidecar's own, of types restricted allows;
 * - the findings after are exactly the findings before: nothing new, nothing hidden.
 */
export function assertSidecarKeepsPodSecurity(
  before: any[],
  after: any[],
  options: SidecarPodSecurityOptions = {},
): void {
  const sidecar = options.sidecar ?? 'nginx';
  const sidecarVolumes = options.sidecarVolumes ?? ['nginx-config', 'nginx-overrides', 'nginx-state'];
  const problems: string[] = [];
  const beforePods = new Map(podTemplatesOf(before).map((pod) => [pod.workload, pod.spec]));
  const afterPods = podTemplatesOf(after);
  if (afterPods.length === 0) {
    problems.push('no pod or pod template in the manifests: nothing was checked');
  }

  for (const { workload, spec } of afterPods) {
    const old = beforePods.get(workload);
    if (!old) {
      problems.push(`${workload}: no such workload before the sidecar was added`);
      continue;
    }
    const containers: any[] = spec.containers ?? [];
    const added = containers.filter((c) => c?.name === sidecar);
    if (added.length !== 1) {
      problems.push(`${workload}: expected one '${sidecar}' container, found ${added.length}`);
      continue;
    }

    // the sidecar alone, under the user's pod-level settings
    const alone = { ...spec, containers: added, initContainers: [], ephemeralContainers: [], volumes: [] };
    const own = podSpecViolations(alone, workload, { readOnlyRootFilesystem: [sidecar] })
      .filter((finding) => !finding.startsWith(`${workload} pod:`));
    problems.push(...own.map((finding) => `sidecar: ${finding}`));

    // nothing of the user's changed
    const strip = (s: any) => {
      const { containers: _c, volumes: _v, ...rest } = s;
      return rest;
    };
    if (!deepEqual(strip(old), strip(spec))) {
      problems.push(`${workload}: pod-level fields changed: ${diffKeys(strip(old), strip(spec)).join(', ')}`);
    }
    const userAfter = containers.filter((c) => c?.name !== sidecar);
    if (!deepEqual(old.containers ?? [], userAfter)) {
      problems.push(`${workload}: the user's containers changed`);
    }
    const volumesAfter: any[] = spec.volumes ?? [];
    for (const volume of old.volumes ?? []) {
      if (!volumesAfter.some((v) => deepEqual(v, volume))) {
        problems.push(`${workload}: the user's volume '${volume?.name}' changed or disappeared`);
      }
    }
    for (const volume of volumesAfter.filter((v) => !(old.volumes ?? []).some((o: any) => deepEqual(o, v)))) {
      if (!sidecarVolumes.includes(volume?.name)) {
        problems.push(`${workload}: unexpected new volume '${volume?.name}'`);
      }
      const types = Object.keys(volume ?? {}).filter((key) => key !== 'name');
      if (types.some((type) => !ALLOWED_VOLUME_TYPES.has(type))) {
        problems.push(`${workload}: new volume '${volume?.name}' has type ${types.join(', ')}`);
      }
    }

    const was = new Set(podSpecViolations(old, workload, { readOnlyRootFilesystem: [] }));
    const now = new Set(podSpecViolations(spec, workload, { readOnlyRootFilesystem: [] }));
    for (const finding of now) {
      if (!was.has(finding)) {
        problems.push(`new finding: ${finding}`);
      }
    }
    for (const finding of was) {
      if (!now.has(finding)) {
        problems.push(`finding vanished (the user's pod was changed): ${finding}`);
      }
    }
  }
  if (problems.length > 0) {
    throw new Error(`the sidecar changed the pod's security:\n  - ${problems.join('\n  - ')}`);
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(value: any): any {
  if (Array.isArray(value)) {
    return value.map(canonical);
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  const sorted: any = {};
  for (const key of Object.keys(value).sort()) {
    sorted[key] = canonical(value[key]);
  }
  return sorted;
}

function diffKeys(a: any, b: any): string[] {
  const keys = new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]);
  return [...keys].filter((key) => !deepEqual(a?.[key], b?.[key]));
}
