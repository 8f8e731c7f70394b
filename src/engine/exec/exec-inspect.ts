// Docker's ExecInspectResponse for a session (moby api/swagger.yaml), the one shape both `GET /exec/{id}/json` and
// `conex exec inspect` print: ExitCode null while running, as dockerd; DetachKeys as bytes, base64 in JSON (the
// keys were checked when the session was created).
import { parseDetachKeys } from '../../oci/conmon/detach-keys'
import type { ExecSessionRecord } from '../types'

export function dockerExecInspect (s: ExecSessionRecord): Record<string, unknown> {
  return {
    ID: s.id,
    Running: s.state === 'running',
    ExitCode: s.state === 'stopped' ? s.exitCode : null,
    // user is `omitempty` in Docker's ExecProcessConfig: absent unless one was asked for.
    ProcessConfig: { tty: s.config.tty, entrypoint: s.config.command[0] ?? '', arguments: s.config.command.slice(1), privileged: s.config.privileged, ...(s.config.user !== '' ? { user: s.config.user } : {}) },
    OpenStdin: s.config.attachStdin,
    OpenStderr: s.config.attachStderr,
    OpenStdout: s.config.attachStdout,
    CanRemove: s.state === 'stopped',
    ContainerID: s.containerId,
    DetachKeys: parseDetachKeys(s.config.detachKeys).toString('base64'),
    Pid: s.pid,
  }
}
