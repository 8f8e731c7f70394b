// Starts conmon with its three control pipes (sync, start, attach) at fds N+3..N+5 after N preserved fds and moves it
// into its cgroup; the caller releases it with the first start byte (start()). conmon then double-forks: the process
// we spawned exits at once, and the monitor lives on, holding its ends of the pipes. Until that byte conmon waits
// (and can still be killed as our child: kill()).
import { spawn, type ChildProcess } from 'node:child_process'
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
  const start = (): Promise<void> => new Promise((resolve, reject) => {
    startPipe.write(Buffer.from([0]), (err) => err == null ? resolve() : reject(err))
  })
  const close = (): void => { for (const s of [syncPipe, startPipe, attachPipe]) s.destroy() }
  if (child.pid === undefined) {
    close()
    const err = await exited.catch((e: Error) => e)
    throw new EngineError('RUNTIME_ERROR', `spawning conmon: ${err instanceof Error ? err.message : 'no pid'}`)
  }
  trace('conmon: spawned')
  if (o.cgroup !== undefined) await joinCgroup(o.cgroup.mode, o.cgroup.path, child.pid)
  trace('conmon: cgroup joined')
  // The spawned process exits as soon as it has forked the monitor. Its failure shows up as EOF on the pipes, which
  // the caller reads next, so we do not wait for it here; its exit status and stderr explain that EOF.
  let exitCode: number | undefined
  void exited.then((code) => { exitCode = code; child.stderr?.destroy() }, () => { exitCode = -1 })
  const describe = (): string => exitCode !== undefined && exitCode !== 0
    ? `conmon failed (exit ${exitCode}): ${stderr.trim().split('\n').pop() ?? ''}`
    : stderr.trim()
  const kill = (): void => { if (exitCode === undefined) child.kill('SIGKILL'); close() }
  return { sync, attach, start, stderr: describe, close, kill }
}
