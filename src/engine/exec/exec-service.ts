// Exec sessions as engine objects: created → running → stopped. Each method keeps podman's shape: look up, sync the
// container from disk, check state (typed errors), claim the transition in one write transaction, act through the
// oci layer, record the result.
import { readFileSync, existsSync } from 'node:fs'
import type { EngineContext } from '../context'
import { emit, perContext } from '../context'
import type { ContainerRecord, ExecConfig, ExecCreateOptions, ExecResult, ExecSessionRecord, ExecStartOptions, ExecStdio } from '../types'
import { EngineError, invalid } from '../../errors'
import { generateId } from '../../util/ids'
import { processStartTime } from '../../util/proc'
import { buildExecProcess } from '../../oci/spec'
import { parseDetachKeys } from '../../oci/conmon/detach-keys'
import { pumpAttach } from '../../oci/conmon/attach-socket'
import { spawnConmonExec, runConmonExec, waitConmonExit, passthroughExit, execPaths, type ConmonExec, type ConmonExecSpawnOptions, type ExecExit } from '../../oci/conmon/exec-session'
import { pumpPipes } from '../../oci/conmon/exec-pipes'
import { lightSpawnAvailable } from '../../util/procspawn'
import { writeResize } from '../../oci/conmon/ctl-fifo'
import { syncContainer } from '../container/state-sync'
import { exitCommand } from '../container/start'
import { checkEnv, checkWorkdir } from '../container/create'
import { recordExecExit, pruneExecSessionsThrottled, execStartClaim, execTx, dropExecBundle } from './exec-reaper'
import { openRecorder } from './recorder'
import { prepareConmon, takePrepared, dropPrepared, prepareSpare, spareId, adoptSpare } from './exec-prepare'
import { trace } from '../../util/trace'

/** Exit code of an exec killed by its --timeout (as coreutils timeout(1)). */
export const TIMEOUT_EXIT_CODE = 124

// Checks that the container can take an exec session now. dockerd's words (daemon/exec.go getActiveContainer) name
// the container as the caller did when it is paused, by its full id when it is not running.
export function requireRunning (c: ContainerRecord, ref = c.name): void {
  if (c.state === 'paused') throw new EngineError('CONTAINER_PAUSED', `container ${c.name} is paused, unpause the container before exec`, { docker: `Container ${ref} is paused, unpause the container before exec` })
  if (c.state !== 'running') throw new EngineError('CONTAINER_NOT_RUNNING', 'can only create exec sessions on running containers: container state improper', { docker: `Container ${c.id} is not running` })
}

// `c` comes from a sync (the engine's container lookups make one): a second one here read the same files again.
export async function createExecSession (ctx: EngineContext, c: ContainerRecord, o: ExecCreateOptions, ref?: string): Promise<ExecSessionRecord> {
  if (!Array.isArray(o.command) || o.command.length === 0 || o.command[0] === '') throw invalid('must provide a non-empty command to start an exec session')
  const env = [...(o.env ?? [])]
  env.forEach(checkEnv)
  checkWorkdir(o.workdir)
  const tty = o.tty ?? false
  if (tty && (o.addTerm ?? true) && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm')
  const detachKeys = o.detachKeys ?? ctx.cfg.detachKeys
  parseDetachKeys(detachKeys)
  const timeout = o.timeout ?? 0
  if (!Number.isInteger(timeout) || timeout < 0) throw invalid(`invalid timeout ${String(o.timeout)}: must be a non-negative number of seconds`)
  const preserveFds = o.preserveFds ?? 0
  if (!Number.isInteger(preserveFds) || preserveFds < 0) throw invalid('--preserve-fds must be a non-negative integer')
  trace('exec: create')
  requireRunning(c, ref)
  const config: ExecConfig = {
    command: o.command,
    env,
    user: o.user ?? '',
    workdir: o.workdir ?? '',
    tty,
    attachStdin: o.attachStdin ?? false,
    attachStdout: o.attachStdout ?? true,
    attachStderr: o.attachStderr ?? true,
    privileged: o.privileged ?? false,
    detachKeys,
    preserveFds,
    timeout,
    ...(o.consoleSize !== undefined ? { consoleSize: o.consoleSize } : {}),
  }
  // The service takes the id of the container's spare conmon (exec-prepare.ts) when that conmon was spawned with the
  // arguments this session's start would use.
  const spare = ctx.oneShot ? undefined : spareId(ctx, c.id)
  const s: ExecSessionRecord = {
    id: spare ?? generateId(), containerId: c.id, config, state: 'created', pid: 0, pidStart: '', conmonPid: 0, exitCode: null,
    createdAt: Date.now(), startedAt: 0, endedAt: 0,
  }
  // The service spawns the session's conmon now (after the reply), for the start that Docker clients send next; the
  // arguments assume a start as the session's attachments suggest (none: detached, as `docker exec -d` creates it).
  const detach = !config.attachStdin && !config.attachStdout && !config.attachStderr
  let spawn = ctx.oneShot ? undefined : spawnOptions(ctx, c, s, detach, {})
  const adopted = spare !== undefined && spawn !== undefined && adoptSpare(ctx, c.id, spawn)
  if (spare !== undefined && !adopted) { s.id = generateId(); spawn = spawnOptions(ctx, c, s, detach, {}) }
  execTx(ctx, () => {
    ctx.execs.add(s)
    emit(ctx, 'exec', 'exec_create', s.id, { containerID: c.id, name: c.name, execID: s.id, command: o.command.join(' '), user: config.user, requester: o.requester ?? ctx.requester })
    pruneExecSessionsThrottled(ctx, c.id)
  })
  trace('exec: created')
  if (spawn !== undefined && !adopted) prepareConmon(ctx, s.id, spawn)
  return s
}

// In the service, an attached session without a tty streams through pipes that conmon hands to the process
// (exec-pipes.ts). A tty needs conmon's pty, and a detached session its attach socket (for `exec attach`). The CLI
// hands over its own stdio where they are pipes or files (cli/hand-over.ts: `fds`), and copies the others (terminals,
// sockets) through such pipes. When it has only streams to copy it keeps the attach socket: a CLI that dies (killed,
// or its reader gone) must not take the session with it, and only conmon, reading on, can see to that (the service
// reads on when a client goes). With one stream handed over, the process has the caller's pipe or file anyway, and a
// copied stream whose CLI died is one the process's next write finds broken (SIGPIPE), as a shell's command would.
function passthroughFor (ctx: EngineContext, s: ExecSessionRecord, detach: boolean, o: ExecStartOptions): ConmonExecSpawnOptions['passthrough'] {
  if (detach || s.config.tty || !ctx.cfg.execPassthrough || !lightSpawnAvailable()) return undefined
  if (!ctx.oneShot) return { stdout: s.config.attachStdout, stderr: s.config.attachStderr }
  const fds = o.fds
  if (fds === undefined || o.recordPath !== undefined || !s.config.attachStdout || !s.config.attachStderr) return undefined
  const stdin = s.config.attachStdin ? fds.stdin : undefined
  if (s.config.attachStdin && stdin === undefined) return undefined
  const out = (f: ExecStdio): number | true => f === 'copy' ? true : f
  return { ...(typeof stdin === 'number' ? { stdin } : {}), stdout: out(fds.stdout), stderr: out(fds.stderr) }
}

// Whether the session's every stream is one of the caller's own fds: nothing to copy, the exit message ends it.
const allHandedOver = (p: ConmonExecSpawnOptions['passthrough'], stdin: boolean): boolean =>
  p !== undefined && typeof p.stdout === 'number' && typeof p.stderr === 'number' && (!stdin || typeof p.stdin === 'number')

// What conmon's argv for a session depends on.
function spawnOptions (ctx: EngineContext, c: ContainerRecord, s: ExecSessionRecord, detach: boolean, o: ExecStartOptions): ConmonExecSpawnOptions {
  const passthrough = passthroughFor(ctx, s, detach, o)
  return {
    ...(passthrough !== undefined ? { passthrough } : {}),
    runtime: ctx.runtime, containerId: c.id, containerName: c.name, sessionId: s.id, bundle: ctx.layout.execBundle(s.id),
    tty: s.config.tty, stdin: s.config.attachStdin && !detach, preserveFds: s.config.preserveFds, timeout: s.config.timeout,
    conmonCgroup: ctx.layout.conmonCgroup(c.id),
    exitCommand: detach ? exitCommand(ctx, ['container', 'cleanup', '--exec', s.id, c.id]) : undefined,
  }
}

// A running container's spec does not change until its next start: the service reads it once per run, not per exec
// (buildExecProcess copies what it takes from it).
const specs = new WeakMap<EngineContext, Map<string, { startedAt: number, spec: Record<string, unknown> }>>()

function readContainerSpec (ctx: EngineContext, c: ContainerRecord): Record<string, unknown> {
  const cache = perContext(specs, ctx)
  const hit = cache.get(c.id)
  if (hit !== undefined && hit.startedAt === c.startedAt) return hit.spec
  let spec: Record<string, unknown>
  try {
    spec = JSON.parse(readFileSync(ctx.layout.specPath(c.id), 'utf8')) as Record<string, unknown>
  } catch (err) {
    throw new EngineError('CONTAINER_STATE', `container ${c.name} has no runtime spec (is it running?): ${(err as Error).message}`)
  }
  if (cache.size > 1000) cache.clear()
  cache.set(c.id, { startedAt: c.startedAt, spec })
  return spec
}

// Exit codes recorded for a session whose start failed: 126/127 as the runtime said, 125 otherwise.
const startFailureCode = (err: unknown): number => err instanceof EngineError ? err.exitCode : 125

// The detach sequence in force for an attach. Keys act only on a terminal, as in docker's CLI and daemon: without a
// tty, stdin is data, and binary input (`exec -i c cat < file`) would detach at the first 0x10 0x11 it carries.
function detachKeysFor (s: ExecSessionRecord, override: string | undefined): Buffer {
  const keys = parseDetachKeys(override ?? s.config.detachKeys)
  return s.config.tty ? keys : Buffer.alloc(0)
}

export async function startExecSession (ctx: EngineContext, s: ExecSessionRecord, o: ExecStartOptions = {}): Promise<ExecResult> {
  if (s.state === 'running') throw new EngineError('EXEC_STATE', `exec session ${s.id} is already running`)
  if (s.state === 'stopped') throw new EngineError('EXEC_STATE', `exec session ${s.id} has already run`)
  const c0 = ctx.containers.get(s.containerId)
  if (c0 === undefined) throw new EngineError('NO_SUCH_CONTAINER', `container ${s.containerId} of exec session ${s.id} no longer exists`)
  const c = await syncContainer(ctx, c0)
  if (c.state === 'paused') throw new EngineError('CONTAINER_PAUSED', `container ${c.name} is paused, unpause the container before exec`)
  if (c.state !== 'running') throw new EngineError('CONTAINER_NOT_RUNNING', `can only start exec sessions when their container is running: container state improper`)
  const claimed = execTx(ctx, () => {
    const cur = ctx.execs.get(s.id)
    if (cur?.state !== 'created') return false
    ctx.execs.update(s.id, { state: 'running', startedAt: Date.now(), pidStart: execStartClaim() })
    return true
  })
  if (!claimed) throw new EngineError('EXEC_STATE', `exec session ${s.id} has already been started`)
  trace('exec: start claimed')
  const started = { ...s, state: 'running' as const, startedAt: Date.now() }
  const detach = o.detach === true || o.streams === undefined
  const bundle = ctx.layout.execBundle(s.id)
  const keys = detachKeysFor(s, o.detachKeys)
  const spawn = spawnOptions(ctx, c, s, detach, o)
  const handedOver = allHandedOver(spawn.passthrough, spawn.stdin)
  let exec
  try {
    const proc = buildExecProcess({ containerSpec: readContainerSpec(ctx, c), containerConfig: c.config, exec: s.config, rootfs: ctx.layout.rootfs(c.id), addTerm: false })
    const taken = await takePrepared(ctx, s.id, spawn)
    const conmon = taken ?? await spawnConmonExec(spawn)
    // A client that creates and starts: the container's next session gets a conmon spawned while this one runs.
    if (taken !== undefined) {
      const next = generateId()
      prepareSpare(ctx, c.id, next, spawnOptions(ctx, c, { ...s, id: next }, detach, o))
    }
    exec = await runConmonExec(conmon, { ...spawn, process: proc, attach: !detach, consoleSize: o.consoleSize ?? s.config.consoleSize })
  } catch (err) {
    void dropPrepared(ctx, s.id)
    recordExecExit(ctx, started, startFailureCode(err))
    throw err
  }
  const pidStart = processStartTime(exec.pid) ?? ''
  // The pid and the exec_start event are written with the exit when the process ends within START_RECORD_MS (a short
  // command: one commit instead of two), else then; until then the session shows as running with pid 0, as while it
  // starts (the reaper leaves such a session to its live starter, and adopts the pid from the bundle if it died).
  let startPending = true
  const writeStart = (): void => {
    ctx.execs.update(s.id, { pid: exec.pid, pidStart })
    emit(ctx, 'exec', 'exec_start', s.id, { containerID: c.id, name: c.name, execID: s.id, pid: String(exec.pid), requester: o.requester ?? ctx.requester })
    startPending = false
  }
  const recordStart = (): void => { if (startPending) execTx(ctx, writeStart) }
  // (a write that fails on the timer is tried again at the end, where its error reaches the caller)
  const startTimer = setTimeout(() => { try { recordStart() } catch { /* retried below */ } }, START_RECORD_MS)
  try {
    return await attendExec(ctx, { s, c, o, exec, started, detach, handedOver, keys, bundle, recordStart, recordExit: (code) => {
      // (unless someone else recorded the end already: its exec_died then stays the session's last event)
      execTx(ctx, () => {
        const pending = startPending
        startPending = false
        if (pending && ctx.execs.get(s.id)?.state === 'running') writeStart()
        recordExecExit(ctx, started, code)
      })
    } })
  } finally {
    clearTimeout(startTimer)
    recordStart()
  }
}

// How long an attached session's start waits to be written with its exit (see startExecSession).
const START_RECORD_MS = 5

interface Attended {
  s: ExecSessionRecord, c: ContainerRecord, o: ExecStartOptions, exec: ConmonExec, started: ExecSessionRecord, detach: boolean,
  handedOver: boolean, keys: Buffer, bundle: string
  /** Writes the start now if it is still pending. */
  recordStart: () => void
  /** Writes the exit (and the start with it, if still pending). */
  recordExit: (code: number) => void
}

// The session from a running process to its exit: streams copied, exit recorded, bundle dropped.
async function attendExec (ctx: EngineContext, a: Attended): Promise<ExecResult> {
  const { s, c, o, exec, started, detach, handedOver, keys, bundle } = a
  o.streams?.onStarted?.(exec.pid)
  if (detach || (exec.socket === undefined && exec.pipes === undefined)) { a.recordStart(); exec.conmon.close(); return { detached: true } }
  const rec = o.recordPath !== undefined ? openRecorder(o.recordPath, { tty: s.config.tty, size: o.consoleSize ?? s.config.consoleSize, command: s.config.command }) : undefined
  // Read only what is copied: the CLI's streams are made on first use, and a stdin stream reads ahead. With pipes,
  // only those that exist are copied (the CLI's others are the process's own).
  const streams = o.streams as NonNullable<typeof o.streams>
  const copied = (pipe: unknown): boolean => exec.pipes === undefined || pipe !== undefined
  const io = (): Parameters<typeof pumpAttach>[1] => ({
    // a getter: passthrough pipes may splice from the client's fd (stdinFd) and never make the stream
    get stdin () { return s.config.attachStdin && copied(exec.pipes?.stdin) ? streams.stdin : undefined },
    ...(streams.stdinFd !== undefined && s.config.attachStdin ? { stdinFd: streams.stdinFd } : {}),
    stdout: s.config.attachStdout && copied(exec.pipes?.stdout) ? streams.stdout : undefined,
    stderr: s.config.attachStderr && copied(exec.pipes?.stderr) ? (s.config.tty ? streams.stdout : streams.stderr) : undefined,
    detachKeys: keys,
    onOutput: rec?.write,
  })
  // The caller's own fds (nothing to copy: the exit message ends it), the passthrough pipes or the attach socket;
  // 'detached' when the client left or detached.
  const hasTimeout = s.config.timeout > 0
  let exit: ExecExit | undefined | 'detached'
  if (handedOver) exit = await passthroughExit(exec, c.id, hasTimeout)
  else if (exec.pipes !== undefined) {
    const pump = pumpPipes(exec.pipes, io(), o.signal)
    const ended = passthroughExit(exec, c.id, hasTimeout)
    void ended.then(pump.exited, pump.exited)
    exit = await pump.done === 'eof' ? await ended : 'detached'
  } else {
    const how = await pumpAttach(exec.socket as NonNullable<typeof exec.socket>, io(), o.signal)
    if (how === 'eof') exit = await waitConmonExit(exec, c.id, { hasTimeout, timeoutMs: 60_000, isAlive: () => existsSync(execPaths(bundle, c.id).exitFile) || existsSync(bundle) })
    else { exit = 'detached'; exec.conmon.close() }
  }
  rec?.close()
  if (exit === 'detached') return { detached: true }
  let code: number
  if (exit === undefined) code = ctx.execs.get(s.id)?.exitCode ?? -1
  else code = exit.timedOut ? TIMEOUT_EXIT_CODE : exit.exitCode
  o.streams?.onEnded?.()
  a.recordExit(code)
  trace('exec: exit recorded')
  dropExecBundle(ctx, bundle)
  return { exitCode: ctx.execs.get(s.id)?.exitCode ?? code, detached: false }
}

const RESIZE_START_WAIT_MS = 10_000

export async function resizeExecSession (ctx: EngineContext, s: ExecSessionRecord, height: number, width: number): Promise<void> {
  if (s.state !== 'running') throw new EngineError('EXEC_STATE', `exec session ${s.id} is not running: cannot resize`)
  const ctl = execPaths(ctx.layout.execBundle(s.id), s.containerId).ctl
  // A session is 'running' from the moment its start is claimed; conmon makes the FIFO a few ms later. Like dockerd
  // (which waits for the exec's start for up to 10 s), a resize sent right after the start waits for it.
  const deadline = Date.now() + RESIZE_START_WAIT_MS
  while (!existsSync(ctl)) {
    const cur = ctx.execs.get(s.id)
    if (cur?.state !== 'running' || cur.pid > 0 || Date.now() > deadline) {
      throw new EngineError('EXEC_STATE', `exec session ${s.id} has no control FIFO (has it ended?)`)
    }
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  await writeResize(ctl, height, width)
}

// Attaches another client to a running session (re-attach after detaching, or a second watcher). conmon broadcasts
// output to every client; the attach ends with the session's exit code.
export async function attachExecSession (ctx: EngineContext, s: ExecSessionRecord, streams: import('../types').AttachStreams, o: { detachKeys?: string, signal?: AbortSignal } = {}): Promise<ExecResult> {
  if (s.state !== 'running') throw new EngineError('EXEC_STATE', `exec session ${s.id} is not running (state ${s.state}): cannot attach`)
  const bundle = ctx.layout.execBundle(s.id)
  const { connectAttachSocket } = await import('../../oci/conmon/attach-socket')
  let sock
  try { sock = await connectAttachSocket(bundle) } catch (err) {
    // A passthrough session (attached at its start, no tty) has no attach socket: its pipes are its client's.
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' && !s.config.tty && existsSync(bundle)
      ? 'it streams to the client that started it (an attached session without a tty has no attach socket)'
      : (err as Error).message
    throw new EngineError('EXEC_STATE', `exec session ${s.id} cannot be attached: ${why}`)
  }
  const how = await pumpAttach(sock, {
    stdin: s.config.attachStdin ? streams.stdin : undefined,
    stdout: streams.stdout,
    stderr: s.config.tty ? streams.stdout : streams.stderr,
    detachKeys: detachKeysFor(s, o.detachKeys),
  }, o.signal)
  if (how !== 'eof') return { detached: true }
  const { waitExitFile } = await import('../../oci/conmon/exit-file')
  const exitFile = execPaths(bundle, s.containerId).exitFile
  const code = await waitExitFile(exitFile, { timeoutMs: 30_000, isAlive: () => ctx.execs.get(s.id)?.state === 'running' && existsSync(bundle) })
  if (code !== undefined) {
    recordExecExit(ctx, s, code)
    return { exitCode: ctx.execs.get(s.id)?.exitCode ?? code, detached: false }
  }
  return { exitCode: ctx.execs.get(s.id)?.exitCode ?? -1, detached: false }
}
