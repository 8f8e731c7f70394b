// The shape every CLI command has: flags, a usage line, and a run function from parsed argv to an exit code.
// Commands map flags to engine options and call the engine once; they do no engine work themselves.
import type { FlagSpec, Parsed } from './args'
import type { LocalEngine } from '../engine/engine'
import { EngineError } from '../errors'

export interface GlobalOptions {
  root?: string
  runroot?: string
  runtime?: string
  config?: string
  logLevel?: string
}

export interface CliContext {
  globals: GlobalOptions
  /** The engine, opened on first use (commands like --help never open the store). */
  engine: () => LocalEngine
  out: (s: string) => void
  err: (s: string) => void
}

export interface Command {
  name: string
  aliases?: string[]
  usage: string
  summary: string
  description?: string
  examples?: string[]
  flags: FlagSpec[]
  /** false: flags stop at the first positional (run, exec, create). */
  interspersed?: boolean
  minArgs?: number
  maxArgs?: number
  subcommands?: Command[]
  hidden?: boolean
  /** Serves many requests until stopped (the API service): its engine defers work that can follow a reply (see defer). */
  serves?: boolean
  run?: (ctx: CliContext, p: Parsed) => Promise<number | undefined>
}

// Checks the positional count with podman's wording.
export function checkArgs (cmd: Command, args: string[]): void {
  const min = cmd.minArgs ?? 0
  const max = cmd.maxArgs ?? Infinity
  if (args.length < min) {
    throw new EngineError('INVALID_ARGUMENT', min === 1 && max === 1
      ? `"conex ${cmd.name}" requires exactly 1 argument (see 'conex ${cmd.name} --help')`
      : `"conex ${cmd.name}" requires at least ${min} argument${min === 1 ? '' : 's'} (see 'conex ${cmd.name} --help')`)
  }
  if (args.length > max) {
    throw new EngineError('INVALID_ARGUMENT', max === 0
      ? `"conex ${cmd.name}" accepts no arguments (see 'conex ${cmd.name} --help')`
      : `"conex ${cmd.name}" accepts at most ${max} argument${max === 1 ? '' : 's'} (see 'conex ${cmd.name} --help')`)
  }
}
