// Go's text/template, the `--format` language of podman and docker; the engine lives in ./template/.
// Data is JSON-shaped: plain objects act as Go maps (a missing key prints `<no value>`, keys iterate sorted),
// arrays as slices, null as a nil pointer (`<nil>`); class-instance methods are called like Go methods.
// Not supported: {{define}}, {{template}}, {{block}}, complex numbers, Go methods such as time.Time.Format.

import { Executor } from './template/evaluator'
import { Parser } from './template/parser'

export { TemplateError } from './template/errors'

// Parses `src` once; the returned function executes it against one data value.
export function compileTemplate (src: string): (data: unknown) => string {
  const root = new Parser(src).parse()
  return (data) => new Executor(src, data).run(root)
}

// Parses and executes `src` against `data` in one call.
export function renderTemplate (src: string, data: unknown): string {
  return compileTemplate(src)(data)
}
