// Attaching to a container's conmon (run without -d, start -a, attach): pump the attach socket until the container
// exits or the user detaches, then report the exit code from the exit file.
import type { AttachSocket } from '../../oci/conmon/attach-socket'
import type { EngineContext } from '../context'
import type { AttachStreams, ContainerRecord, ContainerStartResult } from '../types'
import { pumpAttach } from '../../oci/conmon/attach-socket'
import { parseDetachKeys } from '../../oci/conmon/detach-keys'
import { waitExitFile } from '../../oci/conmon/exit-file'
import { finishContainer, runAlive } from './state-sync'

export async function attachAndWait (ctx: EngineContext, c: ContainerRecord, sock: AttachSocket, streams: AttachStreams, o: { detachKeys?: string, signal?: AbortSignal }): Promise<ContainerStartResult> {
  const keys = parseDetachKeys(o.detachKeys ?? ctx.cfg.detachKeys)
  const runStartedAt = ctx.containers.get(c.id)?.startedAt ?? c.startedAt
  const how = await pumpAttach(sock, { stdin: streams.stdin, stdout: streams.stdout, stderr: c.config.tty ? streams.stdout : streams.stderr, detachKeys: keys }, o.signal)
  if (how !== 'eof') return { detached: true }
  const code = await waitExitFile(ctx.layout.exitFile(c.id), {
    timeoutMs: 60_000,
    // fixed for API: runAlive counts conmon, which writes the exit file only after the process is gone.
    isAlive: () => { const r = ctx.containers.get(c.id); return r !== undefined && r.state === 'running' && (r.pid === 0 || runAlive(r)) },
  })
  if (code === undefined) {
    // Another process (conmon's exit command, rm) recorded the exit first. For `run --rm` that exit command also
    // removes the container, and can do it before this process reads anything (seen under load: `run --rm c true`
    // exiting 255): then the exit code is in the container's `died` event. Not the record read before the wait: it
    // still says running, exit code 0.
    const code2 = ctx.containers.get(c.id)?.exitCode ?? ctx.events.lastExitCode(c.id, runStartedAt)
    return { exitCode: code2 ?? -1, detached: false }
  }
  await finishContainer(ctx, ctx.containers.get(c.id) ?? c, code)
  return { exitCode: code, detached: false }
}
