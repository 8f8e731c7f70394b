// Spawning a short-lived helper (conmon, which double-forks at once) without forking the whole Node process: conex's
// procspawn addon (native/procspawn.c) uses posix_spawn and a pidfd. Node's child_process forks, which copies the page
// tables of the service (~100 MiB resident): 6.5 ms of CPU per exec under load, 16 % of the service's CPU at 128
// concurrent execs. Where the addon cannot load or the kernel has no pidfd_open, spawnLight returns undefined and the
// caller uses child_process.
import { closeSync } from 'node:fs'
import { Socket } from 'node:net'
import { loadAddon } from './addon'

interface Native {
  pipe: (size?: number) => [number, number]
  spawn: (path: string, argv: string[], env: string[], cwd: string, fds: number[]) => Promise<{ pid: number, pidfd: number }>
  watch: (pid: number, pidfd: number, cb: (status: number) => void) => void
  pidfdSupported: () => boolean
  pending: (fd: number) => number
  read: (fd: number, cb: (chunk: Buffer | null) => void) => { close: () => void }
}

let native: Native | null | undefined
function addon (): Native | null {
  if (native !== undefined) return native
  try {
    const n = loadAddon<Native>('procspawn')
    native = n.pidfdSupported() ? n : null
  } catch { native = null }
  return native
}

/**
 * What the child gets at each fd from 0 up: 'ignore' (/dev/null), an fd of ours passed as is, or a new pipe whose end
 * is ours: a Socket ('read': the child writes, 'write': we write), or the bare fd ('read-fd', 'write-fd': for
 * readFd and writeSync, without Node's net and stream modules).
 */
export type LightStdio = 'ignore' | 'read' | 'write' | 'read-fd' | 'write-fd' | number

export interface LightChild {
  pid: number
  /** Our end of each 'read' and 'write' pipe, by child fd; others undefined. */
  pipes: Array<Socket | undefined>
  /** The fd numbers of our pipe ends, by child fd (pendingBytes; the 'read-fd' and 'write-fd' ends themselves). */
  fds: Array<number | undefined>
  /** The exit status: the code, 128 + signal, or -1 when unknown. */
  exited: Promise<number>
}

/** Whether spawnLight can spawn here (it returns undefined where it cannot). */
export function lightSpawnAvailable (): boolean { return addon() !== null }

/** Bytes waiting unread in a pipe (FIONREAD); 0 when the addon is missing or the fd is closed. */
export function pendingBytes (fd: number): number {
  const n = addon()
  if (n === null) return 0
  try { return n.pending(fd) } catch { return 0 }
}

// Resolves with the child, or undefined when the caller should use child_process; the spawn runs in libuv's thread
// pool (posix_spawn waits for the child's exec, which the event loop must not).
export async function spawnLight (o: { file: string, args: string[], env: Record<string, string>, cwd: string, stdio: LightStdio[], pipeSize?: number }): Promise<LightChild | undefined> {
  if (!o.file.startsWith('/')) return undefined
  const n = addon()
  if (n === null) return undefined
  const ours: Array<number | undefined> = []
  const theirs: number[] = []
  const fds: number[] = []
  try {
    for (const [i, s] of o.stdio.entries()) {
      if (s === 'ignore') { fds.push(-1); ours.push(undefined); continue }
      if (typeof s === 'number') { fds.push(s); ours.push(undefined); continue }
      const [r, w] = n.pipe(i <= 2 ? o.pipeSize ?? 0 : 0)
      const [mine, child] = s === 'read' || s === 'read-fd' ? [r, w] : [w, r]
      ours.push(mine)
      theirs.push(child)
      fds.push(child)
    }
    const env = Object.entries(o.env).map(([k, v]) => `${k}=${v}`)
    // The child ends stay open until the spawn is done (closed in finally, after the await).
    const { pid, pidfd } = await n.spawn(o.file, [o.file, ...o.args], env, o.cwd, fds)
    const exited = new Promise<number>((resolve) => { n.watch(pid, pidfd, resolve) })
    const socket = (s: LightStdio): boolean => s === 'read' || s === 'write'
    const pipes = ours.map((fd, i) => fd === undefined || !socket(o.stdio[i]) ? undefined : new Socket({ fd, readable: o.stdio[i] === 'read', writable: o.stdio[i] === 'write' }))
    return { pid, pipes, fds: ours, exited }
  } catch (err) {
    for (const fd of ours) if (fd !== undefined) closeSync(fd)
    throw err
  } finally {
    for (const fd of theirs) closeSync(fd)
  }
}

/**
 * Reads one of our pipe ends ('read-fd') on the event loop: onChunk(Buffer) per read, then onChunk(null) once at EOF
 * or an error. Takes the fd (closed at the end, or by close(), after which nothing is called back).
 */
export function readFd (fd: number, onChunk: (chunk: Buffer | null) => void): { close: () => void } {
  const n = addon()
  if (n === null) throw new Error('readFd needs conex\'s procspawn addon')
  return n.read(fd, onChunk)
}
