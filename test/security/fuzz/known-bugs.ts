import { DurationSpec, SidecarCase } from './arbitraries';

/**
 * Bugs the fuzzing found and reported, each pinned by a failing test in regressions.test.ts.
 * Cases that hit one are skipped so the fuzzing keeps looking for new ones; set
 * FUZZ_INCLUDE_KNOWN=1 to run them anyway. Remove an entry once its regression test passes.
 */
export interface KnownBug {
  /** The regression test's name. */
  readonly test: string;
  readonly matches: (c: SidecarCase) => boolean;
}

/** Every duration a sidecar case passes anywhere. */
export function durationsOf(c: SidecarCase): DurationSpec[] {
  return [
    c.timeouts?.connect, c.timeouts?.read, c.timeouts?.send, c.cache?.inactive,
    ...(c.routes ?? []).flatMap((r) => [r.validFor, r.browserCacheFor]),
    ...(c.overrides ?? []).map((o) => o.browserCacheFor),
  ].filter((d): d is DurationSpec => d !== undefined);
}

// every bug found so far is fixed and pinned by a test in regressions.test.ts
export const KNOWN_SIDECAR_BUGS: KnownBug[] = [];

export function knownBugOf(c: SidecarCase, bugs: KnownBug[] = KNOWN_SIDECAR_BUGS): KnownBug | undefined {
  return process.env.FUZZ_INCLUDE_KNOWN ? undefined : bugs.find((bug) => bug.matches(c));
}
