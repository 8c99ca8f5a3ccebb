/**
 * CPU time of a process and its live descendants (a --workers primary's workers) from /proc (Linux): user + system
 * seconds, or NaN where /proc is not there.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function ownTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** Children of every thread of pid (/proc/PID/task/TID/children); empty where the kernel does not list them. */
function children(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const list = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (list !== '') out.push(...list.split(' ').map(Number));
    }
  } catch {
    // gone, or no children file: count the process alone
  }
  return out;
}

/** Ticks of pid and everything below it; a process that exits between two readings just drops out of the sum. */
function treeTicks(pid: number): number {
  let ticks = ownTicks(pid);
  for (const child of children(pid)) {
    try { ticks += treeTicks(child); } catch { /* exited meanwhile */ }
  }
  return ticks;
}

export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    return treeTicks(pid) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}
