// The exec endpoints, shared by the Docker API and libpod (which differ only in small ways, noted where they do):
//   POST /containers/{id}/exec   create  → 201 {Id}
//   POST /exec/{id}/start        Detach → 200 empty; else hijack: the head, then the process's stream
//   POST /exec/{id}/resize       200 (libpod 201)
//   GET  /exec/{id}/json         Docker's ExecInspectResponse (libpod: podman's InspectExecSession)
//   POST /exec/{id}/remove       libpod only
// Start keeps the connection open until the engine has recorded the exit code, so a client that inspects right
// after EOF always finds it (podman #6893).
import type { Socket } from 'node:net'
import type { ExecCreateOptions, ExecSessionRecord } from '../../engine/types'
import { describePeer } from '../../util/peercred'
import { EngineError, invalid } from '../../errors'
import { route } from '../route'
import { q } from '../query'
import { s, type Infer } from '../schema'
import { execInspect } from '../docker-shapes'
import { Hijack } from '../hijack'
import { multiplexedLabel } from './container-io'

/** conmon refuses window sizes above this (and older conmons misbehave with them). */
export const MAX_TTY_SIZE = 1000

const Size = s.tuple(s.int({ min: 0, max: MAX_TTY_SIZE, goType: 'uint' }), 2)

export const ExecCreateSchema = s.obj('ExecConfig', {
  AttachStdin: s.bool(),
  AttachStdout: s.bool(),
  AttachStderr: s.bool(),
  ConsoleSize: Size,
  DetachKeys: s.str({ maxLength: 256 }),
  Tty: s.bool(),
  Env: s.arr(s.str({ maxLength: 131072 })),
  Cmd: s.arr(s.str({ maxLength: 131072 })),
  Privileged: s.bool(),
  User: s.str({ maxLength: 256 }),
  WorkingDir: s.str({ maxLength: 4096 }),
})

const ExecStartSchema = s.obj('ExecStartConfig', {
  Detach: s.bool(),
  Tty: s.bool(),
  ConsoleSize: Size,
  // libpod's start body names the size h and w.
  h: s.int({ min: 0, max: MAX_TTY_SIZE, goType: 'uint16' }),
  w: s.int({ min: 0, max: MAX_TTY_SIZE, goType: 'uint16' }),
})

type ExecCreateBody = Infer<typeof ExecCreateSchema>

const sizeOf = (v: number[] | undefined): [number, number] | undefined => v !== undefined && v[0] > 0 && v[1] > 0 ? [v[0], v[1]] : undefined

// Docker's exec create body → engine options, once. TERM is only added for a tty session (as dockerd and podman).
export function toExecOptions (b: ExecCreateBody | undefined, o: { libpod?: boolean } = {}): ExecCreateOptions {
  // Each server's own words: dockerd's, or podman's (its define.ErrInvalidArg wrapped, as podman remote prints it).
  if (b?.Cmd === undefined || b.Cmd.length === 0) throw invalid(o.libpod === true ? 'must provide a non-empty command to start an exec session: invalid argument' : 'No exec command specified')
  const tty = b.Tty === true
  return {
    command: b.Cmd,
    env: b.Env,
    user: b.User === '' ? undefined : b.User,
    workdir: b.WorkingDir === '' ? undefined : b.WorkingDir,
    tty,
    attachStdin: b.AttachStdin === true,
    attachStdout: b.AttachStdout === true,
    attachStderr: b.AttachStderr === true,
    privileged: b.Privileged === true,
    // "" means "the default" in the API (dockerd; podman remote sends "" when the flag is not given).
    detachKeys: b.DetachKeys === '' ? undefined : b.DetachKeys,
    consoleSize: tty ? sizeOf(b.ConsoleSize) : undefined,
    addTerm: tty,
  }
}

// podman's InspectExecSession: like Docker's, but ExitCode is a number (0 while running) and DetachKeys a string.
function libpodExecInspect (se: ExecSessionRecord): Record<string, unknown> {
  return { ...execInspect(se), ExitCode: se.exitCode ?? 0, DetachKeys: se.config.detachKeys }
}

// Who asked, for the audit trail: the unix socket peer's uid and pid (SO_PEERCRED), or "unknown" (TCP).
const requesterOf = (c: { x: { req: { socket: unknown } } }): string => describePeer(c.x.req.socket as Socket)

export const execRoutes = [
  route({
    method: 'POST',
    path: '/containers/{id}/exec',
    body: ExecCreateSchema,
    handler: async (c) => {
      const se = await c.engine.createExec(c.params.id, { ...toExecOptions(c.body, { libpod: c.libpod !== undefined }), requester: requesterOf(c) })
      c.x.json(201, { Id: se.id })
    },
  }),
  route({
    method: 'POST',
    path: '/exec/{id}/start',
    // conex's own: ?record=/abs/path.cast records the attached session as asciicast v2 (docs/web.md).
    query: { record: q.str({ maxLength: 4096, pattern: /^\// }) },
    body: ExecStartSchema,
    handler: async (c) => {
      const b = c.body ?? {}
      const recordPath = c.query.record
      if (recordPath !== undefined && b.Detach === true) throw invalid('record needs an attached session: it cannot be used with Detach')
      const se = await c.engine.getExec(c.params.id)
      // Docker frames by the start body's Tty (what the client says it can read); podman's server by the session's
      // own, whatever the body says: podman remote sends Tty false when its stdin is not a terminal, even for `-t`.
      const tty = c.libpod !== undefined ? se.config.tty : b.Tty ?? se.config.tty
      const consoleSize = tty ? sizeOf(b.ConsoleSize) ?? sizeOf(b.h !== undefined && b.w !== undefined ? [b.h, b.w] : undefined) : undefined
      if (b.Detach === true) {
        await c.engine.startExec(se.id, { detach: true, consoleSize, requester: requesterOf(c) })
        c.x.send(200)
        return
      }
      // Checked before the hijack so that they are HTTP statuses (404, 409); the head must then go out before the
      // process starts: podman remote reads the stream from the raw socket, and bytes that arrive together with the
      // head end up in its HTTP reader's buffer and are lost.
      if (se.state !== 'created') throw new EngineError('EXEC_STATE', `exec session ${se.id} has already ${se.state === 'running' ? 'been started' : 'run'}`)
      const ctr = await c.engine.getContainer(se.containerId)
      if (ctr.state === 'paused') throw new EngineError('CONTAINER_PAUSED', `container ${ctr.name} is paused, unpause the container before exec`)
      if (ctr.state !== 'running') throw new EngineError('CONTAINER_NOT_RUNNING', `container ${ctr.name} is not running`)
      const h = new Hijack(c.x, { tty, multiplexedLabel: multiplexedLabel(c), headers: c.headers, log: c.log })
      if (!se.config.attachStdin) h.ignoreInput()
      h.sendHead()
      try {
        // stdin is made on first use: a session with passthrough pipes splices from the connection's fd instead
        const streams = { get stdin () { return h.stdin }, stdinFd: () => h.takeStdinFd(), stdout: h.stdout, stderr: h.stderr, onEnded: () => { h.endNow() } }
        await c.engine.startExec(se.id, { streams, consoleSize, signal: h.signal, recordPath, requester: requesterOf(c) })
        await h.end()
      } catch (err) {
        h.fail(err)
      }
    },
  }),
  route({
    method: 'POST',
    path: '/exec/{id}/resize',
    query: { h: q.int({ min: 0, max: MAX_TTY_SIZE, required: true }), w: q.int({ min: 0, max: MAX_TTY_SIZE, required: true }), running: q.bool() },
    handler: async (c) => {
      await c.engine.resizeExec(c.params.id, c.query.h as number, c.query.w as number)
      if (c.libpod !== undefined) c.x.send(201)
      else c.x.send(200)
    },
  }),
  route({
    method: 'GET',
    path: '/exec/{id}/json',
    handler: async (c) => {
      const se = await c.engine.getExec(c.params.id)
      c.x.json(200, c.libpod !== undefined ? libpodExecInspect(se) : execInspect(se))
    },
  }),
]

// libpod's exec routes: the same handlers under /libpod, plus remove.
export const libpodExecRoutes = [
  ...execRoutes.map((r) => ({ ...r, path: `/libpod${r.path}` })),
  route({
    method: 'POST',
    path: '/libpod/exec/{id}/remove',
    body: s.obj('ExecRemoveConfig', { Force: s.bool() }),
    handler: async (c) => {
      await c.engine.removeExec(c.params.id, c.body?.Force === true)
      c.x.send(200)
    },
  }),
]
