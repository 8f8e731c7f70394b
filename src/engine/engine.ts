// The local engine: the Engine interface over the store, the OCI layer and the disk layout. It resolves references
// and delegates each verb to the module that owns it; it holds no state besides the context.
import { readFileSync } from 'node:fs'
import { hostname, release, cpus, totalmem, arch } from 'node:os'
import { execFileSync } from 'node:child_process'
import type { Readable } from 'node:stream'
import type {
  AttachStreams, ContainerCreateOptions, ContainerRecord, ContainerStartOptions, ContainerStartResult, Engine,
  EngineEvent, EventsOptions, ExecCreateOptions, ExecResult, ExecSessionRecord, ExecStartOptions, HostInfo,
  ImageImportOptions, ImageSummary, LogLine, LogsOptions, RemoveOptions,
} from './types'
import { openContext, type ContextOptions, type EngineContext } from './context'
import { EngineError } from '../errors'
import { createContainer } from './container/create'
import { startContainer } from './container/start'
import { TOP_TITLES, hostClock, sampleProcess, topRow } from './container/top'
import { syncContainer, runAlive } from './container/state-sync'
import { stopContainer, killContainer, pauseContainer, unpauseContainer, removeContainer } from './container/stop'
import { attachAndWait } from './container/attach'
import { containerLogs } from './container/logs'
import { cleanupContainer, cleanupExec } from './container/cleanup'
import { createExecSession, startExecSession, resizeExecSession, attachExecSession } from './exec/exec-service'
import { stopExecSession, removeExecSession } from './exec/exec-stop'
import { reapExecSession, pruneEndedExecSessions } from './exec/exec-reaper'
import { dropAllPrepared } from './exec/exec-prepare'
import { pruneUnstartedExecSessions } from './exec/exec-expiry'
import { listImages, getImage, tagImage, removeImage } from './image/image-service'
import { importImage, loadImages } from './image/image-import'
import { connectAttachSocket } from '../oci/conmon/attach-socket'
import { writeResize } from '../oci/conmon/ctl-fifo'
import { waitExitFile } from '../oci/conmon/exit-file'
import { cleanStaging } from '../image/layers'

export const VERSION = '0.1.0'

const RECENT_EXIT_MS = 5 * 60_000

export class LocalEngine implements Engine {
  readonly ctx: EngineContext

  constructor (o: ContextOptions) { this.ctx = openContext(o) }

  // Resolves a container reference (name, id, prefix) and brings its state up to date.
  async container (ref: string): Promise<ContainerRecord> {
    const c = this.ctx.containers.lookup(ref)
    if (c === undefined) throw new EngineError('NO_SUCH_CONTAINER', `no container with name or ID "${ref}" found: no such container`, { docker: `No such container: ${ref}` })
    return syncContainer(this.ctx, c)
  }

  async latestContainer (): Promise<ContainerRecord> {
    const c = this.ctx.containers.latest()
    if (c === undefined) throw new EngineError('NO_SUCH_CONTAINER', 'no containers to use with --latest: no such container')
    return syncContainer(this.ctx, c)
  }

  #session (id: string): ExecSessionRecord {
    const s = this.ctx.execs.lookup(id)
    if (s === undefined) throw new EngineError('NO_SUCH_EXEC_SESSION', `no exec session with ID ${id} found: no such exec session`, { docker: `No such exec instance: ${id}` })
    if (s.state === 'running') {
      const c = this.ctx.containers.get(s.containerId)
      reapExecSession(this.ctx, s, c?.state === 'running' || c?.state === 'paused')
      return this.ctx.execs.get(s.id) ?? s
    }
    return s
  }

  createContainer (o: ContainerCreateOptions): Promise<ContainerRecord> { return createContainer(this.ctx, o) }
  async startContainer (ref: string, o?: ContainerStartOptions): Promise<ContainerStartResult> { return startContainer(this.ctx, await this.container(ref), o) }
  async stopContainer (ref: string, timeout?: number): Promise<void> { await stopContainer(this.ctx, await this.container(ref), timeout) }
  async killContainer (ref: string, signal?: string): Promise<void> { await killContainer(this.ctx, await this.container(ref), signal) }
  async restartContainer (ref: string, timeout?: number): Promise<void> {
    const c = await this.container(ref)
    await stopContainer(this.ctx, c, timeout)
    await startContainer(this.ctx, await this.container(c.id))
  }

  async pauseContainer (ref: string): Promise<void> { await pauseContainer(this.ctx, await this.container(ref)) }
  async unpauseContainer (ref: string): Promise<void> { await unpauseContainer(this.ctx, await this.container(ref)) }

  async removeContainer (ref: string, o: RemoveOptions = {}): Promise<string | undefined> {
    const c = this.ctx.containers.lookup(ref)
    if (c === undefined) {
      if (o.ignore === true) return undefined
      throw new EngineError('NO_SUCH_CONTAINER', `no container with ID or name "${ref}" found: no such container`, { docker: `No such container: ${ref}` })
    }
    return removeContainer(this.ctx, c, o)
  }

  async listContainers (o: { all?: boolean } = {}): Promise<ContainerRecord[]> {
    const out: ContainerRecord[] = []
    for (const c of this.ctx.containers.list()) {
      const s = await syncContainer(this.ctx, c)
      if (o.all === true || s.state === 'running' || s.state === 'paused') out.push(s)
    }
    return out
  }

  getContainer (ref: string): Promise<ContainerRecord> { return this.container(ref) }

  /**
   * The exit code of a container removed in the last five minutes (podman keeps such codes so that a client's wait
   * still answers after `--rm` removed the container: `podman --remote run --rm` waits only after the attach ends).
   */
  recentExitCode (ref: string): number | undefined {
    return this.ctx.events.lastExitCode(ref, Date.now() - RECENT_EXIT_MS)
  }

  // Resolves with the exit code once the container has stopped (condition 'stopped', the default).
  // 'started' is met by any start after `after` (a startedAt), even one whose process has exited already: a poll
  // for 'running' missed `docker run busybox echo` (created → running → exited between two looks) and hung.
  async waitContainer (ref: string, o: { condition?: 'stopped' | 'running' | 'started' | 'removed', after?: number, signal?: AbortSignal } = {}): Promise<number> {
    let c = await this.container(ref)
    const cond = o.condition ?? 'stopped'
    for (;;) {
      if (cond === 'running' && c.state === 'running') return 0
      if (cond === 'started' && (c.state === 'running' || c.state === 'paused' || c.startedAt !== (o.after ?? 0))) return 0
      if (cond === 'stopped' && (c.state === 'exited' || c.state === 'created')) return c.exitCode
      if (o.signal?.aborted === true) throw new EngineError('TIMEOUT', 'wait aborted')
      // fixed for API: a container being started (pid still 0) has no process to watch yet; waitExitFile's isAlive
      // was false at once, so this loop spun on microtasks and starved the start it waited for (docker run's wait).
      // runAlive: also conmon, which writes the exit file after the process has gone (same spin otherwise).
      if ((c.state === 'running' || c.state === 'paused') && c.pid > 0) {
        await waitExitFile(this.ctx.layout.exitFile(c.id), { timeoutMs: 1000, signal: o.signal, isAlive: () => runAlive(c) })
      } else await new Promise((resolve) => setTimeout(resolve, 100))
      const next = this.ctx.containers.get(c.id)
      if (next === undefined) {
        // Removed meanwhile: by conmon's exit command for an --rm container (docker run --rm waits for 'removed'),
        // often between two looks here. The record read last may still say created or running (exit code 0); the
        // run's exit code is then in its died event (startedAt is 0 before the first start).
        const code = c.state === 'exited' ? c.exitCode : this.ctx.events.lastExitCode(c.id, c.startedAt) ?? c.exitCode
        if (cond === 'removed' || cond === 'stopped') return code
        throw new EngineError('NO_SUCH_CONTAINER', `container ${ref} was removed while waiting`)
      }
      c = await syncContainer(this.ctx, next)
    }
  }

  async attachContainer (ref: string, streams: AttachStreams, o: { detachKeys?: string, signal?: AbortSignal } = {}): Promise<ContainerStartResult> {
    const c = await this.container(ref)
    if (c.state !== 'running') throw new EngineError('CONTAINER_NOT_RUNNING', `you can only attach to running containers: container state improper`)
    const sock = await connectAttachSocket(this.ctx.layout.bundle(c.id))
    return attachAndWait(this.ctx, c, sock, streams, o)
  }

  async resizeContainer (ref: string, height: number, width: number): Promise<void> {
    const c = await this.container(ref)
    if (c.state !== 'running') throw new EngineError('CONTAINER_NOT_RUNNING', `container ${c.name} is not running`)
    await writeResize(`${this.ctx.layout.bundle(c.id)}/ctl`, height, width)
  }

  async containerLogs (ref: string, o: LogsOptions, onLine: (l: LogLine) => void): Promise<void> {
    await containerLogs(this.ctx, await this.container(ref), o, onLine)
  }

  async topContainer (ref: string): Promise<{ titles: string[], processes: string[][] }> {
    const c = await this.container(ref)
    if (c.state !== 'running') throw new EngineError('CONTAINER_NOT_RUNNING', `container ${c.name} is not running`)
    const r = await this.ctx.runtime.run(['ps', '--format', 'json', c.id])
    const pids = r.code === 0 ? JSON.parse(r.stdout) as number[] : [c.pid]
    const clock = hostClock()
    const processes = pids.flatMap((pid) => {
      const p = sampleProcess(pid)
      return p === undefined ? [] : [topRow(pid, p, clock)]
    })
    return { titles: TOP_TITLES, processes }
  }

  // Brings every running container and exec session up to date: records exits nobody was attached to see (a
  // killed CLI, a restarted service) and removes their bundles. The service runs it at start and periodically.
  async sweep (): Promise<void> {
    for (const c of this.ctx.containers.list()) {
      if (c.state === 'running' || c.state === 'paused' || c.state === 'removing') await syncContainer(this.ctx, c).catch(() => undefined)
    }
    cleanStaging(this.ctx.cfg.root)
    pruneUnstartedExecSessions(this.ctx)
    pruneEndedExecSessions(this.ctx)
  }

  /** Lets go of the conmons spawned for sessions created but not started (the service stops). */
  releasePrepared (): Promise<void> { return dropAllPrepared(this.ctx) }

  /** conmon's exit command lands here. */
  cleanupContainer (id: string): Promise<void> { return cleanupContainer(this.ctx, id) }
  cleanupExec (sessionId: string): Promise<void> { return cleanupExec(this.ctx, sessionId) }

  async createExec (ref: string, o: ExecCreateOptions): Promise<ExecSessionRecord> { return createExecSession(this.ctx, await this.container(ref), o, ref) }
  async startExec (id: string, o?: ExecStartOptions): Promise<ExecResult> { return startExecSession(this.ctx, this.#session(id), o) }

  async exec (ref: string, o: ExecCreateOptions, start: ExecStartOptions): Promise<ExecResult & { id: string }> {
    const s = await createExecSession(this.ctx, ref === '' ? await this.latestContainer() : await this.container(ref), o)
    const r = await startExecSession(this.ctx, s, start)
    return { ...r, id: s.id }
  }

  async attachExec (id: string, streams: AttachStreams, o: { detachKeys?: string, signal?: AbortSignal } = {}): Promise<ExecResult> {
    return attachExecSession(this.ctx, this.#session(id), streams, o)
  }

  async resizeExec (id: string, height: number, width: number): Promise<void> { await resizeExecSession(this.ctx, this.#session(id), height, width) }
  async getExec (id: string): Promise<ExecSessionRecord> { return this.#session(id) }
  async stopExec (id: string, timeout = 10): Promise<void> { await stopExecSession(this.ctx, this.#session(id), timeout) }
  async removeExec (id: string, force = false): Promise<void> { await removeExecSession(this.ctx, this.#session(id), force) }
  async listExecs (ref: string): Promise<ExecSessionRecord[]> {
    const c = await this.container(ref)
    return this.ctx.execs.forContainer(c.id)
  }

  listImages (): Promise<ImageSummary[]> { return listImages(this.ctx) }
  getImage (ref: string): Promise<ImageSummary> { return getImage(this.ctx, ref) }
  tagImage (ref: string, name: string): Promise<void> { return tagImage(this.ctx, ref, name) }
  removeImage (ref: string, force?: boolean): Promise<string[]> { return removeImage(this.ctx, ref, force) }
  importImage (tarball: Readable, o: ImageImportOptions): Promise<ImageSummary> { return importImage(this.ctx, tarball, o) }
  loadImages (archive: Readable, onProgress?: (bytes: number) => void): Promise<string[]> { return loadImages(this.ctx, archive, onProgress) }

  // Delivers stored events (since/until), then, with follow, new ones until the signal aborts.
  async events (o: EventsOptions, onEvent: (e: EngineEvent) => void): Promise<void> {
    let seq = 0
    const deliver = (): boolean => {
      for (const r of this.ctx.events.list(seq, o.since ?? 0n)) {
        seq = r.seq
        if (o.until !== undefined && r.timeNs > o.until) return false
        onEvent({ time: Number(r.timeNs / 1_000_000_000n), timeNano: r.timeNs, type: r.type as EngineEvent['type'], action: r.action, id: r.actorId, attributes: r.attributes })
      }
      return true
    }
    if (!deliver() || o.follow !== true) return
    while (o.signal?.aborted !== true) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      if (!deliver()) return
      if (o.until !== undefined && BigInt(Date.now()) * 1_000_000n > o.until) return
    }
  }

  async info (): Promise<HostInfo> {
    const all = await this.listContainers({ all: true })
    let conmonVersion = 'unknown'
    try { conmonVersion = execFileSync(this.ctx.cfg.conmonPath, ['--version'], { encoding: 'utf8' }).split('\n')[0] } catch { /* keep unknown */ }
    let os = 'linux'
    try { os = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os } catch { /* keep linux */ }
    return {
      hostname: hostname(), kernel: release(), os, arch: arch(), cpus: cpus().length, memTotal: totalmem(),
      cgroupMode: this.ctx.cfg.cgroupMode, runtimeName: this.ctx.cfg.runtimeName, runtimePath: this.ctx.cfg.runtimePath,
      runtimeVersion: await this.ctx.runtime.version(), conmonPath: this.ctx.cfg.conmonPath, conmonVersion,
      root: this.ctx.cfg.root, runroot: this.ctx.cfg.runroot,
      containers: {
        total: all.length,
        running: all.filter((c) => c.state === 'running').length,
        paused: all.filter((c) => c.state === 'paused').length,
        stopped: all.filter((c) => c.state !== 'running' && c.state !== 'paused').length,
      },
      images: this.ctx.images.list().length,
      version: VERSION,
    }
  }

  close (): void {
    void dropAllPrepared(this.ctx)
    this.ctx.db.close()
  }
}
