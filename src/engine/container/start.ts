// `start`: mount the rootfs, write the OCI spec, create the container under conmon, attach if asked (before the
// process runs, so no output is lost), then `runtime start`. Attached starts resolve with the exit code.
import { mkdirSync, writeFileSync, rmSync } from 'node:fs'
import type { EngineContext } from '../context'
import { emit } from '../context'
import type { ContainerRecord, ContainerStartOptions, ContainerStartResult } from '../types'
import { writeTx } from '../../store/db'
import { EngineError } from '../../errors'
import { mountOverlay, unmount } from '../../util/mount'
import { buildContainerSpec, CONTAINER_HOSTS } from '../../oci/spec'
import { processStartTime } from '../../util/proc'
import { connectAttachSocket } from '../../oci/conmon/attach-socket'
import { writeResize } from '../../oci/conmon/ctl-fifo'
import { resolveImage, lowerDirs } from '../image/image-service'
import { readConmonPid, startClaim, syncContainer } from './state-sync'
import { attachAndWait } from './attach'
import { defaultSeccompProfile } from '../../oci/seccomp'
import { trace } from '../../util/trace'

// Arguments of conmon's exit command: `conex [global flags] container cleanup ID`.
export function exitCommand (ctx: EngineContext, args: string[]): string[] {
  return [...ctx.selfCommand, '--root', ctx.cfg.root, '--runroot', ctx.cfg.runroot, '--runtime', ctx.cfg.runtimePath, ...args]
}

export async function startContainer (ctx: EngineContext, c0: ContainerRecord, o: ContainerStartOptions = {}): Promise<ContainerStartResult> {
  const c = await syncContainer(ctx, c0)
  if (c.state === 'running') {
    if (o.streams === undefined) return { detached: true }
    throw new EngineError('CONTAINER_STATE', `container ${c.name} is already running`)
  }
  if (c.state === 'paused') throw new EngineError('CONTAINER_PAUSED', `container ${c.name} is paused`)
  // Claim the start: only one process moves the container out of created/exited. The claim names its starter, so
  // that a start killed before the pid is known is repaired by the next sync instead of showing as running.
  const claimed = writeTx(ctx.db, () => {
    const cur = ctx.containers.get(c.id)
    if (cur === undefined || (cur.state !== 'created' && cur.state !== 'exited')) return false
    ctx.containers.update(c.id, { state: 'running', pid: 0, pidStart: startClaim(cur.state), exitCode: 0, startedAt: Date.now(), finishedAt: 0 })
    return true
  })
  if (!claimed) throw new EngineError('CONTAINER_STATE', `container ${c.name} is being started or removed by another command`)
  trace('start: claimed')
  const L = ctx.layout
  let attached: Awaited<ReturnType<typeof connectAttachSocket>> | undefined
  try {
    const image = await resolveImage(ctx, c.imageId)
    // The storage dirs are made at create; a create interrupted by a crash may have left them missing.
    for (const d of [L.rootfs(c.id), L.upperDir(c.id), L.workDir(c.id)]) mkdirSync(d, { recursive: true })
    mkdirSync(L.exitDir(), { recursive: true })
    rmSync(L.exitFile(c.id), { force: true })
    trace('start: storage ready')
    await mountOverlay({ lower: lowerDirs(ctx, image), upper: L.upperDir(c.id), work: L.workDir(c.id), target: L.rootfs(c.id) })
    const etcFiles = L.etcFiles(c.id)
    writeFileSync(etcFiles.hostname, `${c.config.hostname}\n`)
    writeFileSync(etcFiles.hosts, CONTAINER_HOSTS)
    const spec = buildContainerSpec({ id: c.id, config: c.config, rootfs: L.rootfs(c.id), cgroupsPath: L.cgroupPath(c.id), seccomp: defaultSeccompProfile(), etcFiles })
    writeFileSync(L.specPath(c.id), JSON.stringify(spec))
    trace('start: rootfs mounted, spec written')
    const { pid } = await ctx.runtime.createContainer({
      id: c.id, name: c.name, bundle: L.bundle(c.id), pidFile: L.pidFile(c.id), conmonPidFile: L.conmonPidFile(c.id),
      exitDir: L.exitDir(), logPath: `k8s-file:${L.logPath(c.id)}`, tty: c.config.tty, stdin: c.config.stdin,
      exitCommand: exitCommand(ctx, ['container', 'cleanup', c.id]), conmonCgroup: L.conmonCgroup(c.id),
    })
    if (o.streams !== undefined) attached = await connectAttachSocket(L.bundle(c.id))
    if (c.config.tty && o.consoleSize !== undefined) await writeResize(`${L.bundle(c.id)}/ctl`, o.consoleSize[0], o.consoleSize[1]).catch(() => undefined)
    trace('start: created under conmon')
    await ctx.runtime.start(c.id)
    trace('start: runtime started')
    writeTx(ctx.db, () => ctx.containers.update(c.id, {
      pid, pidStart: processStartTime(pid) ?? '', conmonPid: readConmonPid(ctx, c.id), restarts: c.restarts + (c.startedAt > 0 ? 1 : 0),
    }))
    trace('start: pid recorded')
    emit(ctx, 'container', 'start', c.id, { name: c.name, image: c.imageName })
  } catch (err) {
    attached?.destroy()
    await ctx.runtime.delete(c.id, true).catch(() => undefined)
    await unmount(L.rootfs(c.id)).catch(() => undefined)
    writeTx(ctx.db, () => ctx.containers.update(c.id, { state: c.state === 'created' ? 'created' : 'exited', pid: 0, pidStart: '', exitCode: c.exitCode }))
    throw err
  }
  if (o.streams === undefined || attached === undefined) return { detached: true }
  o.streams.onStarted?.(0)
  return attachAndWait(ctx, c, attached, o.streams, { detachKeys: o.detachKeys, signal: o.signal })
}
