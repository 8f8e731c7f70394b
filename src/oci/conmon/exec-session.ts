// One exec session's conversation with conmon, in protocol order:
//   spawn conmon → process.json → start byte #1 (then, overlapped: conmon.pid → the monitor's cgroup move) →
//   attach pipe {"data":0} → initial resize on ctl → connect the attach socket → start byte #2 →
//   sync pipe {"data":pid} (or an error) → cgroup move done → stream → attach EOF →
//   exit file (written by conmon after it closed its clients) → bundle removal.
// A passthrough session (conmon -l passthrough: the service without a tty) skips the attach steps: spawn conmon with
// the process's stdio pipes → process.json → start byte #1 → sync pipe {"data":pid} → stream the pipes (exec-pipes.ts)
// → sync pipe {"data":exit code} (after the exit file) → bundle removal.
// It never touches the store: the engine records what it returns.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { removeTreeAsync, removeTreeSync } from '../../util/fsbatch'
import { generateId } from '../../util/ids'
import { join } from 'node:path'
import type { AttachSocket } from './attach-socket'
import { spawnConmon, type ConmonProcess, type ProcessPipes } from './spawn'
import type { PipeMessage } from './pipe-message'
import { execConmonArgs } from './conmon-args'
import { connectAttachSocket } from './attach-socket'
import { writeResize } from './ctl-fifo'
import { readOciLog, runtimeError } from './runtime-error'
import { waitExitFile, readExitFile } from './exit-file'
import type { OciRuntime } from '../runtime'
import { EngineError } from '../../errors'
import { trace } from '../../util/trace'

export interface ConmonExecOptions {
  runtime: OciRuntime
  containerId: string
  containerName: string
  sessionId: string
  /** The session's bundle directory (created here, removed by cleanupExecBundle). */
  bundle: string
  process: Record<string, unknown>
  tty: boolean
  /** conmon keeps a stdin pipe for the process (-i). */
  stdin: boolean
  /** Connect to the attach socket before the process starts (not with passthrough, which has none). */
  attach: boolean
  /**
   * conmon's `-l passthrough`: the process's stdin, stdout and stderr are pipes to us (stdin when `stdin`, the outputs
   * as asked; /dev/null otherwise) or the caller's own fds (numbers: the CLI's pipes and files, stdin among them only
   * with `stdin`), and conmon copies nothing and makes no attach socket. No tty; not re-attachable.
   */
  passthrough?: { stdin?: number, stdout: boolean | number, stderr: boolean | number }
  preserveFds: number
  timeout: number
  consoleSize?: [number, number]
  conmonCgroup?: string
  exitCommand?: string[]
}

export interface ConmonExec {
  pid: number
  bundle: string
  /** The attach connection, when `attach` was asked for. */
  socket?: AttachSocket
  /** A passthrough session's stdio pipes. */
  pipes?: ProcessPipes
  /** A passthrough session's end: conmon's last sync message (the exit code), or undefined if conmon died first. */
  exitMessage?: Promise<PipeMessage | undefined>
  conmon: ConmonProcess
}

export const execPaths = (bundle: string, containerId: string): { exitFile: string, ctl: string, ociLog: string, pidFile: string, conmonPidFile: string } => ({
  exitFile: join(bundle, 'exit', containerId),
  ctl: join(bundle, 'ctl'),
  ociLog: join(bundle, 'oci-log'),
  pidFile: join(bundle, 'exec_pid'),
  conmonPidFile: join(bundle, 'conmon.pid'),
})

// What decides how conmon is spawned for a session (its argv): the rest of ConmonExecOptions is used after that.
export type ConmonExecSpawnOptions = Pick<ConmonExecOptions, 'runtime' | 'containerId' | 'containerName' | 'sessionId' |
'bundle' | 'tty' | 'stdin' | 'preserveFds' | 'timeout' | 'conmonCgroup' | 'exitCommand' | 'passthrough'>

/** The file naming the process that holds a bundle's conmon as a spare (exec-prepare.ts). */
export const SPARE_OWNER_FILE = 'spare-owner'

/** A conmon spawned for a session, waiting for its first start byte, and the process spec file it was given. */
export interface SpawnedExec { conmon: ConmonProcess, spec: string }

// Phase 1: the session's bundle and a conmon waiting for its first start byte (its cgroup move follows that byte). The
// process spec is written only at the start, under a name made for this conmon: one released by accident (its parent
// died and closed the start pipe) cannot run anything, the runtime finds no spec, even if another conmon has since
// been started for the session in the same bundle. What a previous conmon left in the bundle goes first.
// `owner`, when given, is written into the bundle as SPARE_OWNER_FILE before conmon is spawned (a spare conmon's, whose
// bundle has no session yet: the sweep removes such a bundle as soon as the process it names is gone).
export async function spawnConmonExec (o: ConmonExecSpawnOptions, owner?: string): Promise<SpawnedExec> {
  const p = execPaths(o.bundle, o.containerId)
  if (existsSync(o.bundle)) cleanupExecBundle(o.bundle)
  mkdirSync(join(o.bundle, 'exit'), { recursive: true, mode: 0o700 })
  if (owner !== undefined) writeFileSync(join(o.bundle, SPARE_OWNER_FILE), owner)
  const spec = join(o.bundle, `exec-process.${generateId().slice(0, 16)}.json`)
  const rt = o.runtime.o
  const args = execConmonArgs({
    containerId: o.containerId, cuuid: o.sessionId, name: o.containerName, runtimePath: o.runtime.conmonRuntimePath,
    runtimeArgs: o.runtime.globalArgs, bundle: o.bundle, pidFile: p.pidFile, exitDir: join(o.bundle, 'exit'),
    logPath: o.passthrough !== undefined ? 'passthrough' : 'none', ociLog: p.ociLog, tty: o.tty, stdin: o.stdin, exitCommand: o.exitCommand,
    // With a tty, conmon closing stdin when the attached client goes away (a detach) only made the session deaf:
    // the pty stays open, so the shell never sees EOF, and a later `exec attach` could watch but not type.
    leaveStdinOpen: o.tty,
    processSpec: spec, preserveFds: o.preserveFds, timeout: o.timeout, conmonPidFile: p.conmonPidFile,
  })
  trace('exec: spawn conmon')
  try {
    const conmon = await spawnConmon({
      conmonPath: rt.conmonPath, args, cwd: o.bundle, preserveFds: o.preserveFds,
      cgroup: o.conmonCgroup === undefined ? undefined : { mode: rt.cgroupMode, path: o.conmonCgroup },
      joinAfterStart: p.conmonPidFile,
      ...(o.passthrough !== undefined ? { stdio: { stdin: o.stdin && (o.passthrough.stdin ?? true), stdout: o.passthrough.stdout, stderr: o.passthrough.stderr } } : {}),
    })
    return { conmon, spec }
  } catch (err) {
    cleanupExecBundle(o.bundle)
    throw err
  }
}

// Phase 2, the rest of the protocol up to a running process; on any failure conmon is let go, the bundle removed
// and the error classified (EXEC_NOT_FOUND 127, EXEC_CANNOT_INVOKE 126, RUNTIME_ERROR 125).
export async function runConmonExec ({ conmon, spec }: SpawnedExec, o: ConmonExecOptions): Promise<ConmonExec> {
  const p = execPaths(o.bundle, o.containerId)
  let socket: AttachSocket | undefined
  try {
    writeFileSync(spec, JSON.stringify(o.process))
    await conmon.start()
    trace('exec: conmon released (start byte 1)')
    // Passthrough: conmon runs the runtime at once, and no output is read before the pid is in (if the runtime fails,
    // the stderr pipe holds the runtime's own error, dropped with the pipes; the oci-log has it). The sync pipe's next
    // message is the exit code.
    if (o.passthrough !== undefined) return { pid: await awaitPid(conmon, o), bundle: o.bundle, conmon, pipes: conmon.pipes, exitMessage: conmon.sync.next() }
    const ready = await conmon.attach.next()
    trace('exec: attach socket ready')
    if (ready === undefined || ready.data < 0) {
      throw new EngineError('RUNTIME_ERROR', `conmon did not set up the attach socket: ${ready?.message ?? (conmon.stderr().trim() || 'no message')}`)
    }
    // Applied by conmon as soon as the pty exists, before the process runs: no 0x0 or 80x24 window at start.
    if (o.tty && o.consoleSize !== undefined) await writeResize(p.ctl, o.consoleSize[0], o.consoleSize[1])
    if (o.attach) socket = await connectAttachSocket(o.bundle)
    trace('exec: attached')
    await conmon.start()
    return { pid: await awaitPid(conmon, o), bundle: o.bundle, socket, conmon }
  } catch (err) {
    socket?.destroy()
    conmon.kill() // only while it still waits for its first byte; after that, closing our pipe ends are enough
    cleanupExecBundle(o.bundle)
    throw err
  }
}

// The sync pipe's {"data": pid}, once conmon is in its cgroup too; a runtime failure classified from the oci-log.
async function awaitPid (conmon: ConmonProcess, o: ConmonExecOptions): Promise<number> {
  const m = await conmon.sync.next()
  trace('exec: pid received')
  await conmon.joined()
  if (m === undefined || m.data <= 0) {
    const msg = readOciLog(execPaths(o.bundle, o.containerId).ociLog) ?? m?.message ?? (conmon.stderr().trim() || 'exec failed (no logs from conmon)')
    throw runtimeError(o.runtime.o.runtimeName, msg, `starting exec session in ${o.containerName}`)
  }
  return m.data
}

export interface ExecExit { exitCode: number, timedOut: boolean }

// Whether conmon's -T killed the process: its last sync message says so, or the exit file holds -1 (a reaped process
// never has that status), should the message come later than anyone waits.
const timeoutFired = (last: PipeMessage | undefined, code: number): boolean => last?.message === 'command timed out' || code === -1

// Waits for the exit code after the process ended (attach EOF) or, for a detached session, whenever it ends.
// `isAlive` lets the wait give up when conmon died without writing the file (then exit code -1).
export async function waitConmonExit (e: ConmonExec, containerId: string, o: { timeoutMs?: number, isAlive?: () => boolean, signal?: AbortSignal, hasTimeout?: boolean } = {}): Promise<ExecExit | undefined> {
  const { exitFile } = execPaths(e.bundle, containerId)
  trace('exec: output ended')
  const code = await waitExitFile(exitFile, o)
  trace('exec: exit file read')
  if (code === undefined) { e.conmon.close(); return undefined }
  // conmon's last sync message follows the exit file; it says "command timed out" when -T fired. Only sessions with
  // a timeout wait for it (briefly): for the others the exit file is the whole answer. When -T fired, conmon writes
  // -1 in the exit file (a reaped process never has that status), so -1 alone says it, even if the message comes
  // later than we wait (a loaded host: 2 of 10 timeouts exited 255 in the soak before this).
  let timedOut = false
  if (o.hasTimeout === true) {
    const last = await Promise.race([e.conmon.sync.next(), new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 500))])
    timedOut = timeoutFired(last, code)
  }
  e.conmon.close()
  return { exitCode: code, timedOut }
}

// A passthrough session's exit, once its exit message came (or conmon's sync pipe closed without one): the exit file
// (written before the message) is the code, the message says whether -T fired.
export async function passthroughExit (e: ConmonExec, containerId: string, hasTimeout: boolean): Promise<ExecExit | undefined> {
  const m = await e.exitMessage
  e.conmon.close()
  const code = readExitFile(execPaths(e.bundle, containerId).exitFile) ?? m?.data
  trace('exec: exit file read')
  if (code === undefined) return undefined
  return { exitCode: code, timedOut: hasTimeout && timeoutFired(m, code) }
}

// Reads a finished session's exit code from its bundle without waiting (crash recovery).
export function readExecExit (bundle: string, containerId: string): number | undefined {
  return readExitFile(execPaths(bundle, containerId).exitFile)
}

// The pid the runtime wrote for the session's process (`exec_pid`), if it got that far.
export function readExecPid (bundle: string, containerId: string): number | undefined {
  let text: string
  try { text = readFileSync(execPaths(bundle, containerId).pidFile, 'utf8') } catch { return undefined }
  const pid = Number(text.trim())
  return Number.isInteger(pid) && pid > 0 ? pid : undefined
}

// Removes the session's bundle: process.json, attach socket, FIFOs, exit and pid files.
export function cleanupExecBundle (bundle: string): void {
  removeTreeSync(bundle)
}

// The same in libuv's thread pool, as one job (the service, after its reply).
export async function removeExecBundle (bundle: string): Promise<void> {
  await removeTreeAsync(bundle)
}
