// The one place an error becomes an HTTP status: EngineError → its row of ERRORS (err.httpStatus) and Docker's
// `{"message": "..."}` body; anything else is a bug, answered 500 and logged with its stack (as moby's FromError).
// Errors after a hijack cannot change the status: hijack.ts writes them into the stream instead.
import { EngineError, toEngineError } from '../errors'
import type { Exchange } from './exchange'

// The status and message for `err` (`docker`: a Docker API request, not libpod, which answers in dockerd's words
// where the error has them: "No such container", which its clients and scripts look for); `isBug` marks errors that
// were not EngineErrors.
export function errorStatus (err: unknown, o: { docker?: boolean } = {}): { status: number, message: string, isBug: boolean } {
  if (err instanceof EngineError) return { status: err.httpStatus, message: o.docker === true ? err.docker ?? err.message : err.message, isBug: err.code === 'INTERNAL' }
  const e = toEngineError(err)
  return { status: e.httpStatus, message: e.message, isBug: true }
}

// Answers `x` with the error, if nothing has been sent yet; streams already under way are just ended.
export function sendError (x: Exchange, err: unknown, log: (line: string) => void, o: { docker?: boolean } = {}): void {
  const { status, message, isBug } = errorStatus(err, o)
  if (isBug) log(`API ${x.method} ${x.url}: internal error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
  if (x.state === 'open') { x.json(status, { message }); return }
  if (x.state === 'streaming') x.endStream()
}
