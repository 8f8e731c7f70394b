// What a route is: method, path, the schemas of its query and body, and a handler that maps the validated input to
// engine options once, calls the engine, and maps the result back. Handlers never parse or check input themselves.
import type { LocalEngine } from '../engine/engine'
import type { Exchange } from './exchange'
import type { Infer, Schema } from './schema'
import type { InferQuery, QSpec } from './query'

/** What a handler gets: the exchange, validated input and the engine. */
export interface Call<Q = Record<string, unknown>, B = unknown> {
  x: Exchange
  engine: LocalEngine
  params: Record<string, string>
  query: Q
  /** The validated body; undefined when the request had none. */
  body: B | undefined
  /** Docker API version of the request (MAX when unversioned). */
  apiVersion: string
  /** The libpod version for /libpod/ routes, else undefined. */
  libpod?: string
  /** Headers every reply carries; hijack heads repeat them. */
  headers: Record<string, string>
  log: (line: string) => void
}

export type ParamKind = 'ref' | 'image' | 'any'

export interface RouteSpec<QS extends Record<string, QSpec> = Record<string, QSpec>, BS extends Schema | undefined = Schema | undefined> {
  method: 'GET' | 'HEAD' | 'POST' | 'DELETE' | 'PUT'
  path: string
  /** How path parameters are checked (default 'ref': a container/exec name or id). */
  params?: Record<string, ParamKind>
  query?: QS
  /** JSON body schema; routes without one ignore the body. */
  body?: BS
  /** The body is an archive, streamed to the handler (no JSON limit). */
  rawBody?: boolean
  handler: (c: Call<InferQuery<QS>, BS extends Schema ? Infer<BS> : undefined>) => Promise<void>
}

/** Any route, once its types have been checked by `route()`. */
export interface AnyRoute extends Omit<RouteSpec, 'handler'> {
  handler: (c: Call<Record<string, unknown>, unknown>) => Promise<void>
}

// Declares a route; the generic parameters flow from the schemas into the handler's `query` and `body` types.
export function route<QS extends Record<string, QSpec> = Record<string, never>, BS extends Schema | undefined = undefined> (spec: RouteSpec<QS, BS>): AnyRoute {
  return spec as unknown as AnyRoute
}
