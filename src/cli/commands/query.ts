// Read-only container commands: ps, inspect, logs, top.
import type { Command, CliContext } from '../command'
import { bool, int, str } from '../args'
import { ago, humanDuration } from '../human'
import { toContainerInspect, toImageInspect, toExecInspect } from '../inspect-shape'
import type { ContainerRecord } from '../../engine/types'
import type { LocalEngine } from '../../engine/engine'
import { EngineError, invalid } from '../../errors'
import { parseTimeNs } from '../../util/time'
import { lowerDirs } from '../../engine/image/image-service'

function status (c: ContainerRecord, now = Date.now()): string {
  switch (c.state) {
    case 'running': return `Up ${humanDuration(now - c.startedAt)}`
    case 'paused': return `Up ${humanDuration(now - c.startedAt)} (Paused)`
    case 'exited': return `Exited (${c.exitCode}) ${ago(c.finishedAt, now)}`
    case 'removing': return 'Removing'
    default: return 'Created'
  }
}

// The fields `ps --format` can name, podman's spelling.
export function psRow (c: ContainerRecord, execCount = 0): Record<string, unknown> {
  const cmd = [...c.config.entrypoint, ...c.config.command].join(' ')
  return {
    ID: c.id.slice(0, 12),
    Id: c.id,
    Image: c.imageName,
    ImageID: c.imageId,
    Command: cmd,
    Created: Math.floor(c.createdAt / 1000),
    CreatedAt: new Date(c.createdAt).toString(),
    CreatedHuman: ago(c.createdAt),
    RunningFor: humanDuration(Date.now() - c.createdAt),
    Status: status(c),
    State: c.state,
    Names: c.name,
    Ports: '',
    Pid: c.state === 'running' ? c.pid : 0,
    ExitCode: c.exitCode,
    Exited: c.state === 'exited',
    Labels: c.config.labels,
    Mounts: c.config.mounts.map((m) => m.destination),
    ExecCount: execCount,
    AutoRemove: c.config.autoRemove,
  }
}

async function printFormatted (ctx: CliContext, fmt: string, items: unknown[]): Promise<void> {
  const { formatList, unescapeFormat } = await import('../format/format-output')
  ctx.out(formatList(unescapeFormat(fmt), items))
}

export const ps: Command = {
  name: 'ps',
  aliases: ['ls', 'list'],
  usage: 'conex ps [options]',
  summary: 'List containers',
  maxArgs: 0,
  flags: [
    { name: 'all', short: 'a', type: 'bool', help: 'Show all the containers, default is only running containers' },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Print the numeric IDs of the containers only' },
    { name: 'no-trunc', type: 'bool', help: 'Display the extended information' },
    { name: 'latest', short: 'l', type: 'bool', help: 'Act on the latest container conex is aware of' },
    { name: 'format', type: 'string', help: 'Pretty-print containers to JSON or using a Go template' },
  ],
  run: async (ctx, p) => {
    const e = ctx.engine()
    let list = await e.listContainers({ all: bool(p.flags, 'all') || bool(p.flags, 'latest') })
    if (bool(p.flags, 'latest')) list = list.slice(0, 1)
    const noTrunc = bool(p.flags, 'no-trunc')
    if (bool(p.flags, 'quiet')) { ctx.out(list.map((c) => (noTrunc ? c.id : c.id.slice(0, 12)) + '\n').join('')); return 0 }
    const rows = list.map((c) => psRow(c, e.ctx.execs.activeForContainer(c.id).length))
    const fmt = str(p.flags, 'format')
    if (fmt === 'json') { ctx.out(JSON.stringify(rows, null, 4) + '\n'); return 0 }
    if (fmt !== undefined) { await printFormatted(ctx, fmt, rows); return 0 }
    const { renderTable } = await import('../format/format-output')
    ctx.out(renderTable(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'], rows.map((r, i) => [
      noTrunc ? list[i].id : r.ID as string, r.Image as string, noTrunc ? r.Command as string : truncate(r.Command as string, 20), r.CreatedHuman as string, r.Status as string, '', r.Names as string,
    ])))
    return 0
  },
}

const truncate = (s: string, n: number): string => s.length > n ? s.slice(0, n - 3) + '...' : s

// The podman inspect document of one container.
export async function inspectContainer (e: LocalEngine, ref: string): Promise<Record<string, unknown>> {
  const c = await e.getContainer(ref)
  const L = e.ctx.layout
  const image = e.ctx.images.lookup(c.imageId)
  return toContainerInspect(c, {
    execIds: e.ctx.execs.activeForContainer(c.id).map((s) => s.id),
    rootfs: L.rootfs(c.id), upper: L.upperDir(c.id), work: L.workDir(c.id), lower: image !== undefined ? lowerDirs(e.ctx, image) : [],
    runtime: e.ctx.cfg.runtimeName, bundle: L.bundle(c.id), logPath: L.logPath(c.id),
  })
}

export const inspect: Command = {
  name: 'inspect',
  usage: 'conex inspect [options] {CONTAINER|IMAGE|SESSION} [...]',
  summary: 'Display the configuration of containers, images or exec sessions',
  minArgs: 1,
  flags: [
    { name: 'format', short: 'f', type: 'string', help: 'Format the output using the given Go template' },
    { name: 'type', short: 't', type: 'string', help: 'Specify inspect-object type (container, image, exec, all)', default: 'all' },
    { name: 'size', short: 's', type: 'bool', help: 'Display total file size (accepted; sizes are not computed)' },
  ],
  run: async (ctx, p) => {
    const e = ctx.engine()
    const type = str(p.flags, 'type') ?? 'all'
    if (!['all', 'container', 'image', 'exec'].includes(type)) throw invalid(`invalid type "${type}": must be container, image, exec or all`)
    const docs: unknown[] = []
    let firstErr: EngineError | undefined
    for (const ref of p.args) {
      try {
        if (type === 'container' || type === 'all') {
          try { docs.push(await inspectContainer(e, ref)); continue } catch (err) { if (type === 'container' || !(err instanceof EngineError) || err.code !== 'NO_SUCH_CONTAINER') throw err }
        }
        if (type === 'image' || type === 'all') {
          try { docs.push(toImageInspect(await e.getImage(ref))); continue } catch (err) { if (type === 'image' || !(err instanceof EngineError) || err.code !== 'NO_SUCH_IMAGE') throw err }
        }
        try { docs.push(toExecInspect(await e.getExec(ref))); continue } catch (err) {
          if (type === 'exec') throw err
          throw new EngineError('NO_SUCH_CONTAINER', `no such object: "${ref}"`)
        }
      } catch (err) {
        if (firstErr === undefined && err instanceof EngineError) firstErr = err
        else ctx.err(`Error: ${(err as Error).message}\n`)
      }
    }
    const fmt = str(p.flags, 'format')
    if (fmt !== undefined && fmt !== 'json') await printFormatted(ctx, fmt, docs)
    else if (docs.length > 0 || firstErr === undefined) ctx.out(JSON.stringify(docs, null, 4) + '\n')
    if (firstErr !== undefined) throw firstErr
    return 0
  },
}

export const logs: Command = {
  name: 'logs',
  usage: 'conex logs [options] CONTAINER',
  summary: 'Fetch the logs of a container',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { name: 'follow', short: 'f', type: 'bool', help: 'Follow log output' },
    { name: 'timestamps', short: 't', type: 'bool', help: 'Output the timestamps in the log' },
    { name: 'tail', type: 'int', help: 'Output the specified number of LINES at the end of the logs (-1: all)', default: -1 },
    { name: 'since', type: 'string', help: 'Show logs since TIMESTAMP (unix seconds, RFC3339 or a duration such as 10m)' },
    { name: 'until', type: 'string', help: 'Show logs until TIMESTAMP (unix seconds, RFC3339 or a duration such as 10m)' },
  ],
  run: async (ctx, p) => {
    const tail = int(p.flags, 'tail') ?? -1
    const parseTime = (v: string | undefined, name: string): number | undefined => {
      if (v === undefined) return undefined
      const ns = parseTimeNs(v)
      if (ns === undefined) throw invalid(`invalid --${name} "${v}": use unix seconds, RFC3339 or a duration such as 10m`)
      return Number(ns) / 1e9
    }
    const ts = bool(p.flags, 'timestamps')
    await ctx.engine().containerLogs(p.args[0], {
      follow: bool(p.flags, 'follow'), tail: tail < 0 ? undefined : tail, since: parseTime(str(p.flags, 'since'), 'since'), until: parseTime(str(p.flags, 'until'), 'until'),
    }, (l) => {
      const sink = l.stream === 'stderr' ? process.stderr : process.stdout
      if (ts) sink.write(l.time + ' ')
      sink.write(l.data)
    })
    return 0
  },
}

export const top: Command = {
  name: 'top',
  usage: 'conex top CONTAINER',
  summary: 'Display the running processes of a container',
  minArgs: 1,
  maxArgs: 1,
  flags: [],
  run: async (ctx, p) => {
    const t = await ctx.engine().topContainer(p.args[0])
    const { renderTable } = await import('../format/format-output')
    ctx.out(renderTable(t.titles, t.processes))
    return 0
  },
}
