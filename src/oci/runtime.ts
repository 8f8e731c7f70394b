// The OCI runtime layer: a thin wrapper around conmon and the runtime binary (runc/crun). It does no state
// management, no locking and no database access; the engine calls it and records the results.
import { execFile } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { spawnConmon } from './conmon/spawn'
import { containerConmonArgs } from './conmon/conmon-args'
import { readOciLog, runtimeError } from './conmon/runtime-error'
import { SealedRuntime } from './sealed-runtime'
import type { CgroupMode } from './cgroups'
import { EngineError } from '../errors'

export interface RuntimeOptions {
  runtimePath: string
  runtimeName: string
  conmonPath: string
  /** runc's --root: its state directory, one per conex runroot. */
  stateDir: string
  cgroupMode: CgroupMode
}

export interface CreateContainerOptions {
  id: string
  name: string
  bundle: string
  pidFile: string
  conmonPidFile: string
  exitDir: string
  logPath: string
  tty: boolean
  stdin: boolean
  exitCommand?: string[]
  conmonCgroup?: string
}

export interface RunResult { code: number, stdout: string, stderr: string }

const RUNTIME_TIMEOUT_MS = 120_000

export class OciRuntime {
  readonly o: RuntimeOptions
  #sealed: SealedRuntime | undefined

  constructor (o: RuntimeOptions) {
    this.o = o
    mkdirSync(o.stateDir, { recursive: true, mode: 0o700 })
  }

  /**
   * From now on conmon runs a sealed copy of the runtime's binary (src/oci/sealed-runtime.ts: the work runc does at
   * every create and exec to protect its binary is then done once); for a long-lived process, the API service.
   * Whether a copy could be made. `linkRoot`: where the link conmon is given lives (Layout.sealedRuntimeLinks).
   */
  keepSealedCopy (linkRoot: string): boolean {
    this.#sealed ??= SealedRuntime.make(this.o.runtimePath, { linkRoot })
    return this.#sealed !== undefined
  }

  /** Lets the sealed copy go (the service's stop); conmon runs the binary itself again. */
  dropSealedCopy (): void {
    this.#sealed?.close()
    this.#sealed = undefined
  }

  /** The runtime's path as conmon gets it: the sealed copy while there is one. */
  get conmonRuntimePath (): string { return this.#sealed?.path() ?? this.o.runtimePath }

  /** Global flags every runtime call gets. */
  get globalArgs (): string[] { return ['--root', this.o.stateDir] }

  // Runs the runtime binary directly (never through a shell).
  run (args: string[]): Promise<RunResult> {
    return new Promise((resolve) => {
      execFile(this.o.runtimePath, [...this.globalArgs, ...args], { timeout: RUNTIME_TIMEOUT_MS, maxBuffer: 16 << 20 },
        (err, stdout, stderr) => {
          const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1
          resolve({ code, stdout, stderr })
        })
    })
  }

  async #check (args: string[], context: string): Promise<RunResult> {
    const r = await this.run(args)
    if (r.code !== 0) {
      const msg = (r.stderr.trim() !== '' ? r.stderr : r.stdout).replace(/^time="[^"]*" level=\w+ msg="(.*)"$/m, '$1')
      throw new EngineError('RUNTIME_ERROR', `${context}: ${this.o.runtimeName}: ${msg.trim().split('\n').pop() ?? 'failed'}`)
    }
    return r
  }

  // Creates the container under a new conmon (runtime `create`); resolves with the container's host pid.
  async createContainer (o: CreateContainerOptions): Promise<{ pid: number }> {
    mkdirSync(o.exitDir, { recursive: true })
    const ociLog = join(o.bundle, 'oci-log')
    rmSync(ociLog, { force: true })
    const args = containerConmonArgs({
      containerId: o.id, cuuid: o.id, name: o.name, runtimePath: this.conmonRuntimePath, runtimeArgs: this.globalArgs,
      bundle: o.bundle, pidFile: o.pidFile, exitDir: o.exitDir, logPath: o.logPath, ociLog, tty: o.tty, stdin: o.stdin,
      exitCommand: o.exitCommand, conmonPidFile: o.conmonPidFile, socketDir: o.bundle,
    })
    const conmon = await spawnConmon({
      conmonPath: this.o.conmonPath, args, cwd: o.bundle,
      cgroup: o.conmonCgroup === undefined ? undefined : { mode: this.o.cgroupMode, path: o.conmonCgroup },
    })
    try {
      await conmon.start()
      const m = await conmon.sync.next()
      if (m === undefined || m.data <= 0) {
        const msg = readOciLog(ociLog) ?? m?.message ?? (conmon.stderr().trim() || 'container create failed (no logs from conmon)')
        throw runtimeError(this.o.runtimeName, msg, `creating container ${o.name}`)
      }
      return { pid: m.data }
    } finally {
      conmon.close()
    }
  }

  async start (id: string): Promise<void> { await this.#check(['start', id], `starting container ${id}`) }

  // Sends a signal to the container's init (or to every process with `all`).
  async kill (id: string, signal: string, all = false): Promise<void> {
    const r = await this.run(['kill', ...(all ? ['--all'] : []), id, signal])
    if (r.code !== 0 && !/not running|does not exist|process already finished|container not running/i.test(r.stderr)) {
      throw new EngineError('RUNTIME_ERROR', `killing container ${id}: ${r.stderr.trim()}`)
    }
  }

  async pause (id: string): Promise<void> { await this.#check(['pause', id], `pausing container ${id}`) }
  async resume (id: string): Promise<void> { await this.#check(['resume', id], `unpausing container ${id}`) }

  // Deletes the runtime's record of the container (force kills it first); absent containers are fine.
  async delete (id: string, force = false): Promise<void> {
    const r = await this.run(['delete', ...(force ? ['--force'] : []), id])
    if (r.code !== 0 && !/does not exist|not found/i.test(r.stderr)) {
      throw new EngineError('RUNTIME_ERROR', `deleting container ${id}: ${r.stderr.trim()}`)
    }
  }

  // The runtime's view of the container: its status, or undefined when the runtime does not know it.
  async state (id: string): Promise<{ status: string, pid: number } | undefined> {
    const r = await this.run(['state', id])
    if (r.code !== 0) return undefined
    try {
      const s = JSON.parse(r.stdout) as { status: string, pid: number }
      return { status: s.status, pid: s.pid }
    } catch { return undefined }
  }

  async version (): Promise<string> {
    return new Promise((resolve) => {
      execFile(this.o.runtimePath, ['--version'], (err, out) => resolve(err === null ? out.split('\n')[0] : 'unknown'))
    })
  }
}
