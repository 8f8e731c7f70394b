// `conex container cleanup`: what conmon's exit command runs when a container or a detached exec session ends, with
// no other conex process around. It records the exit and releases the run's resources; --rm containers go.
import type { EngineContext } from '../context'
import { syncContainer, finishContainer, readRunExit } from './state-sync'
import { removeContainer } from './stop'
import { reapExecSession } from '../exec/exec-reaper'

export async function cleanupContainer (ctx: EngineContext, id: string): Promise<void> {
  const c = ctx.containers.get(id)
  if (c === undefined) return
  const code = readRunExit(ctx, c)
  if (code !== undefined && (c.state === 'running' || c.state === 'paused')) await finishContainer(ctx, c, code)
  const now = await syncContainer(ctx, ctx.containers.get(id) ?? c)
  if (now.config.autoRemove && now.state === 'exited') await removeContainer(ctx, now, {}).catch(() => undefined)
}

export async function cleanupExec (ctx: EngineContext, sessionId: string): Promise<void> {
  const s = ctx.execs.get(sessionId)
  if (s === undefined) return
  const c = ctx.containers.get(s.containerId)
  reapExecSession(ctx, s, c !== undefined && c.state === 'running')
}
