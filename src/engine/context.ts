// Everything an engine operation needs, passed explicitly (no module-level globals): configuration, the stores,
// the runtime and the disk layout.
import { mkdirSync } from 'node:fs'
import type { EngineConfig } from '../config'
import { openDb, type Db } from '../store/db'
import { ContainerStore } from '../store/containers'
import { ExecSessionStore } from '../store/exec-sessions'
import { ImageStore } from '../store/images'
import { EventStore } from '../store/events'
import { OciRuntime } from '../oci/runtime'
import { Layout } from './layout'

export interface EngineContext {
  cfg: EngineConfig
  db: Db
  containers: ContainerStore
  execs: ExecSessionStore
  images: ImageStore
  events: EventStore
  runtime: OciRuntime
  layout: Layout
  /** How conmon's exit command calls conex back: [node, script, global flags...]. */
  selfCommand: string[]
  /** Who asked (audit): a uid, or 'cli:<uid>'. */
  requester: string
  /** Work left to finish after a reply (see defer); the CLI waits for it before it exits. */
  pending: Set<Promise<void>>
  /** One command, then exit (the CLI): work meant for after a reply is done at once, synchronously. */
  oneShot: boolean
}

export interface ContextOptions {
  cfg: EngineConfig
  selfCommand: string[]
  requester?: string
  oneShot?: boolean
}

// Opens the store under cfg.root and prepares runroot.
export function openContext (o: ContextOptions): EngineContext {
  const { cfg } = o
  const layout = new Layout(cfg.root, cfg.runroot)
  mkdirSync(cfg.runroot, { recursive: true, mode: 0o700 })
  mkdirSync(layout.exitDir(), { recursive: true })
  const db = openDb(cfg.root)
  return {
    cfg,
    db,
    containers: new ContainerStore(db),
    execs: new ExecSessionStore(db),
    images: new ImageStore(db),
    events: new EventStore(db),
    runtime: new OciRuntime({
      runtimePath: cfg.runtimePath, runtimeName: cfg.runtimeName, conmonPath: cfg.conmonPath,
      stateDir: layout.runtimeState(), cgroupMode: cfg.cgroupMode,
    }),
    layout,
    selfCommand: o.selfCommand,
    requester: o.requester ?? `uid:${process.getuid?.() ?? 0}`,
    pending: new Set(),
    oneShot: o.oneShot ?? false,
  }
}

// Runs `work` without making the caller wait (removing an exec bundle once its exit is recorded, so the client's
// stream can end first). Failures are ignored: what it cleans up is found again by the reaper. settle() waits.
export function defer (ctx: EngineContext, work: Promise<unknown>): void {
  const p: Promise<void> = work.then(() => undefined, () => undefined).finally(() => { ctx.pending.delete(p) })
  ctx.pending.add(p)
}

// Waits for every deferred piece of work (the CLI before it exits).
export async function settle (ctx: EngineContext): Promise<void> {
  while (ctx.pending.size > 0) await Promise.all([...ctx.pending])
}

// Records an event (container, exec or image) for `conex events` and the API's /events.
export function emit (ctx: EngineContext, type: 'container' | 'exec' | 'image', action: string, id: string, attrs: Record<string, string>): void {
  try { ctx.events.add(type, action, id, attrs) } catch { /* events never fail an operation */ }
}
