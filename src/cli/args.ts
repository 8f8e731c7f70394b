// Command-line parsing with cobra's rules, so podman users' habits work: `--flag=value`, `--flag value`,
// `-f value`, `-fvalue`, combined short booleans (`-it`), `--bool=false`, `--` ends flags, and, for commands that
// run something (run, exec, create), parsing stops at the first positional so the command's own flags are left alone.
import { invalid } from '../errors'

export type FlagType = 'bool' | 'string' | 'strings' | 'int'

export interface FlagSpec {
  name: string
  short?: string
  type: FlagType
  help: string
  /** Shown in help as the value placeholder. */
  arg?: string
  default?: string | number | boolean
  hidden?: boolean
}

export type FlagValues = Record<string, string | number | boolean | string[] | undefined>

export interface Parsed { flags: FlagValues, args: string[] }

// Parses `argv` against `specs`. `interspersed: false` stops at the first positional (cobra's SetInterspersed).
export function parseArgs (argv: string[], specs: FlagSpec[], o: { interspersed?: boolean, command?: string } = {}): Parsed {
  const flags: FlagValues = {}
  const args: string[] = []
  const byName = new Map(specs.map((s) => [s.name, s]))
  const byShort = new Map(specs.filter((s) => s.short !== undefined).map((s) => [s.short as string, s]))
  const where = o.command !== undefined ? ` (see 'conex ${o.command} --help')` : ''
  const set = (spec: FlagSpec, raw: string | undefined, shown: string): void => {
    switch (spec.type) {
      case 'bool':
        if (raw === undefined || raw === 'true') flags[spec.name] = true
        else if (raw === 'false') flags[spec.name] = false
        else throw invalid(`invalid argument "${raw}" for "${shown}" flag: strconv.ParseBool: parsing "${raw}": invalid syntax`)
        break
      case 'int': {
        if (raw === undefined || !/^-?\d+$/.test(raw)) throw invalid(`invalid argument "${raw ?? ''}" for "${shown}" flag: strconv.ParseInt: parsing "${raw ?? ''}": invalid syntax`)
        flags[spec.name] = Number(raw)
        break
      }
      case 'strings': {
        const prev = (flags[spec.name] as string[] | undefined) ?? []
        flags[spec.name] = [...prev, raw as string]
        break
      }
      default: flags[spec.name] = raw
    }
  }
  let i = 0
  for (; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--') { i++; break }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=')
      const name = eq === -1 ? a.slice(2) : a.slice(2, eq)
      const spec = byName.get(name)
      if (spec === undefined) throw invalid(`unknown flag: --${name}${where}`)
      let value: string | undefined = eq === -1 ? undefined : a.slice(eq + 1)
      if (value === undefined && spec.type !== 'bool') {
        if (i + 1 >= argv.length) throw invalid(`flag needs an argument: --${name}${where}`)
        value = argv[++i]
      }
      set(spec, value, `--${name}`)
      continue
    }
    if (a.startsWith('-') && a.length > 1) {
      // A cluster of short flags; a value-taking flag consumes the rest of the cluster or the next argument.
      for (let j = 1; j < a.length; j++) {
        const ch = a[j]
        const spec = byShort.get(ch)
        if (spec === undefined) throw invalid(`unknown shorthand flag: '${ch}' in ${a}${where}`)
        if (spec.type === 'bool') {
          if (a[j + 1] === '=') { set(spec, a.slice(j + 2), `-${ch}`); break }
          set(spec, undefined, `-${ch}`)
          continue
        }
        let value = a.slice(j + 1)
        if (value.startsWith('=')) value = value.slice(1)
        if (value === '') {
          if (i + 1 >= argv.length) throw invalid(`flag needs an argument: '${ch}' in -${ch}${where}`)
          value = argv[++i]
        }
        set(spec, value, `-${ch}`)
        break
      }
      continue
    }
    args.push(a)
    if (o.interspersed === false) { i++; break }
  }
  args.push(...argv.slice(i))
  for (const s of specs) if (flags[s.name] === undefined && s.default !== undefined) flags[s.name] = s.default
  return { flags, args }
}

export const str = (f: FlagValues, k: string): string | undefined => f[k] as string | undefined
export const bool = (f: FlagValues, k: string): boolean => f[k] === true
export const list = (f: FlagValues, k: string): string[] => (f[k] as string[] | undefined) ?? []
export const int = (f: FlagValues, k: string): number | undefined => f[k] as number | undefined

// Renders the flags section of --help.
export function flagsHelp (specs: FlagSpec[]): string {
  const rows = specs.filter((s) => s.hidden !== true).map((s) => {
    const left = `${s.short !== undefined ? `-${s.short}, ` : '    '}--${s.name}${s.type === 'bool' ? '' : ' ' + (s.arg ?? (s.type === 'int' ? 'int' : s.type === 'strings' ? 'stringArray' : 'string'))}`
    const def = s.default !== undefined && s.default !== false && s.default !== '' ? ` (default ${JSON.stringify(s.default)})` : ''
    return [left, s.help + def]
  })
  const w = Math.max(0, ...rows.map((r) => r[0].length))
  return rows.map(([l, r]) => `  ${l.padEnd(w)}   ${r}`).join('\n')
}
