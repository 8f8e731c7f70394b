// Engine records → podman's libpod JSON shapes: ListContainer (`podman ps`), InspectContainerData (`podman
// inspect`), and the SpecGenerator → ContainerCreateOptions mapping for POST /libpod/containers/create.
import { constants } from 'node:os'
import type { ContainerCreateOptions, ContainerRecord } from '../../../engine/types'
import { invalid, EngineError } from '../../../errors'
import { s, type Infer } from '../../schema'
import { imageId } from '../../docker-shapes'
import { rfc3339 } from '../../../util/time'

const isLive = (c: ContainerRecord): boolean => c.state === 'running' || c.state === 'paused'

// One row of GET /libpod/containers/json (podman's entities.ListContainer).
export function listContainer (c: ContainerRecord): Record<string, unknown> {
  return {
    AutoRemove: c.config.autoRemove,
    Command: [...c.config.entrypoint, ...c.config.command],
    Created: rfc3339(c.createdAt),
    CreatedAt: '',
    Exited: c.state === 'exited',
    ExitedAt: Math.floor(c.finishedAt / 1000),
    ExitCode: c.exitCode,
    Id: c.id,
    Image: c.imageName,
    ImageID: c.imageId,
    IsInfra: false,
    Labels: c.config.labels,
    Mounts: c.config.mounts.map((m) => m.destination),
    Names: [c.name],
    Namespaces: {},
    Networks: [],
    Pid: isLive(c) ? c.pid : 0,
    Pod: '',
    PodName: '',
    Ports: null,
    Size: null,
    StartedAt: Math.floor(c.startedAt / 1000),
    State: c.state,
    Status: '',
  }
}

// GET /libpod/containers/{id}/json (the fields of podman's InspectContainerData that clients read).
export function inspectContainer (c: ContainerRecord, x: { execIds: string[], runtime: string, logPath: string }): Record<string, unknown> {
  const args = [...c.config.entrypoint, ...c.config.command]
  return {
    Id: c.id,
    Created: rfc3339(c.createdAt),
    Path: args[0] ?? '',
    Args: args.slice(1),
    State: {
      OciVersion: '1.0.2-dev', Status: c.state, Running: c.state === 'running', Paused: c.state === 'paused', Restarting: false,
      OOMKilled: c.oomKilled, Dead: false, Pid: isLive(c) ? c.pid : 0, ConmonPid: isLive(c) ? c.conmonPid : 0, ExitCode: c.exitCode,
      Error: '', StartedAt: rfc3339(c.startedAt), FinishedAt: rfc3339(c.finishedAt), CheckpointedAt: rfc3339(0), RestoredAt: rfc3339(0),
    },
    Image: c.imageId,
    ImageDigest: imageId(c.imageId),
    ImageName: c.imageName,
    Rootfs: '',
    Pod: '',
    Name: c.name,
    RestartCount: c.restarts,
    Driver: 'overlay',
    OCIRuntime: x.runtime,
    LogPath: x.logPath,
    ExecIDs: x.execIds,
    Mounts: c.config.mounts.map((m) => ({ Type: 'bind', Source: m.source, Destination: m.destination, Driver: '', Mode: '', Options: ['rbind'], RW: !m.readonly, Propagation: 'rprivate' })),
    Config: {
      Hostname: c.config.hostname, Domainname: '', User: c.config.user, AttachStdin: false, AttachStdout: false, AttachStderr: false,
      Tty: c.config.tty, OpenStdin: c.config.stdin, StdinOnce: false, Env: c.config.env, Cmd: c.config.command, Image: c.imageName,
      Volumes: null, WorkingDir: c.config.workdir, Entrypoint: c.config.entrypoint.join(' '), OnBuild: null, Labels: c.config.labels,
      Annotations: {}, StopSignal: (constants.signals as Record<string, number>)[c.config.stopSignal] ?? 15, StopTimeout: c.config.stopTimeout, Umask: c.config.umask, CreateCommand: null,
    },
    HostConfig: {
      Binds: c.config.mounts.map((m) => `${m.source}:${m.destination}${m.readonly ? ':ro' : ''}`), AutoRemove: c.config.autoRemove,
      NetworkMode: c.config.network, Privileged: c.config.privileged, CapAdd: c.config.capAdd, CapDrop: c.config.capDrop,
      GroupAdd: c.config.groupAdd, Ulimits: c.config.ulimits.map((u) => ({ Name: `RLIMIT_${u.name.toUpperCase()}`, Soft: u.soft, Hard: u.hard })),
      RestartPolicy: { Name: '', MaximumRetryCount: 0 }, ConsoleSize: [0, 0],
    },
    NetworkSettings: { Ports: {}, Networks: {} },
    IsInfra: false,
  }
}

const Mount = s.obj('Mount', { destination: s.str({ maxLength: 4096 }), type: s.str({ maxLength: 32 }), source: s.str({ maxLength: 4096 }), options: s.arr(s.str({ maxLength: 256 })) })
const Rlimit = s.obj('POSIXRlimit', { type: s.str({ maxLength: 64 }), hard: s.int({ min: 0, goType: 'uint64' }), soft: s.int({ min: 0, goType: 'uint64' }) })

// podman's SpecGenerator: the fields conex maps; the rest are ignored like any unknown key.
export const SpecGeneratorSchema = s.obj('SpecGenerator', {
  name: s.str({ maxLength: 253 }),
  image: s.str({ maxLength: 512 }),
  raw_image_name: s.str({ maxLength: 512 }),
  command: s.arr(s.str({ maxLength: 131072 })),
  entrypoint: s.arr(s.str({ maxLength: 131072 })),
  env: s.map(s.str({ maxLength: 131072 })),
  terminal: s.bool(),
  stdin: s.bool(),
  user: s.str({ maxLength: 256 }),
  work_dir: s.str({ maxLength: 4096 }),
  remove: s.bool(),
  labels: s.map(s.str()),
  hostname: s.str({ maxLength: 253 }),
  cap_add: s.arr(s.str({ maxLength: 64 })),
  cap_drop: s.arr(s.str({ maxLength: 64 })),
  privileged: s.bool(),
  mounts: s.arr(Mount),
  groups: s.arr(s.str({ maxLength: 256 })),
  stop_signal: s.int({ min: 0, max: 64, goType: 'syscall.Signal' }),
  stop_timeout: s.int({ min: 0, goType: 'uint' }),
  r_limits: s.arr(Rlimit),
  umask: s.str({ maxLength: 8 }),
  netns: s.obj('Namespace', { nsmode: s.str({ maxLength: 64 }), value: s.str({ maxLength: 4096 }) }),
  portmappings: s.arr(s.any()),
  restart_policy: s.str({ maxLength: 64 }),
})

const SIGNALS = ['', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGKILL', 'SIGUSR1', 'SIGSEGV', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM']

// SpecGenerator → engine options, once.
export function specToCreateOptions (b: Infer<typeof SpecGeneratorSchema> | undefined): ContainerCreateOptions {
  if (b === undefined) throw invalid('a SpecGenerator body is required')
  const image = b.image ?? b.raw_image_name
  if (image === undefined || image === '') throw invalid('no image specified')
  const nsmode = b.netns?.nsmode
  if (nsmode !== undefined && !['', 'none', 'host', 'bridge', 'default', 'private', 'slirp4netns'].includes(nsmode)) throw new EngineError('NOT_IMPLEMENTED', `network mode "${nsmode}" is not supported by conex`)
  if ((b.portmappings ?? []).length > 0) throw new EngineError('NOT_IMPLEMENTED', 'publishing ports is not supported by conex')
  if (b.restart_policy !== undefined && b.restart_policy !== '' && b.restart_policy !== 'no') throw new EngineError('NOT_IMPLEMENTED', `restart policy "${b.restart_policy}" is not supported by conex`)
  const mounts = (b.mounts ?? []).map((m) => {
    if (m.type !== undefined && m.type !== 'bind') throw new EngineError('NOT_IMPLEMENTED', `mount type "${m.type}" is not supported by conex`)
    return { source: m.source ?? '', destination: m.destination ?? '', readonly: (m.options ?? []).includes('ro') }
  })
  return {
    image,
    name: b.name === '' ? undefined : b.name,
    command: b.command,
    entrypoint: b.entrypoint,
    env: b.env === undefined ? undefined : Object.entries(b.env).map(([k, v]) => `${k}=${v}`),
    user: b.user === '' ? undefined : b.user,
    workdir: b.work_dir === '' ? undefined : b.work_dir,
    tty: b.terminal,
    stdin: b.stdin,
    mounts,
    groupAdd: b.groups,
    umask: b.umask === '' ? undefined : b.umask,
    stopTimeout: b.stop_timeout,
    ulimits: b.r_limits?.map((r) => ({ name: (r.type ?? '').replace(/^RLIMIT_/i, '').toLowerCase(), soft: r.soft ?? 0, hard: r.hard ?? 0 })),
    network: nsmode === 'host' ? 'host' : nsmode === 'none' ? 'none' : undefined,
    autoRemove: b.remove,
    hostname: b.hostname === '' ? undefined : b.hostname,
    labels: b.labels,
    capAdd: b.cap_add,
    capDrop: b.cap_drop,
    privileged: b.privileged,
    stopSignal: b.stop_signal !== undefined && b.stop_signal > 0 ? SIGNALS[b.stop_signal] ?? String(b.stop_signal) : undefined,
  }
}
