// --help text for a command or command group, laid out like podman's.
import type { Command } from './command'
import { flagsHelp } from './args'

export function commandHelp (cmd: Command, path: string): string {
  const parts = [`${cmd.description ?? cmd.summary}\n`, `Usage:\n  ${cmd.usage}\n`]
  if (cmd.aliases !== undefined && cmd.aliases.length > 0) parts.push(`Aliases:\n  ${[cmd.name, ...cmd.aliases].join(', ')}\n`)
  if (cmd.subcommands !== undefined) {
    const subs = cmd.subcommands.filter((s) => s.hidden !== true)
    const w = Math.max(...subs.map((s) => s.name.length))
    parts.push(`Available Commands:\n${subs.map((s) => `  ${s.name.padEnd(w)}   ${s.summary}`).join('\n')}\n`)
  }
  if (cmd.examples !== undefined && cmd.examples.length > 0) parts.push(`Examples:\n${cmd.examples.map((e) => `  ${e}`).join('\n')}\n`)
  const flags = flagsHelp([...cmd.flags, { name: 'help', short: 'h', type: 'bool', help: `help for ${path}` }])
  parts.push(`Options:\n${flags}\n`)
  return parts.join('\n')
}
