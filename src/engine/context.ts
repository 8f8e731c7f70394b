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
import { trace } from '../util/trace'

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
  /** One command, then exit (the CLI): work meant for after a reply is done at once, synchronously (see defer). */
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
  trace('store: opened')
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
    oneShot: o.oneShot ?? false,
  }
}

// Work that can wait until after a reply (removing an exec bundle once its exit is recorded, so that the client's
// stream ends first). The service starts `later` without waiting for it; failures are ignored (the reaper finds what
// it leaves), and the pending I/O keeps the process alive until it is done. A one-shot context (the CLI) has no one
// to reply to first and exits right after: it runs `now` at once, synchronously (in a fresh process the thread
// pool's first use costs more than the work: 6-7 ms against 1-2 for an exec bundle).
export function defer (ctx: EngineContext, now: () => void, later: () => Promise<unknown>): void {
  if (ctx.oneShot) { now(); return }
  void later().catch(() => undefined)
}

// The map a module keeps per context (caches, prepared conmons, last-run times), made on first use.
export function perContext<V> (w: WeakMap<EngineContext, Map<string, V>>, ctx: EngineContext): Map<string, V> {
  let m = w.get(ctx)
  if (m === undefined) w.set(ctx, m = new Map())
  return m
}

// Records an event (container, exec or image) for `conex events` and the API's /events.
export function emit (ctx: EngineContext, type: 'container' | 'exec' | 'image', action: string, id: string, attrs: Record<string, string>): void {
  try { ctx.events.add(type, action, id, attrs) } catch { /* events never fail an operation */ }
}
