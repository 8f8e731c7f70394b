// `create`: resolve the image, merge its config with the options, validate, and record the container.
// Nothing runs yet; the rootfs is mounted at start.
import { mkdirSync, existsSync, statSync } from 'node:fs'
import { isAbsolute } from 'node:path'
import type { EngineContext } from '../context'
import { emit } from '../context'
import type { ContainerCreateOptions, ContainerConfig, ContainerRecord } from '../types'
import { EngineError, invalid } from '../../errors'
import { generateId, isValidName, randomName } from '../../util/ids'
import { mergeEnv } from '../../oci/spec'
import { resolveImage } from '../image/image-service'
import { parseDetachKeys } from '../../oci/conmon/detach-keys'
import { specRlimits } from '../../oci/rlimits'

const SIGNALS = new Set(['SIGTERM', 'SIGKILL', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGSTOP', 'SIGCONT'])

// Validates one env entry `K=V` (or `K`, meaning K's value on the host, resolved by the caller).
export function checkEnv (e: string): void {
  const key = e.split('=', 1)[0]
  // The value is never quoted back: it may be a secret, and error messages end up in logs.
  if (key === '' || /[\s\0]/.test(key)) throw invalid(`invalid environment variable "${e.replace(/=[^]*$/, '=…')}": the name must be non-empty and contain no whitespace`)
}

// A working directory given for a container or an exec session must be absolute (the runtime's "Cwd must be an
// absolute path" would come only at the start, and, for a handed-over exec, on the caller's stderr too). Docker's words.
export function checkWorkdir (dir: string | undefined): void {
  if (dir !== undefined && dir !== '' && !dir.startsWith('/')) throw invalid(`the working directory '${dir}' is invalid, it needs to be an absolute path`)
}

export async function createContainer (ctx: EngineContext, o: ContainerCreateOptions): Promise<ContainerRecord> {
  const image = await resolveImage(ctx, o.image)
  const ic = image.config
  const name = o.name ?? randomName()
  if (!isValidName(name)) throw invalid(`invalid container name "${name}": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`)
  const entrypoint = o.entrypoint ?? ic.Entrypoint ?? []
  const command = o.command !== undefined && o.command.length > 0 ? o.command : (o.entrypoint !== undefined && o.entrypoint.length > 0 ? [] : (ic.Cmd ?? []))
  if (entrypoint.length === 0 && command.length === 0) throw invalid('no command or entrypoint provided, and no CMD or ENTRYPOINT from image')
  for (const e of o.env ?? []) checkEnv(e)
  checkWorkdir(o.workdir)
  for (const m of o.mounts ?? []) {
    if (!isAbsolute(m.source) || !existsSync(m.source)) throw invalid(`invalid volume "${m.source}:${m.destination}": the host path must be an existing absolute path`)
    if (!isAbsolute(m.destination)) throw invalid(`invalid volume "${m.source}:${m.destination}": the container path must be absolute`)
    statSync(m.source)
  }
  if (o.umask !== undefined && !/^[0-7]{1,4}$/.test(o.umask)) throw invalid(`invalid umask "${o.umask}": must be an octal number such as 0022`)
  if (o.stopTimeout !== undefined && (!Number.isInteger(o.stopTimeout) || o.stopTimeout < 0)) throw invalid('--stop-timeout must be a non-negative integer')
  // A limit above the engine's own hard limit could never start: refuse it now, not at every start.
  specRlimits(o.ulimits ?? [])
  const stopSignal = (o.stopSignal ?? ic.StopSignal ?? 'SIGTERM').toUpperCase()
  const sig = stopSignal.startsWith('SIG') ? stopSignal : 'SIG' + stopSignal
  if (!SIGNALS.has(sig)) throw invalid(`invalid stop signal "${stopSignal}"`)
  const id = generateId()
  const config: ContainerConfig = {
    command,
    entrypoint,
    env: mergeEnv(ic.Env ?? [], o.env ?? []),
    user: o.user ?? ic.User ?? '',
    workdir: o.workdir ?? (ic.WorkingDir !== undefined && ic.WorkingDir !== '' ? ic.WorkingDir : '/'),
    tty: o.tty ?? false,
    stdin: o.stdin ?? false,
    mounts: o.mounts ?? [],
    groupAdd: o.groupAdd ?? [],
    umask: o.umask ?? '0022',
    stopTimeout: o.stopTimeout ?? 10,
    ulimits: o.ulimits ?? [],
    network: o.network ?? 'none',
    autoRemove: o.autoRemove ?? false,
    hostname: o.hostname ?? id.slice(0, 12),
    labels: { ...(ic.Labels ?? {}), ...(o.labels ?? {}) },
    capAdd: o.capAdd ?? [],
    capDrop: o.capDrop ?? [],
    privileged: o.privileged ?? false,
    stopSignal: sig,
    noNewPrivileges: o.noNewPrivileges ?? false,
    seccomp: o.seccomp ?? 'default',
  }
  parseDetachKeys(ctx.cfg.detachKeys)
  const rec: ContainerRecord = {
    id, name, imageId: image.id, imageName: image.names[0] ?? image.id, config, state: 'created', pid: 0, pidStart: '',
    conmonPid: 0, exitCode: 0, oomKilled: false, createdAt: Date.now(), startedAt: 0, finishedAt: 0, restarts: 0,
  }
  // A generated name another container took meanwhile is generated again (Docker retries the same way; 8 parallel
  // `run` without --name collided now and then); a name the user chose stays theirs to change.
  for (let attempt = 1; ; attempt++) {
    try { ctx.containers.add(rec); break } catch (err) {
      if (o.name !== undefined || attempt >= 10 || !(err instanceof EngineError && err.code === 'NAME_IN_USE')) throw err
      rec.name = randomName()
    }
  }
  try {
    mkdirSync(ctx.layout.upperDir(id), { recursive: true, mode: 0o755 })
    mkdirSync(ctx.layout.workDir(id), { recursive: true, mode: 0o700 })
  } catch (err) {
    ctx.containers.remove(id)
    throw new EngineError('INTERNAL', `creating container storage: ${(err as Error).message}`, { cause: err })
  }
  emit(ctx, 'container', 'create', id, { name: rec.name, image: rec.imageName })
  return rec
}
