// `top` for a container, in the columns Docker's gives (`ps -ef` run on the host): UID (the host's name for it),
// PID, PPID, C (lifetime CPU %), STIME, TTY, TIME (CPU time), CMD, read from /proc for the pids the runtime lists.
import { readFileSync } from 'node:fs'

export const TOP_TITLES = ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']

/** What one process's row is made of: /proc/<pid>/stat, the uid from status, the cmdline's words. */
export interface ProcSample { stat: string, uid: number, cmdline: string[] }

/** What every row needs from the host: clock ticks per second, boot time (s), now (ms), uid -> name. */
export interface HostClock { hz: number, bootSec: number, nowMs: number, users: Map<number, string> }

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const pad2 = (n: number): string => String(n).padStart(2, '0')

// ps's STIME: HH:MM when started today, MonDD this year, else the year.
export function startTime (startMs: number, nowMs: number): string {
  const s = new Date(startMs)
  const now = new Date(nowMs)
  if (s.toDateString() === now.toDateString()) return `${pad2(s.getHours())}:${pad2(s.getMinutes())}`
  if (s.getFullYear() === now.getFullYear()) return `${MONTHS[s.getMonth()]}${pad2(s.getDate())}`
  return String(s.getFullYear())
}

// ps's TIME: [DD-]HH:MM:SS of CPU time.
export function cpuTime (seconds: number): string {
  const s = Math.floor(seconds)
  const days = Math.floor(s / 86400)
  const hms = `${pad2(Math.floor((s % 86400) / 3600))}:${pad2(Math.floor((s % 3600) / 60))}:${pad2(s % 60)}`
  return days > 0 ? `${days}-${hms}` : hms
}

// The terminal from stat's tty_nr (major in bits 8-19 with the minor's high bits above): pts/N, ttyN, or ?.
export function ttyName (ttyNr: number): string {
  if (ttyNr === 0) return '?'
  const major = (ttyNr >> 8) & 0xfff
  const minor = (ttyNr & 0xff) | ((ttyNr >> 12) & 0xfff00)
  if (major >= 136 && major <= 143) return `pts/${(major - 136) * 256 + minor}`
  if (major === 4 && minor < 64) return `tty${minor}`
  if (major === 4) return `ttyS${minor - 64}`
  return '?'
}

/** One `ps -ef` row of a process. */
export function topRow (pid: number, p: ProcSample, h: HostClock): string[] {
  // The fields after the command's closing parenthesis: state ppid pgrp session tty_nr ... utime(11) stime(12) ...
  // starttime(19), counted from state.
  const f = p.stat.slice(p.stat.lastIndexOf(')') + 2).split(' ')
  const cpuSec = (Number(f[11]) + Number(f[12])) / h.hz
  const startSec = h.bootSec + Number(f[19]) / h.hz
  const elapsed = h.nowMs / 1000 - startSec
  const c = elapsed > 0 ? Math.floor((cpuSec / elapsed) * 100) : 0
  const cmd = p.cmdline.length > 0 ? p.cmdline.join(' ') : `[${p.stat.slice(p.stat.indexOf('(') + 1, p.stat.lastIndexOf(')'))}]`
  return [h.users.get(p.uid) ?? String(p.uid), String(pid), f[1], String(c), startTime(startSec * 1000, h.nowMs), ttyName(Number(f[4])), cpuTime(cpuSec), cmd]
}

/** The host's side of the rows: boot time from /proc/stat, user names from /etc/passwd (ps shows the host's names). */
export function hostClock (): HostClock {
  const bootSec = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? 0)
  const users = new Map<number, string>()
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , uid] = line.split(':')
      if (name !== undefined && name !== '' && uid !== undefined && /^\d+$/.test(uid) && !users.has(Number(uid))) users.set(Number(uid), name)
    }
  } catch { /* no passwd: numbers */ }
  // Linux's USER_HZ is 100 on every architecture conex runs on (sysconf(_SC_CLK_TCK)).
  return { hz: 100, bootSec, nowMs: Date.now(), users }
}

/** Reads one process; undefined when it exited meanwhile. */
export function sampleProcess (pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((x) => x !== '')
    const uid = Number(/Uid:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
    return { stat, uid, cmdline }
  } catch { return undefined }
}
