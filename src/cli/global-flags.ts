// conex's global flags (before the command). bin/conex.js skips the values of those that take one to find the command
// name, which picks the V8 code cache: its list is checked against this one (global-flags.test.ts).
import type { FlagSpec } from './args'

export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'root', type: 'string', help: 'Path to the root directory in which data, including images, is stored', arg: 'path' },
  { name: 'runroot', type: 'string', help: 'Path to the \'run directory\' where all state information is stored', arg: 'path' },
  { name: 'runtime', type: 'string', help: 'Path to the OCI-compatible binary used to run containers (default: crun where the host allows it, else runc)', arg: 'path' },
  { name: 'config', type: 'string', help: 'Path to conex\'s JSON config file (default /etc/conex/conex.json)', arg: 'path' },
  { name: 'log-level', type: 'string', help: 'Log messages above specified level (debug, info, warn, error)', arg: 'level', default: 'warn' },
  { name: 'version', short: 'v', type: 'bool', help: 'Print the version' },
  { name: 'help', short: 'h', type: 'bool', help: 'Help for conex' },
]
