// `--format` for list commands, as podman does it: plain Go templates, `table ...` with a header row and
// aligned columns, and `json`; plus the aligned table of the default (no --format) output.
import { compileTemplate, TemplateError } from './go-template'

// podman's report writer: Go tabwriter with minwidth 12, tabwidth 2, padding 2, padchar ' ', no flags.
const TABLE_LAYOUT: TabLayout = { minWidth: 12, padding: 2 }

interface TabLayout { minWidth: number, padding: number }

// Turns `\t` and `\n` typed on the command line into tab and newline, outside {{ }} actions (docker's
// replacer; inside actions Go string literals already have their own escapes).
export function unescapeFormat (format: string): string {
  let out = ''
  let i = 0
  while (i < format.length) {
    const open = format.indexOf('{{', i)
    const textEnd = open < 0 ? format.length : open
    out += format.slice(i, textEnd).replace(/\\([tn])/g, (_, c: string) => c === 't' ? '\t' : '\n')
    if (open < 0) break
    const close = format.indexOf('}}', open + 2)
    i = close < 0 ? format.length : close + 2
    out += format.slice(open, i)
  }
  return out
}

// Renders `items` with a user's --format:
// - `json`: one compact JSON document per item and line (the template's `{{json .}}`);
// - `table TEMPLATE`: a header row (field names split at CamelCase and upper-cased, `headers` overriding
//   by field name), then one row per item, columns aligned like podman (tabwriter 12/2/2);
//   a bare `table` lists the `headers` keys, or the first item's keys;
// - anything else: the template per item, each followed by a newline unless the format ends in one.
// Throws TemplateError for a bad template.
export function formatList (format: string, items: unknown[], headers?: Record<string, string>): string {
  const f = unescapeFormat(format)
  if (f.trim() === 'json') {
    const json = compileTemplate('{{json .}}')
    return items.map((item) => json(item) + '\n').join('')
  }
  const table = /^\s*table(?=$|\s|\{\{)[ \t]*/.exec(f)
  if (table === null) {
    const tmpl = compileTemplate(f)
    const nl = f.endsWith('\n') ? '' : '\n'
    return items.map((item) => tmpl(item) + nl).join('')
  }
  let body = f.slice(table[0].length).replace(/ +$/, '')
  if (body === '') body = defaultColumns(items, headers)
  if (body === '') return ''
  const tmpl = compileTemplate(body)
  const nl = body.endsWith('\n') ? '' : '\n'
  let text = renderHeader(body.replace(/\n$/, ''), headers) + '\n'
  for (const item of items) text += tmpl(item) + nl
  return tabwrite(text, TABLE_LAYOUT)
}

// Aligns a header and rows as `podman ps` does; a tab or newline inside a cell becomes a space.
export function renderTable (header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => cells.map((c) => c.replace(/[\t\n]/g, ' ')).join('\t') + '\n'
  return tabwrite([header, ...rows].map(line).join(''), TABLE_LAYOUT)
}

// fatih/camelcase.Split, which podman's report.Headers uses: "CreatedAt" → Created At, "ExecIDs" → Exec I Ds.
function splitCamelCase (name: string): string[] {
  const classOf = (c: string): number => /\p{Ll}/u.test(c) ? 1 : /\p{Lu}/u.test(c) ? 2 : /\p{Nd}/u.test(c) ? 3 : 4
  const runs: string[][] = []
  let last = 0
  for (const c of name) {
    const cls = classOf(c)
    if (cls === last) runs[runs.length - 1].push(c)
    else runs.push([c])
    last = cls
  }
  for (let i = 0; i < runs.length - 1; i++) { // "PDFL"+"oader" → "PDF"+"Loader"
    const head = runs[i][0]
    if (head !== undefined && classOf(head) === 2 && classOf(runs[i + 1][0]) === 1) runs[i + 1].unshift(runs[i].pop() as string)
  }
  return runs.filter((r) => r.length > 0).map((r) => r.join(''))
}

function defaultColumns (items: unknown[], headers: Record<string, string> | undefined): string {
  const first = items[0]
  const keys = headers !== undefined ? Object.keys(headers) : typeof first === 'object' && first !== null && !Array.isArray(first) ? Object.keys(first) : []
  return keys.filter((k) => /^[A-Za-z_]\w*$/.test(k)).map((k) => `{{.${k}}}`).join('\t')
}

function headerName (path: string, leaf: string, headers: Record<string, string> | undefined): string {
  if (headers !== undefined) {
    if (Object.hasOwn(headers, path)) return headers[path].toUpperCase()
    if (Object.hasOwn(headers, leaf)) return headers[leaf].toUpperCase()
  }
  return splitCamelCase(leaf).join(' ').toUpperCase()
}

// Field chains named in the actions: `.A.B`, `$.A` (not `$x.A`, `(..).A`, or `"a.b"` inside a string).
const CHAIN_RE = /(?<![\w)\]])\.([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)/g
const ACTION_RE = /\{\{(.*?)\}\}/gs

// The data the header row is rendered from: every field chain maps to its column title.
function headerData (body: string, headers: Record<string, string> | undefined): Record<string, unknown> {
  const data: Record<string, unknown> = Object.create(null) as Record<string, unknown>
  for (const [, action] of body.matchAll(ACTION_RE)) {
    for (const [, chain] of action.matchAll(CHAIN_RE)) {
      const parts = chain.split('.')
      let obj = data
      parts.forEach((p, i) => {
        if (i === parts.length - 1) {
          if (!Object.hasOwn(obj, p)) obj[p] = headerName(chain, p, headers)
          return
        }
        const next = obj[p]
        if (typeof next !== 'object' || next === null) obj[p] = Object.create(null) as Record<string, unknown>
        obj = obj[p] as Record<string, unknown>
      })
    }
  }
  return data
}

// podman renders the row template against the titles; that is done here column by column, and a column
// keeps its rendering only when it still shows its field's title (`{{upper .Image}}` → IMAGE). Otherwise
// (`{{len .ExecIDs}}` → 9, a range over a title, printf %d of one) it is titled after its first field,
// as docker's identity header functions would.
function renderHeader (body: string, headers: Record<string, string> | undefined): string {
  const data = headerData(body, headers)
  return body.split('\t').map((column) => {
    let title: string | null = null
    for (const [, action] of column.matchAll(ACTION_RE)) {
      const m = new RegExp(CHAIN_RE.source).exec(action)
      if (m !== null) { title = headerName(m[1], m[1].split('.').pop() as string, headers); break }
    }
    try {
      const text = compileTemplate(column)(data)
      if (!text.includes('%!') && !text.includes('<no value>') && (title === null || text.includes(title))) return text
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err
    }
    return title ?? column.replace(ACTION_RE, '')
  }).join('\t')
}

// Go's text/tabwriter (elastic tabstops) with a space pad character and no flags: a column is a run of
// consecutive lines that have a tab-terminated cell there; its width is the widest such cell plus padding,
// at least minWidth. The last cell of a line is never padded.
function tabwrite (text: string, { minWidth, padding }: TabLayout): string {
  const raw = text.split('\n')
  const partial = raw.pop() as string // text after the last newline, usually ''
  const lines = raw.map((l) => l.split('\t'))
  if (partial !== '') lines.push(partial.split('\t'))
  const width = (s: string): number => [...s].length
  const widths: number[] = []
  let out = ''
  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      out += lines[i].map((cell, j) => j < widths.length ? cell + ' '.repeat(widths[j] - width(cell)) : cell).join('')
      if (i < raw.length) out += '\n'
    }
  }
  const format = (line0: number, line1: number): void => {
    const column = widths.length
    for (let t = line0; t < line1; t++) {
      if (column >= lines[t].length - 1) continue
      writeLines(line0, t) // lines before this column block
      line0 = t
      let w = minWidth
      for (; t < line1 && column < lines[t].length - 1; t++) w = Math.max(w, width(lines[t][column]) + padding)
      widths.push(w)
      format(line0, t)
      widths.pop()
      line0 = t
    }
    writeLines(line0, line1)
  }
  format(0, lines.length)
  return out
}
