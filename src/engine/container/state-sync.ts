// Keeps the store true to what the processes did while no conex process watched: a container whose conmon wrote
// its exit file is exited (exit code recorded, rootfs unmounted, runtime state deleted), and its exec sessions are
// ended. Every read of a container goes through syncContainer, as podman's syncContainer does.
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs'
import type { EngineContext } from '../context'
import { emit } from '../context'
import type { ContainerRecord } from '../types'
import { writeTx } from '../../store/db'
import { readExitFile } from '../../oci/conmon/exit-file'
import { isSameProcess, processStartTime, selfStartTime } from '../../util/proc'
import { unmount } from '../../util/mount'
import { removeCgroup } from '../../oci/cgroups'
import { reapExecSessions } from '../exec/exec-reaper'

// fixed for API: the container's process has exited but its conmon has not written the exit file yet. conmon
// drains the output first, so under load this lasts long enough for a sync to take the run for lost (exit code -1,
// `docker run` exiting 255); the run is only over without an exit file once conmon is gone too.
export function runAlive (c: ContainerRecord): boolean {
  return isSameProcess(c.pid, c.pidStart) || (c.conmonPid > 0 && isSameProcess(c.conmonPid, ''))
}

// A start claims the container (running, pid 0) before the runtime has a process: until the pid is recorded no
// process is missing, unless the claim is older than any start can take (the starter died).
const START_GRACE_MS = 120_000

// While pid is 0 (a start in progress), pidStart holds the claim: `start:<starter pid>:<its start time>:<state
// before>`. A sync that finds the starter gone repairs the container at once (repairDeadStart) instead of showing
// it as running for START_GRACE_MS: conex start killed between its claim and its last write leaves no phantom.
export function startClaim (before: 'created' | 'exited'): string {
  return `start:${process.pid}:${selfStartTime()}:${before}`
}

function parseStartClaim (pidStart: string): { pid: number, startTime: string, before: 'created' | 'exited' } | undefined {
  const m = /^start:(\d+):(\d*):(created|exited)$/.exec(pidStart)
  return m === null ? undefined : { pid: Number(m[1]), startTime: m[2], before: m[3] as 'created' | 'exited' }
}

// The starter of `c` died before recording the pid. If the runtime runs the process, adopt it; otherwise remove what
// the start had set up (runtime container, mount) and put the container back in the state it had.
async function repairDeadStart (ctx: EngineContext, c: ContainerRecord, before: 'created' | 'exited'): Promise<ContainerRecord> {
  const st = await ctx.runtime.state(c.id).catch(() => undefined)
  if (st?.status === 'running' && st.pid > 0 && processStartTime(st.pid) !== undefined) {
    writeTx(ctx.db, () => {
      if (ctx.containers.get(c.id)?.pidStart !== c.pidStart) return
      ctx.containers.update(c.id, { pid: st.pid, pidStart: processStartTime(st.pid) ?? '', conmonPid: readConmonPid(ctx, c.id) })
    })
    return ctx.containers.get(c.id) ?? c
  }
  await releaseContainer(ctx, c)
  writeTx(ctx.db, () => {
    if (ctx.containers.get(c.id)?.pidStart !== c.pidStart) return
    ctx.containers.update(c.id, { state: before, pid: 0, pidStart: '', conmonPid: 0, exitCode: before === 'exited' ? -1 : 0, finishedAt: before === 'exited' ? Date.now() : 0 })
  })
  return ctx.containers.get(c.id) ?? c
}

// The exit code of the current run. An exit file older than the run's start is the previous run's: the previous
// conmon's exit command (`container cleanup`) may run while a restart is starting the next run.
export function readRunExit (ctx: EngineContext, c: ContainerRecord): number | undefined {
  const path = ctx.layout.exitFile(c.id)
  const code = readExitFile(path)
  if (code === undefined) return undefined
  try { return statSync(path).mtimeMs < c.startedAt ? undefined : code } catch { return undefined }
}

// Refreshes one container's state from its exit file and process; returns the up-to-date record.
export async function syncContainer (ctx: EngineContext, c: ContainerRecord): Promise<ContainerRecord> {
  if (c.state === 'running' || c.state === 'paused') {
    const code = readRunExit(ctx, c)
    const claim = c.pid === 0 ? parseStartClaim(c.pidStart) : undefined
    if (claim !== undefined && code === undefined && !isSameProcess(claim.pid, claim.startTime)) return repairDeadStart(ctx, c, claim.before)
    const starting = c.pid === 0 && (claim !== undefined || Date.now() - c.startedAt < START_GRACE_MS)
    const gone = code === undefined && !starting && !runAlive(c) && !existsSync(ctx.layout.exitFile(c.id))
    if (code !== undefined || gone) {
      await finishContainer(ctx, c, code ?? -1)
      return ctx.containers.get(c.id) ?? { ...c, state: 'exited', exitCode: code ?? -1 }
    }
    await reapExecSessions(ctx, c)
  }
  return c
}

// Records the exit and releases what the run held. Safe to call twice and from several processes at once.
export async function finishContainer (ctx: EngineContext, c: ContainerRecord, exitCode: number): Promise<void> {
  let finishedAt = Date.now()
  try { finishedAt = statSync(ctx.layout.exitFile(c.id)).mtimeMs } catch { /* no exit file */ }
  const oom = existsSync(`${ctx.layout.bundle(c.id)}/oom`)
  const changed = writeTx(ctx.db, () => {
    const cur = ctx.containers.get(c.id)
    if (cur === undefined || (cur.state !== 'running' && cur.state !== 'paused')) return false
    ctx.containers.update(c.id, { state: 'exited', exitCode: Math.max(-1, Math.min(255, exitCode)), finishedAt: Math.round(finishedAt), pid: 0, conmonPid: 0, oomKilled: oom })
    return true
  })
  await releaseContainer(ctx, c)
  await reapExecSessions(ctx, { ...c, state: 'exited' })
  if (changed) emit(ctx, 'container', 'died', c.id, { name: c.name, exitCode: String(exitCode) })
}

// Unmounts the rootfs, deletes the runtime's state and the conmon cgroup, and removes run-time files.
export async function releaseContainer (ctx: EngineContext, c: ContainerRecord): Promise<void> {
  await ctx.runtime.delete(c.id, true).catch(() => undefined)
  await unmount(ctx.layout.rootfs(c.id))
  removeCgroup(ctx.cfg.cgroupMode, ctx.layout.cgroupPath(c.id))
  for (const f of ['attach', 'ctl', 'winsz', 'oci-log', 'pidfile', 'conmon.pid', 'oom']) {
    rmSync(`${ctx.layout.bundle(c.id)}/${f}`, { force: true })
  }
}

// conmon's pid, from its pid file.
export function readConmonPid (ctx: EngineContext, id: string): number {
  try { return Number(readFileSync(ctx.layout.conmonPidFile(id), 'utf8').trim()) || 0 } catch { return 0 }
}
