// An upload body (the archive of image import and load) with an idle timeout (reliability, issue #6): a client that
// starts an upload and stalls must not hold the request, its fd and a staging directory forever. The clock runs
// only while the engine is waiting for bytes: time spent extracting, with the client throttled by back-pressure,
// is not the client's.
import type { Readable as ReadableType } from 'node:stream'
import { Readable } from 'node:stream'
import { EngineError } from '../errors'

export interface IdleBodyOptions {
  /** Fail when no byte arrives for this long while one is wanted; 0: never. */
  idleMs: number
  /** Bytes already read past the request head (upgrade path). */
  head?: Buffer
  /** Called once when the body is given up before its end (timeout, or the engine stopped reading on an error). */
  onAbandon?: () => void
}

// Wraps `source` (the request, or the raw socket on the upgrade path) in a stream for the engine. Destroying the
// wrapper pauses the source but does not destroy it, so the reply (an error) can still be sent on its connection.
export function idleBody (source: ReadableType, o: IdleBodyOptions): Readable {
  let timer: NodeJS.Timeout | undefined
  let finished = false
  const disarm = (): void => { clearTimeout(timer); timer = undefined }
  const arm = (): void => {
    if (o.idleMs <= 0 || finished) return
    if (timer === undefined) timer = setTimeout(onTimeout, o.idleMs).unref() // never what keeps the service alive
    else timer.refresh()
  }
  const out = new Readable({
    read () { arm(); source.resume() },
    destroy (err, cb) {
      if (!finished) { finished = true; detach(); source.pause(); o.onAbandon?.() }
      cb(err)
    },
  })
  const onData = (c: Buffer): void => {
    if (out.push(c)) arm()
    else { disarm(); source.pause() }
  }
  const onEnd = (): void => { finished = true; detach(); out.push(null) }
  const onError = (err: Error): void => { out.destroy(new EngineError('INVALID_ARGUMENT', `request body not received: ${err.message}`)) }
  const onClose = (): void => { if (!finished) out.destroy(new EngineError('INVALID_ARGUMENT', 'request body not received: the connection ended first')) }
  const onTimeout = (): void => {
    timer = undefined
    out.destroy(new EngineError('REQUEST_TIMEOUT', `upload aborted: no data received for ${o.idleMs / 1000} s`))
  }
  const detach = (): void => {
    disarm()
    source.removeListener('data', onData)
    source.removeListener('end', onEnd)
    source.removeListener('error', onError)
    source.removeListener('close', onClose)
  }
  // A timeout after the engine stopped reading (a handler that failed before it read the body) has nobody to tell;
  // without a listener its 'error' would be thrown and take the service down.
  out.on('error', () => { /* the consumer, if any, has its own listener */ })
  if (o.head !== undefined && o.head.length > 0) out.push(o.head)
  source.on('data', onData)
  source.once('end', onEnd)
  source.once('error', onError)
  source.once('close', onClose)
  return out
}
