// conex's CLI entry: global flags, command lookup, --help, and the one place errors become an exit status
// (EngineError.exitCode, 125 for anything unexpected) and a one-line message on stderr.
import { realpathSync } from 'node:fs'
import { parseArgs } from './args'
import { GLOBAL_FLAGS } from './global-flags'
import { checkArgs, type CliContext, type Command, type GlobalOptions } from './command'
import { commandHelp } from './help'
import { EngineError, toEngineError } from '../errors'
import { COMMANDS } from './commands'
import type { LocalEngine } from '../engine/engine'
import { trace } from '../util/trace'


function rootHelp (): string {
  const visible = COMMANDS.filter((c) => c.hidden !== true)
  const w = Math.max(...visible.map((c) => c.name.length))
  return `Manage containers and exec sessions, daemonless (podman-compatible)\n\nUsage:\n  conex [options] [command]\n\n` +
    `Available Commands:\n${visible.map((c) => `  ${c.name.padEnd(w)}   ${c.summary}`).join('\n')}\n\n` +
    `Options:\n${GLOBAL_FLAGS.map((f) => `  ${f.short !== undefined ? `-${f.short}, ` : '    '}--${f.name.padEnd(10)} ${f.help}`).join('\n')}\n`
}

function findCommand (list: Command[], name: string): Command | undefined {
  return list.find((c) => c.name === name || (c.aliases ?? []).includes(name))
}

// How conmon's exit command calls us back: the same node and script.
function selfCommand (): string[] {
  const script = process.argv[1] ?? ''
  let path = script
  try { path = realpathSync(script) } catch { /* keep as given */ }
  return [process.execPath, path]
}

export async function main (argv: string[]): Promise<number> {
  trace('cli: main')
  const out = (s: string): void => { process.stdout.write(s) }
  const err = (s: string): void => { process.stderr.write(s) }
  try {
    const g = parseArgs(argv, GLOBAL_FLAGS, { interspersed: false })
    const globals: GlobalOptions = { root: g.flags.root as string | undefined, runroot: g.flags.runroot as string | undefined, runtime: g.flags.runtime as string | undefined, config: g.flags.config as string | undefined, logLevel: g.flags['log-level'] as string }
    if (g.flags.version === true) { out('conex version 0.1.0\n'); return 0 }
    let [name, ...rest] = g.args
    if (name === undefined || name === 'help' || g.flags.help === true) { out(rootHelp()); return name === undefined && g.flags.help !== true ? 125 : 0 }
    let cmd = findCommand(COMMANDS, name)
    if (cmd === undefined) throw new EngineError('INVALID_ARGUMENT', `unrecognized command \`conex ${name}\` (see 'conex --help')`)
    let path = `conex ${cmd.name}`
    // Command groups: `conex container ls`, `conex exec attach`, `conex system service`.
    while (cmd.subcommands !== undefined && rest.length > 0 && !rest[0].startsWith('-')) {
      const sub = findCommand(cmd.subcommands, rest[0])
      if (sub === undefined) {
        if (cmd.run !== undefined) break
        throw new EngineError('INVALID_ARGUMENT', `unrecognized command \`${path} ${rest[0]}\` (see '${path} --help')`)
      }
      cmd = sub
      path += ` ${sub.name}`
      rest = rest.slice(1)
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      const p0 = parseArgs(rest, [...cmd.flags, { name: 'help', short: 'h', type: 'bool', help: '' }], { interspersed: cmd.interspersed, command: path.slice(6) })
      if (p0.flags.help === true) { out(commandHelp(cmd, path)); return 0 }
    }
    if (cmd.run === undefined) { out(commandHelp(cmd, path)); return rest.length === 0 ? 0 : 125 }
    const p = parseArgs(rest, cmd.flags, { interspersed: cmd.interspersed, command: path.slice(6) })
    checkArgs({ ...cmd, name: path.slice(6) }, p.args)
    let engine: LocalEngine | undefined
    const oneShot = cmd.serves !== true
    const ctx: CliContext = {
      globals,
      engine: () => {
        if (engine === undefined) {
          // Loaded lazily so --help and argument errors never open the store or load native modules.
          const { LocalEngine } = require('../engine/engine') as typeof import('../engine/engine')
          const { loadConfig } = require('../config') as typeof import('../config')
          trace('cli: engine code loaded')
          const cfg = loadConfig({ root: globals.root, runroot: globals.runroot, runtime: globals.runtime, config: globals.config })
          trace('cli: config loaded')
          engine = new LocalEngine({ cfg, selfCommand: selfCommand(), requester: `cli:uid=${process.getuid?.() ?? 0}`, oneShot })
          // No daemon ages out exec sessions that were created and never started: every command that opens the store does.
          const { pruneUnstartedExecSessions } = require('../engine/exec/exec-expiry') as typeof import('../engine/exec/exec-expiry')
          const { pruneEndedExecSessions } = require('../engine/exec/exec-reaper') as typeof import('../engine/exec/exec-reaper')
          trace('cli: engine open')
          try { pruneUnstartedExecSessions(engine.ctx); pruneEndedExecSessions(engine.ctx) } catch { /* best effort: the next command or the service retries */ }
          trace('cli: pruned')
        }
        return engine
      },
      out,
      err,
    }
    // The store is left open: the process exits right after (exitWhenWritten), and SQLite needs no close to stay
    // consistent (an exit is what a crash is to it, and WAL is made for crashes). The last connection's close
    // checkpoints the WAL into the database with fsyncs and deletes it, and the next command creates it again:
    // 1.2-2 ms at the end of every command here and ~1 ms more for its first write. The WAL stays below ~4 MB
    // (SQLite's automatic checkpoint at 1000 pages); a command that finds one replays it on open (<1 ms at 4 MB).
    return (await cmd.run(ctx, p)) ?? 0
  } catch (e) {
    const ee = toEngineError(e)
    const msg = ee.message.split('\n')[0]
    err(`Error: ${msg}\n`)
    if (ee.code === 'INTERNAL' && process.env.CONEX_DEBUG !== undefined) err(`${(e as Error).stack ?? ''}\n`)
    return ee.exitCode
  }
}

// A reader that went away (`conex exec c yes | head -1`) ends conex as SIGPIPE ends a Unix filter: quietly, with
// status 141 (128+SIGPIPE), not with an unhandled EPIPE stack trace.
function quietEpipe (s: NodeJS.WriteStream): void {
  s.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(141); else throw e })
}

// process.stdout and process.stderr are built on first use, and building one loads Node's stream machinery and the
// tty, net or fs stream behind it (3-6 ms each here); a `conex exec` that hands its stdio over never writes to them.
// So `fn` runs when the stream is made, not before, and exitWhenWritten waits only for streams that were made.
const madeStreams = new Set<NodeJS.WriteStream>()
function onStreamMade (name: 'stdout' | 'stderr', fn: (s: NodeJS.WriteStream) => void): void {
  const d = Object.getOwnPropertyDescriptor(process, name)
  if (d?.get === undefined || d.configurable !== true) { const s = process[name]; madeStreams.add(s); fn(s); return }
  const make = d.get
  let stream: NodeJS.WriteStream | undefined
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: d.enumerable,
    get: () => {
      if (stream === undefined) { stream = make.call(process) as NodeJS.WriteStream; madeStreams.add(stream); fn(stream) }
      return stream
    },
  })
}

if (require.main === module || process.env.CONEX_MAIN === '1' || /bin\/conex(\.js)?$/.test(require.main?.filename ?? '')) {
  for (const name of ['stdout', 'stderr'] as const) onStreamMade(name, quietEpipe)
  void main(process.argv.slice(2)).then(exitWhenWritten)
}

// Ends the CLI process with `code` once everything written to stdout and stderr has left it. process.exit skips
// Node's own teardown after the event loop empties (freeing the heap, disposing V8, joining threads: ~5 ms of
// every command here) and closing handles the command no longer needs; the 'exit' listeners (the terminal's
// restore, the code cache) still run. It would drop output still queued for a slow pipe, hence the empty write: its
// callback runs once the writes before it are done.
function exitWhenWritten (code: number): void {
  process.exitCode = code // also the status should the process end by itself first
  const queued = [...madeStreams].filter((s) => s.writableLength > 0)
  if (queued.length === 0) process.exit(code)
  let left = queued.length
  for (const s of queued) s.write('', () => { if (--left === 0) process.exit(code) })
}
