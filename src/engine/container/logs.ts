// Container logs: conmon's k8s-file format, one line per write segment: `<RFC3339Nano> <stdout|stderr> <P|F> <text>`
// (P: partial, the line continues in the next record). `follow` tails the file until the container stops.
import { openSync, readSync, closeSync, statSync, existsSync } from 'node:fs'
import type { EngineContext } from '../context'
import type { ContainerRecord, LogLine, LogsOptions } from '../types'

// Parses one k8s-file record; undefined for garbage.
export function parseLogRecord (line: string): (LogLine & { partial: boolean }) | undefined {
  const m = /^(\S+) (stdout|stderr) ([PF]) ?(.*)$/s.exec(line)
  if (m === null) return undefined
  return { time: m[1], stream: m[2] as 'stdout' | 'stderr', partial: m[3] === 'P', data: Buffer.from(m[4] + (m[3] === 'F' ? '\n' : '')) }
}

function readFrom (path: string, offset: number): { text: string, next: number } {
  if (!existsSync(path)) return { text: '', next: offset }
  const size = statSync(path).size
  if (size <= offset) return { text: '', next: offset }
  const fd = openSync(path, 'r')
  try {
    const buf = Buffer.alloc(size - offset)
    readSync(fd, buf, 0, buf.length, offset)
    // Only whole lines; the rest is read next time.
    const end = buf.lastIndexOf(0x0a) + 1
    return { text: buf.subarray(0, end).toString('utf8'), next: offset + end }
  } finally { closeSync(fd) }
}

export async function containerLogs (ctx: EngineContext, c: ContainerRecord, o: LogsOptions, onLine: (l: LogLine) => void): Promise<void> {
  const path = ctx.layout.logPath(c.id)
  const want = (s: string): boolean => s === 'stdout' ? o.stdout !== false : o.stderr !== false
  const sinceNs = o.since !== undefined ? o.since * 1000 : 0
  const untilNs = o.until !== undefined && o.until > 0 ? o.until * 1000 : Infinity
  let { text, next } = readFrom(path, 0)
  let records = text.split('\n').filter((l) => l !== '').map(parseLogRecord).filter((r) => r !== undefined)
  records = records.filter((r) => { const t = Date.parse(r.time); return t >= sinceNs && t <= untilNs })
  if (o.tail !== undefined && o.tail >= 0) {
    // Count whole lines (records ending with F) from the end.
    let lines = 0
    let i = records.length
    while (i > 0 && lines < o.tail) { i--; if (!records[i].partial) lines++; while (i > 0 && records[i - 1].partial) i-- }
    records = o.tail === 0 ? [] : records.slice(i)
  }
  for (const r of records) if (want(r.stream)) onLine(r)
  if (o.follow !== true) return
  for (;;) {
    if (o.signal?.aborted === true) return
    await new Promise((resolve) => setTimeout(resolve, 100))
    const more = readFrom(path, next)
    next = more.next
    for (const l of more.text.split('\n')) {
      const r = l === '' ? undefined : parseLogRecord(l)
      if (r !== undefined && want(r.stream)) onLine(r)
    }
    const cur = ctx.containers.get(c.id)
    if (cur === undefined || (cur.state !== 'running' && cur.state !== 'paused' && more.text === '')) {
      const last = readFrom(path, next)
      for (const l of last.text.split('\n')) { const r = l === '' ? undefined : parseLogRecord(l); if (r !== undefined && want(r.stream)) onLine(r) }
      return
    }
  }
}
