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
import { readFile } from 'node:fs/promises'
import type { Socket } from 'node:net'
import { PipeReader } from './pipe-message'
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
}

// Spawns conmon and places it in its cgroup; resolves with conmon waiting for its first start byte.
export async function spawnConmon (o: SpawnConmonOptions): Promise<ConmonProcess> {
  const n = o.preserveFds ?? 0
  const stdio: Array<'ignore' | 'pipe' | number> = ['ignore', 'ignore', 'pipe']
  for (let fd = 3; fd < 3 + n; fd++) stdio.push(fd)
  stdio.push('pipe', 'pipe', 'pipe')
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    _OCI_SYNCPIPE: String(n + 3),
    _OCI_STARTPIPE: String(n + 4),
    _OCI_ATTACHPIPE: String(n + 5),
    ...o.env,
  }
  let child: ChildProcess
  try {
    // detached: a session and process group of its own, so a ^C to the CLI never reaches conmon (podman's Setpgid).
    child = spawn(o.conmonPath, o.args, { cwd: o.cwd, stdio, env, detached: true })
  } catch (err) {
    throw new EngineError('RUNTIME_ERROR', `spawning conmon: ${(err as Error).message}`, { cause: err })
  }
  let stderr = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (d: string) => { if (stderr.length < 65536) stderr += d })
  const syncPipe = child.stdio[n + 3] as Socket
  const startPipe = child.stdio[n + 4] as Socket
  const attachPipe = child.stdio[n + 5] as Socket
  const sync = new PipeReader(syncPipe)
  const attach = new PipeReader(attachPipe)
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code, sig) => resolve(code ?? 128 + (sig === null ? 0 : 1)))
  })
  const write = (): Promise<void> => new Promise((resolve, reject) => {
    startPipe.write(Buffer.from([0]), (err) => err == null ? resolve() : reject(err))
  })
  let joining: Promise<void> | undefined
  const start = async (): Promise<void> => {
    await write()
    if (joining === undefined && o.cgroup !== undefined && o.joinAfterStart !== undefined) {
      const { mode, path } = o.cgroup
      const pidFile = o.joinAfterStart
      joining = exited
        .then(async () => Number((await readFile(pidFile, 'utf8')).trim()))
        .then(async (pid) => { if (Number.isInteger(pid) && pid > 0) await joinCgroup(mode, path, pid) })
        .then(() => trace('conmon: monitor joined its cgroup'), () => undefined)
    }
  }
  const close = (): void => { for (const s of [syncPipe, startPipe, attachPipe]) s.destroy() }
  if (child.pid === undefined) {
    close()
    const err = await exited.catch((e: Error) => e)
    throw new EngineError('RUNTIME_ERROR', `spawning conmon: ${err instanceof Error ? err.message : 'no pid'}`)
  }
  trace('conmon: spawned')
  if (o.cgroup !== undefined && o.joinAfterStart === undefined) {
    await joinCgroup(o.cgroup.mode, o.cgroup.path, child.pid)
    trace('conmon: cgroup joined')
  }
  // The spawned process exits as soon as it has forked the monitor. Its failure shows up as EOF on the pipes, which
  // the caller reads next, so we do not wait for it here; its exit status and stderr explain that EOF.
  let exitCode: number | undefined
  void exited.then((code) => { exitCode = code; child.stderr?.destroy() }, () => { exitCode = -1 })
  const describe = (): string => exitCode !== undefined && exitCode !== 0
    ? `conmon failed (exit ${exitCode}): ${stderr.trim().split('\n').pop() ?? ''}`
    : stderr.trim()
  const kill = (): void => { if (exitCode === undefined) child.kill('SIGKILL'); close() }
  const joined = (): Promise<void> => joining ?? Promise.resolve()
  return { sync, attach, start, joined, stderr: describe, close, kill }
}
