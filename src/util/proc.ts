// Process identity through /proc: a pid plus its start time (field 22 of /proc/PID/stat) names one process for its
// whole life, so a pid reused by another process is never signalled (the guard pidfds give, without pidfds).
import { readFileSync } from 'node:fs'

// The start time of `pid` in clock ticks since boot, or undefined when no such process exists.
export function processStartTime (pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  let stat: string
  try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8') } catch { return undefined }
  // The command name (field 2) may contain spaces and parentheses: parse after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // rest[0] is field 3 (state); field 22 is rest[19]. A zombie has exited already.
  if (rest[0] === 'Z' || rest[0] === 'X') return undefined
  return rest[19]
}

// This process's own start time: it does not change while we run, so /proc is read once (every exec start's claim
// names it).
let ownStartTime: string | undefined
export function selfStartTime (): string {
  ownStartTime ??= processStartTime(process.pid) ?? ''
  return ownStartTime
}

// True when `pid` is still the process that had `startTime`.
export function isSameProcess (pid: number, startTime: string): boolean {
  const now = processStartTime(pid)
  return now !== undefined && (startTime === '' || now === startTime)
}

// Sends `signal` only if `pid` is still the same process; returns false when it is gone.
export function signalProcess (pid: number, startTime: string, signal: NodeJS.Signals | number): boolean {
  if (!isSameProcess(pid, startTime)) return false
  try { process.kill(pid, signal); return true } catch { return false }
}

// Polls until the process is gone or `ms` pass; resolves true when it is gone.
export async function waitProcessGone (pid: number, startTime: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (isSameProcess(pid, startTime)) {
    if (Date.now() >= deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return true
}
