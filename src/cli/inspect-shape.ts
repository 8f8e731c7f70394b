// The JSON shapes the CLI prints: podman's `inspect` for containers and images, Docker's ExecInspect for sessions.
// Field names follow podman so `--format '{{.State.Running}}'` scripts work unchanged.
import type { ContainerRecord, ImageSummary } from '../engine/types'
import { effectiveCaps } from '../oci/spec'
import { rfc3339 } from '../util/time'

export interface InspectExtras { execIds: string[], rootfs: string, upper: string, work: string, lower: string[], runtime: string, bundle: string, logPath: string }

export function toContainerInspect (c: ContainerRecord, x: InspectExtras): Record<string, unknown> {
  const running = c.state === 'running' || c.state === 'paused'
  const args = [...c.config.entrypoint, ...c.config.command]
  const caps = effectiveCaps(c.config)
  return {
    Id: c.id,
    Created: rfc3339(c.createdAt),
    Path: args[0] ?? '',
    Args: args.slice(1),
    State: {
      OciVersion: '1.0.2-dev',
      Status: c.state === 'removing' ? 'removing' : c.state,
      Running: c.state === 'running',
      Paused: c.state === 'paused',
      Restarting: false,
      OOMKilled: c.oomKilled,
      Dead: false,
      Pid: running ? c.pid : 0,
      ConmonPid: running ? c.conmonPid : 0,
      ExitCode: c.exitCode,
      Error: '',
      StartedAt: rfc3339(c.startedAt),
      FinishedAt: rfc3339(c.finishedAt),
    },
    Image: c.imageId,
    ImageName: c.imageName,
    Rootfs: '',
    ConmonPidFile: `${x.bundle}/conmon.pid`,
    PidFile: `${x.bundle}/pidfile`,
    Name: c.name,
    RestartCount: c.restarts,
    Driver: 'overlay',
    OCIRuntime: x.runtime,
    EffectiveCaps: caps,
    BoundingCaps: caps,
    ExecIDs: x.execIds,
    GraphDriver: { Name: 'overlay', Data: { LowerDir: x.lower.join(':'), UpperDir: x.upper, WorkDir: x.work, MergedDir: x.rootfs } },
    Mounts: c.config.mounts.map((m) => ({ Type: 'bind', Source: m.source, Destination: m.destination, RW: !m.readonly, Options: ['rbind'] })),
    Config: {
      Hostname: c.config.hostname,
      User: c.config.user,
      Env: c.config.env,
      Cmd: c.config.command,
      Entrypoint: c.config.entrypoint,
      Image: c.imageName,
      WorkingDir: c.config.workdir,
      Labels: c.config.labels,
      Tty: c.config.tty,
      OpenStdin: c.config.stdin,
      StopSignal: c.config.stopSignal,
      StopTimeout: c.config.stopTimeout,
      Umask: c.config.umask,
    },
    HostConfig: {
      AutoRemove: c.config.autoRemove,
      NetworkMode: c.config.network,
      Privileged: c.config.privileged,
      CapAdd: c.config.capAdd,
      CapDrop: c.config.capDrop,
      GroupAdd: c.config.groupAdd,
      Ulimits: c.config.ulimits.map((u) => ({ Name: `RLIMIT_${u.name.toUpperCase()}`, Soft: u.soft, Hard: u.hard })),
      Binds: c.config.mounts.map((m) => `${m.source}:${m.destination}${m.readonly ? ':ro' : ''}`),
    },
    LogPath: x.logPath,
    IsInfra: false,
  }
}

// Docker's ExecInspectResponse, the same shape as the API's.
export { dockerExecInspect as toExecInspect } from '../engine/exec/exec-inspect'

export function toImageInspect (i: ImageSummary): Record<string, unknown> {
  return {
    Id: i.id,
    Digest: `sha256:${i.id}`,
    RepoTags: i.names,
    RepoDigests: [],
    Created: rfc3339(i.createdAt),
    Size: i.size,
    VirtualSize: i.size,
    Config: i.config,
    Architecture: process.arch === 'x64' ? 'amd64' : process.arch,
    Os: 'linux',
    RootFS: { Type: 'layers', Layers: i.layers.map((l) => `sha256:${l}`) },
  }
}
