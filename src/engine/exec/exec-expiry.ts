// Exec sessions created but never started (a client that creates an exec and never calls start, a CI runner killed
// in between) are removed once older than cfg.execCreatedTimeoutSeconds, so such clients cannot grow the store
// while their container runs. Started sessions are never touched here (exec-reaper records their end, and the
// retention bound prunes them). Runs in the service's sweep and once per CLI command that opens the store.
import type { EngineContext } from '../context'
import { execTx } from './exec-reaper'

// Removes the expired never-started sessions; returns how many went. A read first, so the common case takes no
// write lock. A start racing the removal either claims the session first (it is then running and stays) or finds
// it gone; the state check is inside the DELETE.
export function pruneUnstartedExecSessions (ctx: EngineContext, now = Date.now()): number {
  const timeout = ctx.cfg.execCreatedTimeoutSeconds
  if (!(timeout > 0)) return 0
  const before = now - timeout * 1000
  if (!ctx.execs.anyCreatedBefore(before)) return 0
  return execTx(ctx, () => ctx.execs.pruneCreated(before))
}
