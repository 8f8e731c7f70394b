// Stopping and removing exec sessions: SIGTERM, wait the timeout, then SIGKILL (really SIGKILL: the reference
// design's v3 code sent SIGTERM twice), each only to the same process that started (pid + start time guard).
import type { EngineContext } from '../context'
import type { ExecSessionRecord } from '../types'
import { EngineError } from '../../errors'
import { signalProcess, waitProcessGone } from '../../util/proc'
import { reapExecSession, execTx } from './exec-reaper'
import { cleanupExecBundle } from '../../oci/conmon/exec-session'

const KILL_WAIT_MS = 5000

export async function stopExecSession (ctx: EngineContext, s: ExecSessionRecord, timeoutSeconds: number): Promise<void> {
  if (s.state !== 'running' || s.pid <= 0) return
  let gone = false
  if (timeoutSeconds > 0 && signalProcess(s.pid, s.pidStart, 'SIGTERM')) {
    gone = await waitProcessGone(s.pid, s.pidStart, timeoutSeconds * 1000)
  }
  if (!gone && signalProcess(s.pid, s.pidStart, 'SIGKILL')) {
    gone = await waitProcessGone(s.pid, s.pidStart, KILL_WAIT_MS)
    if (!gone) throw new EngineError('TIMEOUT', `exec session ${s.id} did not die within ${KILL_WAIT_MS / 1000}s of SIGKILL`)
  }
  // Give conmon a moment to write the exit file, then record whatever it wrote.
  for (let i = 0; i < 50; i++) {
    const cur = ctx.execs.get(s.id)
    if (cur === undefined || cur.state === 'stopped') return
    if (reapExecSession(ctx, cur, true) !== undefined) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

export async function removeExecSession (ctx: EngineContext, s: ExecSessionRecord, force: boolean): Promise<void> {
  if (s.state === 'running') {
    if (!force) throw new EngineError('EXEC_STATE', `cannot remove exec session ${s.id}: it is running; stop it first or use force`)
    await stopExecSession(ctx, s, 0)
  }
  cleanupExecBundle(ctx.layout.execBundle(s.id))
  execTx(ctx, () => ctx.execs.remove(s.id))
}
