// Engine records → the Docker Engine API's JSON shapes (moby api/swagger.yaml: ContainerInspectResponse,
// ContainerSummary, ExecInspectResponse, ImageSummary, ImageInspect). Mapped here once; routes only pick.
import type { ContainerRecord, ImageSummary } from '../engine/types'
import { ZERO_TIME, rfc3339 } from '../util/time'

// Kept here too for the callers (and tests) that take it with the other shapes.
export { rfc3339 }

export const imageId = (id: string): string => id.startsWith('sha256:') ? id : `sha256:${id}`

// docker/go-units HumanDuration, as `docker ps` STATUS shows it.
export function humanDuration (ms: number): string {
  const seconds = Math.floor(ms / 1000)
  if (seconds < 1) return 'Less than a second'
  if (seconds === 1) return '1 second'
  if (seconds < 60) return `${seconds} seconds`
  const minutes = Math.floor(seconds / 60)
  if (minutes === 1) return 'About a minute'
  if (minutes < 60) return `${minutes} minutes`
  const hours = Math.round(ms / 3_600_000)
  if (hours === 1) return 'About an hour'
  if (hours < 48) return `${hours} hours`
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`
}

// The STATUS column: "Up 5 seconds", "Exited (0) 2 minutes ago", "Created".
export function statusText (c: ContainerRecord, now = Date.now()): string {
  switch (c.state) {
    case 'running': return `Up ${humanDuration(now - c.startedAt)}`
    case 'paused': return `Up ${humanDuration(now - c.startedAt)} (Paused)`
    case 'exited': return `Exited (${c.exitCode}) ${humanDuration(now - c.finishedAt)} ago`
    case 'removing': return 'Removal In Progress'
    default: return 'Created'
  }
}

const command = (c: ContainerRecord): string[] => [...c.config.entrypoint, ...c.config.command]
const isLive = (c: ContainerRecord): boolean => c.state === 'running' || c.state === 'paused'
const orNull = <T>(a: T[]): T[] | null => a.length > 0 ? a : null

function mounts (c: ContainerRecord): Array<Record<string, unknown>> {
  return c.config.mounts.map((m) => ({ Type: 'bind', Source: m.source, Destination: m.destination, Mode: m.readonly ? 'ro' : '', RW: !m.readonly, Propagation: 'rprivate' }))
}

/** What containerJson needs beyond the record. */
export interface ContainerExtras { execIds: string[], runtime: string, logPath: string }

// GET /containers/{id}/json.
export function containerJson (c: ContainerRecord, x: ContainerExtras): Record<string, unknown> {
  const args = command(c)
  const cfg = c.config
  return {
    Id: c.id,
    Created: rfc3339(c.createdAt),
    Path: args[0] ?? '',
    Args: args.slice(1),
    State: {
      Status: c.state,
      Running: isLive(c),
      Paused: c.state === 'paused',
      Restarting: false,
      OOMKilled: c.oomKilled,
      Dead: false,
      Pid: isLive(c) ? c.pid : 0,
      ExitCode: c.exitCode,
      Error: '',
      StartedAt: rfc3339(c.startedAt),
      FinishedAt: rfc3339(c.finishedAt),
    },
    Image: imageId(c.imageId),
    ResolvConfPath: '',
    HostnamePath: '',
    HostsPath: '',
    LogPath: x.logPath,
    Name: `/${c.name}`,
    RestartCount: c.restarts,
    Driver: 'overlay',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: orNull(x.execIds),
    HostConfig: {
      Binds: orNull(c.config.mounts.map((m) => `${m.source}:${m.destination}${m.readonly ? ':ro' : ''}`)),
      ContainerIDFile: '',
      // conmon writes k8s-file, but GET /logs serves it exactly as dockerd serves json-file, and clients decide by
      // this name whether logs can be read back (docker-py's containers.run() returns the output only for
      // json-file and journald).
      LogConfig: { Type: 'json-file', Config: {} },
      NetworkMode: cfg.network,
      PortBindings: {},
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      AutoRemove: cfg.autoRemove,
      VolumeDriver: '',
      VolumesFrom: null,
      ConsoleSize: [0, 0],
      CapAdd: orNull(cfg.capAdd),
      CapDrop: orNull(cfg.capDrop),
      GroupAdd: orNull(cfg.groupAdd),
      IpcMode: 'private',
      PidMode: '',
      Privileged: cfg.privileged,
      PublishAllPorts: false,
      ReadonlyRootfs: false,
      SecurityOpt: null,
      UTSMode: '',
      UsernsMode: '',
      ShmSize: 65536000,
      Runtime: x.runtime,
      Isolation: '',
      Ulimits: orNull(cfg.ulimits.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard }))),
    },
    GraphDriver: { Name: 'overlay', Data: null },
    Mounts: mounts(c),
    Config: {
      Hostname: cfg.hostname,
      Domainname: '',
      User: cfg.user,
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      Tty: cfg.tty,
      OpenStdin: cfg.stdin,
      StdinOnce: false,
      Env: cfg.env,
      Cmd: orNull(cfg.command),
      Image: c.imageName,
      Volumes: null,
      WorkingDir: cfg.workdir,
      Entrypoint: orNull(cfg.entrypoint),
      OnBuild: null,
      Labels: cfg.labels,
      StopSignal: cfg.stopSignal,
      StopTimeout: cfg.stopTimeout,
    },
    NetworkSettings: {
      Bridge: '', SandboxID: '', SandboxKey: '', Ports: {}, HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0,
      SecondaryIPAddresses: null, SecondaryIPv6Addresses: null, EndpointID: '', Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0,
      IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', MacAddress: '', Networks: {},
    },
  }
}

// One row of GET /containers/json.
export function containerSummary (c: ContainerRecord, now = Date.now()): Record<string, unknown> {
  return {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: c.imageName,
    ImageID: imageId(c.imageId),
    Command: command(c).join(' '),
    Created: Math.floor(c.createdAt / 1000),
    Ports: [],
    Labels: c.config.labels,
    State: c.state,
    Status: statusText(c, now),
    HostConfig: { NetworkMode: c.config.network },
    NetworkSettings: { Networks: {} },
    Mounts: mounts(c),
  }
}

// GET /exec/{id}/json: the engine's one ExecInspect shape (the CLI's `exec inspect` prints the same).
export { dockerExecInspect as execInspect } from '../engine/exec/exec-inspect'

// One row of GET /images/json.
export function imageSummary (i: ImageSummary, containers: number): Record<string, unknown> {
  return {
    Id: imageId(i.id),
    ParentId: '',
    RepoTags: i.names,
    RepoDigests: [],
    Created: Math.floor(i.createdAt / 1000),
    Size: i.size,
    SharedSize: -1,
    VirtualSize: i.size,
    Labels: i.config.Labels ?? {},
    Containers: containers,
  }
}

// GET /images/{name}/json.
export function imageInspect (i: ImageSummary): Record<string, unknown> {
  return {
    Id: imageId(i.id),
    RepoTags: i.names,
    RepoDigests: [],
    Parent: '',
    Comment: '',
    Created: rfc3339(i.createdAt),
    DockerVersion: '',
    Author: '',
    Config: {
      Env: i.config.Env ?? [],
      Cmd: i.config.Cmd ?? null,
      Entrypoint: i.config.Entrypoint ?? null,
      WorkingDir: i.config.WorkingDir ?? '',
      User: i.config.User ?? '',
      Labels: i.config.Labels ?? null,
      StopSignal: i.config.StopSignal,
    },
    Architecture: process.arch === 'x64' ? 'amd64' : process.arch,
    Os: 'linux',
    Size: i.size,
    VirtualSize: i.size,
    GraphDriver: { Name: 'overlay', Data: null },
    RootFS: { Type: 'layers', Layers: i.layers.map(imageId) },
    Metadata: { LastTagTime: ZERO_TIME },
  }
}
