import * as fs from 'fs';

/** Memory of a process and all its descendants, in KiB. */
export interface TreeMemory {
  /** Sum of VmRSS: what the brief asks for; counts shared pages once per process. */
  readonly rssKib: number;
  /** Sum of Pss: shared pages split between their users, closer to what a cgroup charges. */
  readonly pssKib: number;
  readonly processes: number;
}

/** RSS and PSS of `pid` and its descendants, read from /proc. */
export function treeMemory(pid: number): TreeMemory {
  const pids = [pid, ...descendants(pid)];
  let rssKib = 0;
  let pssKib = 0;
  let processes = 0;
  for (const p of pids) {
    try {
      rssKib += Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf-8'))?.[1] ?? 0);
      pssKib += Number(/^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${p}/smaps_rollup`, 'utf-8'))?.[1] ?? 0);
      processes++;
    } catch {
      // exited meanwhile
    }
  }
  return { rssKib, pssKib, processes };
}

/** Samples {@link treeMemory} every `intervalMs` until stopped; resolves with the largest. */
export function sampleMemory(pid: number, intervalMs = 50): { stop(): TreeMemory } {
  let max: TreeMemory = treeMemory(pid);
  const timer = setInterval(() => {
    const now = treeMemory(pid);
    max = {
      rssKib: Math.max(max.rssKib, now.rssKib),
      pssKib: Math.max(max.pssKib, now.pssKib),
      processes: Math.max(max.processes, now.processes),
    };
  }, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      return max;
    },
  };
}

/** The pids of every descendant of `pid`, children first. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf-8');
      // the command name may hold spaces and parentheses: the ppid follows the last ')'
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...children.get(ppid) ?? [], Number(entry)]);
    } catch {
      // exited meanwhile
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}
