// Flags shared by `run` and `create`, and their mapping to ContainerCreateOptions.
import type { FlagSpec, FlagValues } from '../args'
import { bool, int, list, str } from '../args'
import type { ContainerCreateOptions, Mount } from '../../engine/types'
import { collectEnv } from '../env'
import { parseUlimit } from '../../oci/rlimits'
import { invalid } from '../../errors'

export const CREATE_FLAGS: FlagSpec[] = [
  { name: 'name', type: 'string', help: 'Assign a name to the container' },
  { name: 'env', short: 'e', type: 'strings', help: 'Set environment variables in container', arg: 'stringArray' },
  { name: 'env-file', type: 'strings', help: 'Read in a file of environment variables', arg: 'stringArray' },
  { name: 'interactive', short: 'i', type: 'bool', help: 'Make STDIN available to the contained process' },
  { name: 'tty', short: 't', type: 'bool', help: 'Allocate a pseudo-TTY for container' },
  { name: 'user', short: 'u', type: 'string', help: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { name: 'workdir', short: 'w', type: 'string', help: 'Working directory inside the container' },
  { name: 'volume', short: 'v', type: 'strings', help: 'Bind mount a volume into the container (HOST:CTR[:ro,Z])', arg: 'stringArray' },
  { name: 'umask', type: 'string', help: 'Set umask in container', default: '0022' },
  { name: 'group-add', type: 'strings', help: 'Add additional groups to the primary container process', arg: 'strings' },
  { name: 'stop-timeout', type: 'int', help: 'Timeout (in seconds) that containers stopped by user command have to exit', arg: 'uint' },
  { name: 'stop-signal', type: 'string', help: 'Signal to stop a container. Default is SIGTERM' },
  { name: 'ulimit', type: 'strings', help: 'Ulimit options (NAME=SOFT[:HARD])', arg: 'strings' },
  { name: 'network', type: 'string', help: 'Connect a container to a network: none or host', default: 'none' },
  { name: 'entrypoint', type: 'string', help: 'Overwrite the default ENTRYPOINT of the image' },
  { name: 'hostname', type: 'string', help: 'Set container hostname' },
  { name: 'label', short: 'l', type: 'strings', help: 'Set metadata on container (KEY=VALUE)', arg: 'stringArray' },
  { name: 'cap-add', type: 'strings', help: 'Add capabilities to the container', arg: 'strings' },
  { name: 'cap-drop', type: 'strings', help: 'Drop capabilities from the container', arg: 'strings' },
  { name: 'privileged', type: 'bool', help: 'Give extended privileges to container' },
  { name: 'security-opt', type: 'strings', help: 'Security options: no-new-privileges, seccomp=unconfined', arg: 'stringArray' },
  { name: 'rm', type: 'bool', help: 'Remove container (and pod if created) after exit' },
  { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress output information when pulling images' },
]

// Parses `-v HOST:CTR[:OPTS]`; options ro/rw and the SELinux relabels z/Z (accepted, no SELinux here).
export function parseVolume (v: string): Mount {
  const parts = v.split(':')
  if (parts.length < 2 || parts.length > 3 || parts[0] === '' || parts[1] === '') throw invalid(`invalid volume "${v}": expected HOST-DIR:CONTAINER-DIR[:OPTIONS]`)
  let readonly = false
  for (const opt of (parts[2] ?? '').split(',').filter((x) => x !== '')) {
    if (opt === 'ro') readonly = true
    else if (opt === 'rw' || opt === 'z' || opt === 'Z') continue
    else throw invalid(`invalid volume option "${opt}" in "${v}"`)
  }
  return { source: parts[0], destination: parts[1], readonly }
}

// --security-opt values podman accepts that conex implements; anything else is refused rather than ignored.
export function parseSecurityOpts (opts: string[]): { noNewPrivileges?: boolean, seccomp?: 'default' | 'unconfined' } {
  const out: { noNewPrivileges?: boolean, seccomp?: 'default' | 'unconfined' } = {}
  for (const o of opts) {
    if (o === 'no-new-privileges' || o === 'no-new-privileges=true' || o === 'no-new-privileges:true') out.noNewPrivileges = true
    else if (o === 'no-new-privileges=false' || o === 'no-new-privileges:false') out.noNewPrivileges = false
    else if (o === 'seccomp=unconfined' || o === 'seccomp:unconfined') out.seccomp = 'unconfined'
    else throw invalid(`unsupported --security-opt "${o}": conex supports no-new-privileges and seccomp=unconfined`)
  }
  return out
}

export function toCreateOptions (f: FlagValues, image: string, command: string[]): ContainerCreateOptions {
  const network = str(f, 'network') ?? 'none'
  if (network !== 'none' && network !== 'host') throw invalid(`network "${network}" is not supported: use none or host`)
  const labels: Record<string, string> = {}
  for (const l of list(f, 'label')) { const i = l.indexOf('='); labels[i === -1 ? l : l.slice(0, i)] = i === -1 ? '' : l.slice(i + 1) }
  const ep = str(f, 'entrypoint')
  let entrypoint: string[] | undefined
  if (ep !== undefined) {
    if (ep.trim().startsWith('[')) {
      try { entrypoint = JSON.parse(ep) as string[] } catch { throw invalid(`invalid --entrypoint JSON "${ep}"`) }
    } else entrypoint = ep === '' ? [] : [ep]
  }
  return {
    image,
    command,
    name: str(f, 'name'),
    env: collectEnv(list(f, 'env'), list(f, 'env-file')),
    stdin: bool(f, 'interactive'),
    tty: bool(f, 'tty'),
    user: str(f, 'user'),
    workdir: str(f, 'workdir'),
    mounts: list(f, 'volume').map(parseVolume),
    umask: str(f, 'umask'),
    groupAdd: list(f, 'group-add'),
    stopTimeout: int(f, 'stop-timeout'),
    stopSignal: str(f, 'stop-signal'),
    ulimits: list(f, 'ulimit').map(parseUlimit),
    network,
    entrypoint,
    hostname: str(f, 'hostname'),
    labels,
    capAdd: list(f, 'cap-add'),
    capDrop: list(f, 'cap-drop'),
    privileged: bool(f, 'privileged'),
    autoRemove: bool(f, 'rm'),
    ...parseSecurityOpts(list(f, 'security-opt')),
  }
}
