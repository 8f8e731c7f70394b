// Stopping, killing, pausing and removing containers. Stop is the stop signal, a wait of the timeout for the exit
// file, then SIGKILL to every process, and a final wait; the exec sessions die with the container's pid namespace.
import { rmSync } from 'node:fs'
import type { EngineContext } from '../context'
import { emit } from '../context'
import type { ContainerRecord, RemoveOptions } from '../types'
import { writeTx } from '../../store/db'
import { EngineError, invalid } from '../../errors'
import { waitExitFile } from '../../oci/conmon/exit-file'
import { finishContainer, releaseContainer, runAlive, syncContainer } from './state-sync'
import { stopExecSession } from '../exec/exec-stop'
import { cleanupExecBundle } from '../../oci/conmon/exec-session'

const KILL_WAIT_MS = 5000

const SIGNAL_NUMBERS: Record<string, number> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9, SIGUSR1: 10,
  SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20,
  SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29,
  SIGPWR: 30, SIGSYS: 31,
}

// Normalises `TERM`, `sigterm`, `15` → `SIGTERM`; unknown names are INVALID_ARGUMENT.
export function parseSignal (s: string): string {
  const t = s.trim().toUpperCase()
  if (/^\d+$/.test(t)) {
    const name = Object.keys(SIGNAL_NUMBERS).find((k) => SIGNAL_NUMBERS[k] === Number(t))
    if (name !== undefined) return name
  } else {
    const name = t.startsWith('SIG') ? t : 'SIG' + t
    if (name in SIGNAL_NUMBERS) return name
  }
  throw invalid(`invalid signal: ${s}`)
}

export const signalNumber = (name: string): number => SIGNAL_NUMBERS[name] ?? 15

async function waitExit (ctx: EngineContext, c: ContainerRecord, ms: number): Promise<number | undefined> {
  // fixed for API: runAlive counts conmon, which writes the exit file only after the process is gone.
  return waitExitFile(ctx.layout.exitFile(c.id), { timeoutMs: ms, isAlive: () => runAlive(c) })
}

export async function stopContainer (ctx: EngineContext, c0: ContainerRecord, timeout?: number): Promise<void> {
  let c = await syncContainer(ctx, c0)
  if (c.state === 'paused') { await ctx.runtime.resume(c.id).catch(() => undefined); c = { ...c, state: 'running' } }
  if (c.state !== 'running') return
  const t = timeout ?? c.config.stopTimeout
  let code: number | undefined
  if (t > 0) {
    await ctx.runtime.kill(c.id, c.config.stopSignal)
    code = await waitExit(ctx, c, t * 1000)
  }
  if (code === undefined) {
    await ctx.runtime.kill(c.id, 'SIGKILL', true)
    code = await waitExit(ctx, c, KILL_WAIT_MS)
  }
  // Only a process that vanished without conmon writing the file gets -1: conmon itself was killed.
  await finishContainer(ctx, ctx.containers.get(c.id) ?? c, code ?? 137)
  emit(ctx, 'container', 'stop', c.id, { name: c.name })
}

export async function killContainer (ctx: EngineContext, c0: ContainerRecord, signal = 'SIGKILL'): Promise<void> {
  const sig = parseSignal(signal)
  const c = await syncContainer(ctx, c0)
  if (c.state !== 'running' && c.state !== 'paused') throw new EngineError('CONTAINER_NOT_RUNNING', `can only kill running containers. ${c.id} is in state ${c.state === 'exited' ? 'exited' : c.state}: container state improper`)
  await ctx.runtime.kill(c.id, sig)
  emit(ctx, 'container', 'kill', c.id, { name: c.name, signal: String(signalNumber(sig)) })
  if (sig === 'SIGKILL') {
    const code = await waitExit(ctx, c, KILL_WAIT_MS)
    await finishContainer(ctx, c, code ?? 137)
  }
}

export async function pauseContainer (ctx: EngineContext, c0: ContainerRecord): Promise<void> {
  const c = await syncContainer(ctx, c0)
  if (c.state === 'paused') throw new EngineError('CONTAINER_PAUSED', `${c.id} is already paused`)
  if (c.state !== 'running') throw new EngineError('CONTAINER_NOT_RUNNING', `"${c.name}" is not running, can't pause: container state improper`)
  await ctx.runtime.pause(c.id)
  writeTx(ctx.db, () => ctx.containers.update(c.id, { state: 'paused' }))
  emit(ctx, 'container', 'pause', c.id, { name: c.name })
}

export async function unpauseContainer (ctx: EngineContext, c0: ContainerRecord): Promise<void> {
  const c = await syncContainer(ctx, c0)
  if (c.state !== 'paused') throw new EngineError('CONTAINER_STATE', `"${c.name}" is not paused, can't unpause: container state improper`)
  await ctx.runtime.resume(c.id)
  writeTx(ctx.db, () => ctx.containers.update(c.id, { state: 'running' }))
  emit(ctx, 'container', 'unpause', c.id, { name: c.name })
}

// Removes a container and everything it owns. Running containers need `force` (then they are killed, or stopped
// with `timeout` when one is given).
export async function removeContainer (ctx: EngineContext, c0: ContainerRecord, o: RemoveOptions = {}): Promise<string> {
  const c = await syncContainer(ctx, c0)
  if (c.state === 'running' || c.state === 'paused') {
    if (o.force !== true) {
      throw new EngineError('CONTAINER_STATE', `cannot remove container ${c.id} as it is ${c.state} - running or paused containers cannot be removed without force: container state improper`)
    }
    await stopContainer(ctx, c, o.timeout ?? 0)
  }
  // Every step below is idempotent, so a removal interrupted by a crash (state left at 'removing') is finished by
  // the next rm, and two concurrent removals of one container both succeed.
  const exists = writeTx(ctx.db, () => {
    const cur = ctx.containers.get(c.id)
    if (cur === undefined) return false
    ctx.containers.update(c.id, { state: 'removing' })
    return true
  })
  if (!exists) return c.id
  for (const s of ctx.execs.forContainer(c.id)) {
    if (s.state === 'running') await stopExecSession(ctx, s, 0).catch(() => undefined)
    cleanupExecBundle(ctx.layout.execBundle(s.id))
  }
  await releaseContainer(ctx, c)
  rmSync(ctx.layout.bundle(c.id), { recursive: true, force: true })
  rmSync(ctx.layout.containerDir(c.id), { recursive: true, force: true })
  rmSync(ctx.layout.exitFile(c.id), { force: true })
  writeTx(ctx.db, () => ctx.containers.remove(c.id))
  emit(ctx, 'container', 'remove', c.id, { name: c.name })
  return c.id
}
