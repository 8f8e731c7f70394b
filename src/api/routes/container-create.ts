// POST /containers/create: Docker's ContainerCreateRequest (Config + HostConfig, swagger's ContainerConfig and
// HostConfig) → ContainerCreateOptions, once. Options conex cannot honour (port publishing, restart policies,
// resource limits, named volumes) are refused with 501 rather than silently dropped.
import { EngineError, invalid } from '../../errors'
import type { ContainerCreateOptions, Mount } from '../../engine/types'
import { s, type Infer } from '../schema'

const Ulimit = s.obj('Ulimit', { Name: s.str({ maxLength: 64 }), Soft: s.int({ goType: 'int64', min: -1 }), Hard: s.int({ goType: 'int64', min: -1 }) })
const MountSpec = s.obj('Mount', { Type: s.str({ enum: ['bind', 'volume', 'tmpfs', 'npipe', 'cluster', 'image'] }), Source: s.str({ maxLength: 4096 }), Target: s.str({ maxLength: 4096 }), ReadOnly: s.bool() })

export const HostConfigSchema = s.obj('HostConfig', {
  Binds: s.arr(s.str({ maxLength: 8192 })),
  AutoRemove: s.bool(),
  NetworkMode: s.str({ maxLength: 256 }),
  Privileged: s.bool(),
  CapAdd: s.arr(s.str({ maxLength: 64 })),
  CapDrop: s.arr(s.str({ maxLength: 64 })),
  GroupAdd: s.arr(s.str({ maxLength: 256 })),
  Ulimits: s.arr(Ulimit),
  Mounts: s.arr(MountSpec),
  Init: s.bool(),
  ReadonlyRootfs: s.bool(),
  RestartPolicy: s.obj('RestartPolicy', { Name: s.str({ enum: ['', 'no', 'always', 'unless-stopped', 'on-failure'] }), MaximumRetryCount: s.int({ min: 0 }) }),
  PortBindings: s.map(s.any()),
  PublishAllPorts: s.bool(),
  Memory: s.int({ goType: 'int64', min: 0 }),
  NanoCpus: s.int({ goType: 'int64', min: 0 }),
  CpuShares: s.int({ goType: 'int64', min: 0 }),
  ConsoleSize: s.tuple(s.int({ min: 0, max: 65535, goType: 'uint' }), 2),
  Runtime: s.str({ maxLength: 256 }),
})

export const CreateBodySchema = s.obj('Config', {
  Hostname: s.str({ maxLength: 253 }),
  Domainname: s.str({ maxLength: 253 }),
  User: s.str({ maxLength: 256 }),
  AttachStdin: s.bool(),
  AttachStdout: s.bool(),
  AttachStderr: s.bool(),
  Tty: s.bool(),
  OpenStdin: s.bool(),
  StdinOnce: s.bool(),
  Env: s.arr(s.str({ maxLength: 131072 })),
  Cmd: s.strslice(),
  Entrypoint: s.strslice(),
  Image: s.str({ maxLength: 512 }),
  Labels: s.map(s.str()),
  WorkingDir: s.str({ maxLength: 4096 }),
  StopSignal: s.str({ maxLength: 32 }),
  StopTimeout: s.int({ min: 0 }),
  ExposedPorts: s.map(s.any()),
  Volumes: s.map(s.any()),
  Healthcheck: s.any(),
  NetworkingConfig: s.any(),
  HostConfig: HostConfigSchema,
})

export type CreateBody = Infer<typeof CreateBodySchema>
type HostConfig = Infer<typeof HostConfigSchema>

const notSupported = (what: string): EngineError => new EngineError('NOT_IMPLEMENTED', `${what} is not supported by conex`)

// Parses one `-v` bind: `/host:/ctr[:ro|rw|z|Z|...]`; named volumes are not supported.
export function parseBind (b: string): Mount {
  const parts = b.split(':')
  if (parts.length < 2 || parts.length > 3) throw invalid(`invalid volume specification: '${b}'`)
  const [source, destination, opts = ''] = parts
  if (!source.startsWith('/')) throw notSupported(`named volume "${source}"`)
  const flags = opts === '' ? [] : opts.split(',')
  for (const f of flags) if (!['ro', 'rw', 'z', 'Z', 'rprivate', 'private', 'rshared', 'shared', 'rslave', 'slave', 'nocopy'].includes(f)) throw invalid(`invalid mode: ${f}`)
  return { source, destination, readonly: flags.includes('ro') }
}

function mountsOf (h: HostConfig): Mount[] {
  const out = (h.Binds ?? []).map(parseBind)
  for (const m of h.Mounts ?? []) {
    if (m.Type !== undefined && m.Type !== 'bind') throw notSupported(`mount type "${m.Type}"`)
    if (m.Source === undefined || m.Target === undefined) throw invalid('a bind mount needs Source and Target')
    out.push({ source: m.Source, destination: m.Target, readonly: m.ReadOnly === true })
  }
  return out
}

function networkOf (mode: string | undefined): 'none' | 'host' | undefined {
  if (mode === undefined || mode === '' || mode === 'default' || mode === 'bridge') return undefined
  if (mode === 'none' || mode === 'host') return mode
  throw notSupported(`network mode "${mode}"`)
}

function checkUnsupported (h: HostConfig): void {
  if (h.RestartPolicy?.Name !== undefined && h.RestartPolicy.Name !== '' && h.RestartPolicy.Name !== 'no') throw notSupported(`restart policy "${h.RestartPolicy.Name}"`)
  if (Object.keys(h.PortBindings ?? {}).length > 0 || h.PublishAllPorts === true) throw notSupported('publishing ports (containers have no network namespace of their own)')
  if ((h.Memory ?? 0) > 0 || (h.NanoCpus ?? 0) > 0 || (h.CpuShares ?? 0) > 0) throw notSupported('resource limits (Memory, NanoCpus, CpuShares)')
  if (h.ReadonlyRootfs === true) throw notSupported('a read-only root filesystem')
}

// The mapping, done once: Docker's create body (and ?name=) → engine options.
export function toCreateOptions (b: CreateBody | undefined, name: string | undefined): ContainerCreateOptions {
  if (b === undefined) throw invalid('config cannot be empty in order to create a container')
  if (b.Image === undefined || b.Image === '') throw invalid('no image specified: Config.Image is required')
  const h = b.HostConfig ?? {}
  checkUnsupported(h)
  const entrypoint = b.Entrypoint === undefined ? undefined : (b.Entrypoint.length === 1 && b.Entrypoint[0] === '' ? [] : b.Entrypoint)
  return {
    image: b.Image,
    name: name === undefined || name === '' ? undefined : name.replace(/^\//, ''),
    command: b.Cmd,
    entrypoint,
    env: b.Env,
    user: b.User === '' ? undefined : b.User,
    workdir: b.WorkingDir === '' ? undefined : b.WorkingDir,
    tty: b.Tty,
    stdin: b.OpenStdin,
    mounts: mountsOf(h),
    groupAdd: h.GroupAdd,
    stopTimeout: b.StopTimeout,
    ulimits: h.Ulimits?.map((u) => ({ name: (u.Name ?? '').replace(/^RLIMIT_/i, '').toLowerCase(), soft: u.Soft ?? 0, hard: u.Hard ?? 0 })),
    network: networkOf(h.NetworkMode),
    autoRemove: h.AutoRemove,
    hostname: b.Hostname === '' ? undefined : b.Hostname,
    labels: b.Labels,
    capAdd: h.CapAdd,
    capDrop: h.CapDrop,
    privileged: h.Privileged,
    stopSignal: b.StopSignal === '' ? undefined : b.StopSignal,
  }
}
