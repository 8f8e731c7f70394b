// Session recording as asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/): a JSON header line, then one
// `[seconds, "o", text]` line per output chunk. UTF-8 split across chunks is decoded whole (StringDecoder).
import { openSync, writeSync, closeSync } from 'node:fs'
import { StringDecoder } from 'node:string_decoder'
import { invalid } from '../../errors'

export interface Recorder { write: (streamId: number, data: Buffer) => void, close: () => void }

export function openRecorder (path: string, o: { tty: boolean, size?: [number, number], command: string[] }): Recorder {
  let fd: number
  try { fd = openSync(path, 'w', 0o600) } catch (err) { throw invalid(`cannot open recording file ${path}: ${(err as Error).message}`) }
  const start = process.hrtime.bigint()
  const header = {
    version: 2,
    width: o.size?.[1] ?? 80,
    height: o.size?.[0] ?? 24,
    timestamp: Math.floor(Date.now() / 1000),
    command: o.command.join(' '),
    env: { TERM: o.tty ? 'xterm' : 'dumb' },
  }
  writeSync(fd, JSON.stringify(header) + '\n')
  const decoders = new Map<number, StringDecoder>()
  let open = true
  const line = (text: string): void => {
    if (text === '') return
    const t = Number(process.hrtime.bigint() - start) / 1e9
    writeSync(fd, JSON.stringify([Math.round(t * 1e6) / 1e6, 'o', text]) + '\n')
  }
  return {
    write: (id, data) => {
      if (!open) return
      let d = decoders.get(id)
      if (d === undefined) { d = new StringDecoder('utf8'); decoders.set(id, d) }
      line(d.write(data))
    },
    close: () => {
      if (!open) return
      open = false
      for (const d of decoders.values()) line(d.end())
      closeSync(fd)
    },
  }
}
