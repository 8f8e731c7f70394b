// Starts conmon with its three control pipes (sync, start, attach) at fds N+3..N+5 after N preserved fds and moves it
// into its cgroup; the caller releases it with the first start byte (start()). conmon then double-forks: the process
// we spawned exits at once, and the monitor lives on, holding its ends of the pipes. Until that byte conmon waits
// (and can still be killed as our child: kill()).
//
// The move can instead follow the release (`joinAfterStart`, exec sessions): the first write to a cgroup.procs on
// cgroup v1 waits for a kernel RCU grace period (~16 ms here), and `runc exec` waits for one too when it places the
// process in the container's cgroup. Done one after the other they cost two; overlapped, about one. The monitor's pid
// comes from conmon's pid file (written before the spawned process exits). Until the move, the monitor and the
// runtime it forks sit in our own cgroup; the session's process never does (runc moves it into the container's).
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, readFileSync, writeSync } from 'node:fs'
import type { Socket } from 'node:net'
import { PipeReader } from './pipe-message'
import { readFd, spawnLight, type LightStdio } from '../../util/procspawn'
import { joinCgroup, type CgroupMode } from '../cgroups'
import { EngineError } from '../../errors'
import { trace } from '../../util/trace'

export interface SpawnConmonOptions {
  conmonPath: string
  args: string[]
  /** Working directory (the bundle). */
  cwd: string
  /** Caller fds passed as 3..3+N-1 (exec --preserve-fds). */
  preserveFds?: number
  /** cgroup path to place conmon in before releasing it; undefined skips the move. */
  cgroup?: { mode: CgroupMode, path: string }
  /** Move conmon's monitor (its pid read from this conmon pid file) after the first start byte, not before. */
  joinAfterStart?: string
  /** Extra environment for conmon (e.g. XDG_RUNTIME_DIR). */
  env?: Record<string, string>
  /**
   * conmon's own stdin, stdout and stderr become pipes to us (true), /dev/null (false) or one of our own fds, passed
   * as it is (a number: the CLI's pipes and files), for `-l passthrough`, which hands them to the process. Needs the
   * addon's spawn (lightSpawnAvailable): child_process destroys a child's stdin when the child exits, and conmon's
   * first process exits at once.
   */
  stdio?: PassthroughStdio
}

/** A passthrough session's stdin, stdout and stderr: a pipe to us (true), /dev/null (false) or this fd of ours. */
export interface PassthroughStdio { stdin: boolean | number, stdout: boolean | number, stderr: boolean | number }

/** Our ends of a passthrough session's stdio pipes, with their fd numbers (pendingBytes, splice). */
export interface ProcessPipes {
  stdin?: Socket
  stdout?: Socket
  stderr?: Socket
  stdinFd?: number
  stdoutFd?: number
  stderrFd?: number
}

export interface ConmonProcess {
  /** Messages conmon writes on the sync pipe: the pid, then the exit code. */
  sync: PipeReader
  /** `{"data": 0}` once the attach socket and FIFOs exist (exec only). */
  attach: PipeReader
  /** Sends a start byte (the first one releases conmon once it is in its cgroup; spawnConmon does not send it). */
  start: () => Promise<void>
  /** Kills conmon while it still waits for its first start byte (a prepared exec that was never started). */
  kill: () => void
  /** Settles once conmon is in its cgroup (or could not be moved: the monitor was gone, a controller refused). */
  joined: () => Promise<void>
  /** conmon's own error (its exit status and stderr before daemonizing), to explain an EOF on a pipe. */
  stderr: () => string
  /** Closes our ends of the pipes. */
  close: () => void
  /** With `stdio`: the pipes that are the process's stdin, stdout and stderr. */
  pipes?: ProcessPipes
}

// A passthrough session's stdio pipes hold 256 KiB instead of 64: a process writing 1 MiB blocks and wakes a quarter
// as often (1 GiB through the API: 646-687 → 717-769 MB/s, alternating runs). Pages are taken only as the pipe
// fills, so the cost is kernel memory only while a client reads slower than the process writes.
const PASSTHROUGH_PIPE_SIZE = 256 * 1024

interface Spawned {
  pid: number | undefined
  /** conmon's stderr, until it daemonizes; undefined when it is the process's (passthrough). */
  stderr?: Collected
  pipes?: ProcessPipes
  /** Our ends of the sync, start and attach pipes. */
  control: ControlPipes
  /** Exit status of the spawned process (conmon's first process, which exits once it has forked the monitor). */
  exited: Promise<number>
}

/** conmon's control pipes, our ends: the sync and attach pipes read as messages, the start pipe written. */
interface ControlPipes {
  sync: PipeReader
  attach: PipeReader
  /** Writes one start byte. */
  start: () => Promise<void>
  /** Closes our ends; a reader's next() then sees EOF, a later start() fails. */
  close: () => void
}

/** What a pipe brought so far (conmon's stderr, up to 64 KiB), as text. */
interface Collected { text: () => string, close: () => void }

const START_BYTE = Buffer.from([0])
const STDERR_KEPT = 65536

// The addon's spawn: bare fds, read on the event loop by the addon (no net or stream module in the CLI).
function fdControl (syncFd: number, startFd: number, attachFd: number): ControlPipes {
  const sync = new PipeReader()
  const attach = new PipeReader()
  const feed = (r: PipeReader) => (chunk: Buffer | null): void => { if (chunk === null) r.end(); else r.feed(chunk) }
  const readers = [readFd(syncFd, feed(sync)), readFd(attachFd, feed(attach))]
  let open = true
  return {
    sync,
    attach,
    // One byte into a pipe never blocks; EPIPE when conmon is gone.
    start: async () => {
      if (!open) throw new Error('conmon\'s start pipe is closed')
      writeSync(startFd, START_BYTE)
    },
    close: () => {
      if (!open) return
      open = false
      for (const r of readers) r.close()
      closeSync(startFd)
      sync.end()
      attach.end()
    },
  }
}

// child_process's pipes (where the addon cannot spawn): Sockets.
function socketControl (syncPipe: Socket, startPipe: Socket, attachPipe: Socket): ControlPipes {
  return {
    sync: new PipeReader(syncPipe),
    attach: new PipeReader(attachPipe),
    start: () => new Promise((resolve, reject) => {
      startPipe.write(START_BYTE, (err) => err == null ? resolve() : reject(err))
    }),
    close: () => { for (const p of [syncPipe, startPipe, attachPipe]) p.destroy() },
  }
}

function collectFd (fd: number): Collected {
  let text = ''
  const r = readFd(fd, (chunk) => { if (chunk !== null && text.length < STDERR_KEPT) text += chunk.toString('utf8') })
  return { text: () => text, close: () => r.close() }
}

function collectStream (s: Socket): Collected {
  let text = ''
  s.setEncoding('utf8')
  s.on('data', (d: string) => { if (text.length < STDERR_KEPT) text += d })
  return { text: () => text, close: () => s.destroy() }
}

const as = (s: boolean | number, pipe: 'read' | 'write'): LightStdio => typeof s === 'number' ? s : s ? pipe : 'ignore'

// conmon's fds: stdin and stdout /dev/null, stderr a pipe to us (with `io`, passthrough: the process's three pipes or
// /dev/null), the caller's fds 3..3+n-1 as they are, then the sync, start and attach pipes. posix_spawn through conex's addon where it can (no fork of this whole process; see
// src/util/procspawn.ts), child_process otherwise. Either way conmon gets a session of its own (a ^C to the CLI
// never reaches it: podman's Setpgid) and default signal dispositions.
async function spawnProcess (file: string, args: string[], cwd: string, env: Record<string, string>, n: number, io?: SpawnConmonOptions['stdio']): Promise<Spawned> {
  const preserved: number[] = []
  for (let fd = 3; fd < 3 + n; fd++) preserved.push(fd)
  const std: LightStdio[] = io === undefined
    ? ['ignore', 'ignore', 'read-fd']
    : [as(io.stdin, 'write'), as(io.stdout, 'read'), as(io.stderr, 'read')]
  const light = await spawnLight({ file, args, env, cwd, stdio: [...std, ...preserved, 'read-fd', 'write-fd', 'read-fd'], ...(io !== undefined ? { pipeSize: PASSTHROUGH_PIPE_SIZE } : {}) })
  if (light !== undefined) {
    const f = light.fds as number[]
    const control = fdControl(f[n + 3], f[n + 4], f[n + 5])
    if (io !== undefined) {
      const p = light.pipes
      return { pid: light.pid, pipes: { stdin: p[0], stdout: p[1], stderr: p[2], stdinFd: f[0], stdoutFd: f[1], stderrFd: f[2] }, control, exited: light.exited }
    }
    return { pid: light.pid, stderr: collectFd(f[2]), control, exited: light.exited }
  }
  if (io !== undefined) throw new Error('passthrough stdio needs conex\'s procspawn addon')
  const stdio: Array<'ignore' | 'pipe' | number> = ['ignore', 'ignore', 'pipe', ...preserved, 'pipe', 'pipe', 'pipe']
  const child: ChildProcess = spawn(file, args, { cwd, stdio, env, detached: true })
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code, sig) => resolve(code ?? 128 + (sig === null ? 0 : 1)))
  })
  return { pid: child.pid, stderr: collectStream(child.stderr as Socket), control: socketControl(child.stdio[n + 3] as Socket, child.stdio[n + 4] as Socket, child.stdio[n + 5] as Socket), exited }
}

// Spawns conmon and places it in its cgroup; resolves with conmon waiting for its first start byte.
export async function spawnConmon (o: SpawnConmonOptions): Promise<ConmonProcess> {
  const n = o.preserveFds ?? 0
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    _OCI_SYNCPIPE: String(n + 3),
    _OCI_STARTPIPE: String(n + 4),
    _OCI_ATTACHPIPE: String(n + 5),
    ...o.env,
  }
  let child: Spawned
  try {
    child = await spawnProcess(o.conmonPath, o.args, o.cwd, env, n, o.stdio)
  } catch (err) {
    throw new EngineError('RUNTIME_ERROR', `spawning conmon: ${(err as Error).message}`, { cause: err })
  }
  const { sync, attach } = child.control
  const exited = child.exited
  const write = child.control.start
  let joining: Promise<void> | undefined
  const start = async (): Promise<void> => {
    await write()
    if (joining === undefined && o.cgroup !== undefined && o.joinAfterStart !== undefined) {
      const { mode, path } = o.cgroup
      const pidFile = o.joinAfterStart
      joining = exited
        .then(() => Number(readFileSync(pidFile, 'utf8').trim()))
        .then(async (pid) => { if (Number.isInteger(pid) && pid > 0) await joinCgroup(mode, path, pid) })
        .then(() => trace('conmon: monitor joined its cgroup'), () => undefined)
    }
  }
  const close = child.control.close
  const closeStdio = (): void => { for (const s of [child.pipes?.stdin, child.pipes?.stdout, child.pipes?.stderr]) s?.destroy() }
  if (child.pid === undefined) {
    close()
    closeStdio()
    child.stderr?.close()
    const err = await exited.catch((e: Error) => e)
    throw new EngineError('RUNTIME_ERROR', `spawning conmon: ${err instanceof Error ? err.message : 'no pid'}`)
  }
  const pid = child.pid
  trace('conmon: spawned')
  if (o.cgroup !== undefined && o.joinAfterStart === undefined) {
    await joinCgroup(o.cgroup.mode, o.cgroup.path, pid)
    trace('conmon: cgroup joined')
  }
  // The spawned process exits as soon as it has forked the monitor. Its failure shows up as EOF on the pipes, which
  // the caller reads next, so we do not wait for it here; its exit status and stderr explain that EOF.
  let exitCode: number | undefined
  void exited.then((code) => { exitCode = code; child.stderr?.close() }, () => { exitCode = -1 })
  // With passthrough, conmon's own stderr is the process's stderr pipe: on a failed start, what it holds (read by the
  // socket since its creation, nobody having consumed it) is conmon's or the runtime's error.
  let held = ''
  const ownStderr = (): string => {
    if (child.stderr !== undefined) return child.stderr.text()
    const chunk = child.pipes?.stderr?.read() as Buffer | null | undefined
    if (chunk != null) held += chunk.toString('utf8', 0, Math.min(chunk.length, STDERR_KEPT))
    return held
  }
  const describe = (): string => exitCode !== undefined && exitCode !== 0
    ? `conmon failed (exit ${exitCode}): ${ownStderr().trim().split('\n').pop() ?? ''}`
    : ownStderr().trim()
  const kill = (): void => {
    if (exitCode === undefined) { try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ } }
    close()
    closeStdio()
  }
  const joined = (): Promise<void> => joining ?? Promise.resolve()
  return { sync, attach, start, joined, stderr: describe, close, kill, ...(child.pipes !== undefined ? { pipes: child.pipes } : {}) }
}
