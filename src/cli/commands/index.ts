// Every CLI command, in the order `conex --help` lists them.
import type { Command } from '../command'
import { run, create, start, stop, kill, restart, pause, unpause, rm, wait, attach } from './containers'
import { exec } from './exec'
import { ps, inspect, logs, top } from './query'
import { images, tag, rmi, importCmd, load, imageGroup } from './images'
import { info, version, events, systemGroup, cleanup } from './system'

const containerCommands = [run, create, start, stop, kill, restart, pause, unpause, rm, wait, attach, exec, ps, inspect, logs, top]

const containerGroup: Command = {
  name: 'container',
  usage: 'conex container [command]',
  summary: 'Manage containers',
  flags: [],
  subcommands: [...containerCommands, { ...ps, name: 'list', aliases: ['ls'] }, cleanup],
}

export const COMMANDS: Command[] = [
  ...containerCommands, images, tag, rmi, importCmd, load, info, version, events,
  containerGroup, imageGroup(inspect), systemGroup([]),
]
