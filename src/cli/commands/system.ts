// info, version, events, system service, and the hidden `container cleanup` that conmon's exit command runs.
import type { Command } from '../command'
import { bool, str } from '../args'
import { invalid } from '../../errors'
import { parseTimeNs } from '../../util/time'
import type { HostInfo, EngineEvent } from '../../engine/types'

// podman's info, twice: Go field names for --format templates ({{.Host.OCIRuntime.Name}}), JSON tags for output.
export function infoShapes (i: HostInfo): { template: Record<string, unknown>, json: Record<string, unknown> } {
  const cgroupVersion = i.cgroupMode === 'v2' ? 'v2' : 'v1'
  const template = {
    Host: {
      Arch: i.arch === 'x64' ? 'amd64' : i.arch, BuildahVersion: '', CgroupManager: 'cgroupfs', CgroupVersion: cgroupVersion, CgroupMode: i.cgroupMode,
      Conmon: { Package: 'conmon', Path: i.conmonPath, Version: i.conmonVersion },
      CPUs: i.cpus, Hostname: i.hostname, Kernel: i.kernel, MemTotal: i.memTotal, OS: 'linux', Distribution: { Distribution: i.os },
      OCIRuntime: { Name: i.runtimeName, Package: i.runtimeName, Path: i.runtimePath, Version: i.runtimeVersion },
    },
    Store: {
      ConfigFile: '', GraphDriverName: 'overlay', GraphRoot: i.root, RunRoot: i.runroot,
      ContainerStore: { Number: i.containers.total, Paused: i.containers.paused, Running: i.containers.running, Stopped: i.containers.stopped },
      ImageStore: { Number: i.images },
    },
    Version: { APIVersion: i.version, Version: i.version, OsArch: `linux/${i.arch === 'x64' ? 'amd64' : i.arch}` },
  }
  const lower = (v: unknown): unknown => {
    if (Array.isArray(v) || typeof v !== 'object' || v === null) return v
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) {
      const key = k === 'OCIRuntime' ? 'ociRuntime' : k === 'CPUs' ? 'cpus' : k === 'OS' ? 'os' : k === 'APIVersion' ? 'APIVersion' : k === 'OsArch' ? 'OsArch' : k.charAt(0).toLowerCase() + k.slice(1)
      out[key] = lower(x)
    }
    return out
  }
  return { template, json: lower(template) as Record<string, unknown> }
}

export const info: Command = {
  name: 'info',
  usage: 'conex info [options]',
  summary: 'Display conex system information',
  maxArgs: 0,
  flags: [{ name: 'format', short: 'f', type: 'string', help: 'Change the output format to JSON or a Go template' }],
  run: async (ctx, p) => {
    const shapes = infoShapes(await ctx.engine().info())
    const fmt = str(p.flags, 'format')
    if (fmt === undefined || fmt === 'json') { ctx.out(JSON.stringify(shapes.json, null, 4) + '\n'); return 0 }
    const f = await import('../format/format-output')
    ctx.out(f.formatList(f.unescapeFormat(fmt), [shapes.template]))
    return 0
  },
}

export const version: Command = {
  name: 'version',
  usage: 'conex version [options]',
  summary: 'Display the conex version information',
  maxArgs: 0,
  flags: [{ name: 'format', short: 'f', type: 'string', help: 'Change the output format to JSON or a Go template' }],
  run: async (ctx, p) => {
    const v = { Client: { APIVersion: '1.47', Version: '0.1.0', GoVersion: `node${process.versions.node}`, OsArch: `linux/${process.arch === 'x64' ? 'amd64' : process.arch}` } }
    const fmt = str(p.flags, 'format')
    if (fmt === 'json') { ctx.out(JSON.stringify(v, null, 4) + '\n'); return 0 }
    if (fmt !== undefined) { const f = await import('../format/format-output'); ctx.out(f.formatList(f.unescapeFormat(fmt), [v])); return 0 }
    ctx.out(`Client:\nVersion:      ${v.Client.Version}\nAPI Version:  ${v.Client.APIVersion}\nNode Version: ${process.versions.node}\nOS/Arch:      ${v.Client.OsArch}\n`)
    return 0
  },
}

// Parses podman's --since/--until: unix seconds, RFC 3339, or a Go duration before now ("10m", "1h30m").
export function parseEventTime (v: string, now = Date.now()): bigint {
  const ns = parseTimeNs(v, now)
  if (ns === undefined) throw invalid(`invalid time "${v}": use unix seconds, RFC3339 or a duration such as 10m`)
  return ns
}

// --filter key=value for events: type, event (action), container (id or name), exec.
export function eventFilter (filters: string[]): (e: EngineEvent) => boolean {
  const parsed = filters.map((f) => {
    const i = f.indexOf('=')
    if (i <= 0) throw invalid(`invalid filter "${f}": expected KEY=VALUE`)
    const key = f.slice(0, i)
    if (!['type', 'event', 'container', 'exec', 'image'].includes(key)) throw invalid(`invalid filter "${f}": unknown key "${key}" (type, event, container, exec, image)`)
    return { key, value: f.slice(i + 1) }
  })
  return (e) => {
    const byKey = new Map<string, string[]>()
    for (const { key, value } of parsed) byKey.set(key, [...(byKey.get(key) ?? []), value])
    for (const [key, values] of byKey) {
      const ok = values.some((v) => {
        switch (key) {
          case 'type': return e.type === v
          case 'event': return e.action === v || e.action === `exec_${v}` || e.action.replace(/^exec_/, '') === v
          case 'container': return e.id.startsWith(v) || e.attributes.name === v || (e.attributes.containerID ?? '').startsWith(v)
          case 'exec': return e.type === 'exec' && e.id.startsWith(v)
          default: return e.type === 'image' && e.id.startsWith(v)
        }
      })
      if (!ok) return false
    }
    return true
  }
}

export const events: Command = {
  name: 'events',
  usage: 'conex events [options]',
  summary: 'Show conex events (container, exec and image), with who asked for exec work',
  maxArgs: 0,
  flags: [
    { name: 'filter', short: 'f', type: 'strings', help: 'Filter output (type=, event=, container=, exec=, image=)', arg: 'stringArray' },
    { name: 'format', type: 'string', help: 'Format the output using the given Go template (json for JSON lines)' },
    { name: 'since', type: 'string', help: 'Show all events created since timestamp' },
    { name: 'until', type: 'string', help: 'Show all events created until timestamp' },
    { name: 'stream', type: 'bool', help: 'Stream new events; with --stream=false only print existing ones', default: true },
  ],
  run: async (ctx, p) => {
    const match = eventFilter((p.flags.filter as string[] | undefined) ?? [])
    const since = str(p.flags, 'since')
    const until = str(p.flags, 'until')
    const fmt = str(p.flags, 'format')
    const f = fmt !== undefined && fmt !== 'json' ? await import('../format/format-output') : undefined
    const ac = new AbortController()
    process.once('SIGINT', () => ac.abort())
    process.once('SIGTERM', () => ac.abort())
    await ctx.engine().events({ since: since !== undefined ? parseEventTime(since) : undefined, until: until !== undefined ? parseEventTime(until) : undefined, follow: bool(p.flags, 'stream') && until === undefined, signal: ac.signal }, (e) => {
      if (!match(e)) return
      const doc = { ID: e.id, Type: e.type, Status: e.action, Name: e.attributes.name ?? '', Time: new Date(Number(e.timeNano / 1_000_000n)).toISOString(), TimeNano: e.timeNano.toString(), Attributes: e.attributes }
      if (fmt === 'json') ctx.out(JSON.stringify(doc) + '\n')
      else if (f !== undefined) ctx.out(f.formatList(f.unescapeFormat(fmt as string), [doc]))
      else ctx.out(`${new Date(Number(e.timeNano / 1_000_000n)).toISOString()} ${e.type} ${e.action} ${e.id}${Object.keys(e.attributes).length > 0 ? ' (' + Object.entries(e.attributes).map(([k, v]) => `${k}=${v}`).join(', ') + ')' : ''}\n`)
    })
    return 0
  },
}

export const service: Command = {
  name: 'service',
  serves: true,
  usage: 'conex system service [options] [URI]',
  summary: 'Serve the Docker Engine API and podman\'s libpod API on a unix socket (or TCP with TLS)',
  examples: ['conex system service --time 0', 'conex system service --web= unix:///run/conex/conex.sock', 'conex system service --web :8080'],
  maxArgs: 1,
  flags: [
    { name: 'time', short: 't', type: 'int', help: 'Time until the service exits when idle, in seconds (0: never)', default: 5 },
    { name: 'group', type: 'string', help: 'Grant this group access to the socket (mode 0660)' },
    { name: 'tlscacert', type: 'string', help: 'CA certificate: only clients with certificates it signed are served (TCP)' },
    { name: 'tlscert', type: 'string', help: 'Server certificate (TCP)' },
    { name: 'tlskey', type: 'string', help: 'Server key (TCP)' },
    { name: 'insecure-tcp', type: 'bool', help: 'Serve plain TCP without TLS (dangerous: anyone who can connect is root)' },
    // --web takes a value (HOST:PORT, :PORT, PORT); `--web=` alone is the default address. docs/web.md.
    { name: 'web', type: 'string', help: 'Also serve the web console (terminals in a browser) on ADDR = HOST:PORT, :PORT or PORT; --web= alone means 127.0.0.1:9090. Prints its URL with the access token (also in <runroot>/web-url); the service then does not exit when idle', arg: 'ADDR' },
  ],
  run: async (ctx, p) => {
    const { runService } = await import('../../api/service')
    const code = await runService({
      engine: ctx.engine(),
      uri: p.args[0] ?? 'unix:///run/conex/conex.sock',
      idleSeconds: p.flags.time as number,
      group: str(p.flags, 'group'),
      tls: { ca: str(p.flags, 'tlscacert'), cert: str(p.flags, 'tlscert'), key: str(p.flags, 'tlskey') },
      insecureTcp: bool(p.flags, 'insecure-tcp'),
      web: str(p.flags, 'web'),
      log: (s) => ctx.err(s + '\n'),
    })
    // The service has stopped (idle, signal): exit now. A timer left by a streaming handler whose client went away
    // (an /events follow loop, a hijacked stream's drain) must not keep the process alive after it said it exits.
    ctx.engine().close()
    process.exit(code)
  },
}

export const systemGroup = (extra: Command[]): Command => ({
  name: 'system',
  usage: 'conex system [command]',
  summary: 'Manage conex (service, info)',
  flags: [],
  subcommands: [service, info, ...extra],
})

export const cleanup: Command = {
  name: 'cleanup',
  usage: 'conex container cleanup [--exec SESSION] CONTAINER',
  summary: 'Record the exit of a container or exec session and release its resources (run by conmon)',
  hidden: true,
  minArgs: 1,
  maxArgs: 1,
  flags: [{ name: 'exec', type: 'string', help: 'Clean up this exec session instead of the container' }],
  run: async (ctx, p) => {
    const e = ctx.engine()
    const sess = str(p.flags, 'exec')
    if (sess !== undefined) await e.cleanupExec(sess)
    else await e.cleanupContainer(p.args[0])
    return 0
  },
}
