import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { formatList, renderTable, unescapeFormat } from './format-output'
import { TemplateError } from './go-template'

const items = [
  { ID: 'abc', Image: 'alpine', CreatedAt: '2024-01-02', Names: ['a', 'b'], Size: 5, State: { Running: true }, ExecIDs: [] },
  { ID: '0123456789abcdef', Image: 'nginx', CreatedAt: '2024-03-04', Names: ['c'], Size: 70, State: { Running: false }, ExecIDs: ['x'] },
]

describe('unescapeFormat', () => {
  it('turns typed \\t and \\n into tab and newline outside actions only', () => {
    assert.equal(unescapeFormat('{{.ID}}\\t{{.Names}}\\n'), '{{.ID}}\t{{.Names}}\n')
    assert.equal(unescapeFormat('{{printf "a\\tb"}}\\t'), '{{printf "a\\tb"}}\t')
    assert.equal(unescapeFormat('plain'), 'plain')
    assert.equal(unescapeFormat('a\\t{{.ID'), 'a\t{{.ID')
  })
})

describe('renderTable', () => {
  it('aligns like podman ps: columns at least 12 wide, 2 spaces of padding, last column unpadded', () => {
    const out = renderTable(['CONTAINER ID', 'IMAGE', 'NAMES'], [
      ['abc', 'alpine', 'web'],
      ['defghijklmnop', 'docker.io/library/nginx:latest', 'db'],
    ])
    assert.equal(out,
      'CONTAINER ID   IMAGE                           NAMES\n' +
      'abc            alpine                          web\n' +
      'defghijklmnop  docker.io/library/nginx:latest  db\n')
  })

  it('prints the header alone exactly as `podman ps -a` does with no containers', () => {
    assert.equal(renderTable(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'], []),
      'CONTAINER ID  IMAGE       COMMAND     CREATED     STATUS      PORTS       NAMES\n')
  })

  it('keeps a tab or newline inside a cell from breaking the layout', () => {
    assert.equal(renderTable(['A', 'B'], [['x\ty', 'p\nq']]), 'A           B\nx y         p q\n')
  })
})

describe('formatList with table', () => {
  it('renders a header from the field names, then aligned rows', () => {
    assert.equal(formatList('table {{.ID}}\t{{.Image}}', items),
      'ID                IMAGE\n' +
      'abc               alpine\n' +
      '0123456789abcdef  nginx\n')
  })

  it('matches podman\'s own formatter test layout', () => {
    const rows = [
      { ID: 'c061a0839e', Value: 'one' },
      { ID: 'f10fc2e11057', Value: 'two' },
      { ID: '1eb6fab5aa8f4b5cbfd3e66aa35e9b2a', Value: 'three' },
    ]
    assert.equal(formatList('table {{.ID}}\t{{.Value}}', rows, { ID: 'Identity' }),
      'IDENTITY                          VALUE\n' +
      'c061a0839e                        one\n' +
      'f10fc2e11057                      two\n' +
      '1eb6fab5aa8f4b5cbfd3e66aa35e9b2a  three\n')
  })

  it('splits CamelCase field names like podman (fatih/camelcase), and unescapes \\t', () => {
    assert.equal(formatList('table {{.ID}}\\t{{.CreatedAt}}', items.slice(0, 1)), 'ID          CREATED AT\nabc         2024-01-02\n')
    assert.equal(formatList('table {{len .ExecIDs}}', items), 'EXEC I DS\n0\n1\n')
  })

  it('takes header overrides (upper-cased) by field name', () => {
    assert.equal(formatList('table {{.ID}}\t{{.Image}}', items.slice(0, 1), { ID: 'container id' }),
      'CONTAINER ID  IMAGE\nabc           alpine\n')
  })

  it('titles nested fields and functions of fields after the field', () => {
    assert.equal(formatList('table {{.State.Running}}\t{{upper .Image}}', items), 'RUNNING     IMAGE\ntrue        ALPINE\nfalse       NGINX\n')
    assert.equal(formatList('table {{lower .Image}}:{{.ID}}', items.slice(0, 1)), 'IMAGE\nalpine:abc\n')
    assert.equal(formatList('table id={{.ID}}', items.slice(0, 1)), 'id=ID\nid=abc\n')
  })

  it('titles a column by its first field when the template cannot run on titles', () => {
    assert.equal(formatList('table {{.ID}}\t{{range .Names}}{{.}},{{end}}\t{{.Size | printf "%03d"}}', items),
      'ID                NAMES       SIZE\n' +
      'abc               a,b,        005\n' +
      '0123456789abcdef  c,          070\n')
  })

  it('prints only the header when there are no items', () => {
    assert.equal(formatList('table {{.ID}}\t{{.Image}}', []), 'ID          IMAGE\n')
  })

  it('lists the headers\' fields for a bare "table"', () => {
    assert.equal(formatList('table', items, { ID: 'container id', Image: 'image' }),
      'CONTAINER ID      IMAGE\nabc               alpine\n0123456789abcdef  nginx\n')
  })

  it('aligns ragged rows with elastic tabstops, as Go\'s tabwriter', () => {
    const rows = [{ A: 'a', B: 'bbbbbbbbbbbbbbbb', C: 'c' }, { A: 'aa', C: 'c2' }]
    assert.equal(formatList('table {{.A}}\t{{if .B}}{{.B}}\t{{end}}{{.C}}', rows),
      'A           B                 C\n' +
      'a           bbbbbbbbbbbbbbbb  c\n' +
      'aa          c2\n')
  })
})

describe('formatList without table', () => {
  it('renders the template once per item, one line each', () => {
    assert.equal(formatList('{{.ID}}', items), 'abc\n0123456789abcdef\n')
    assert.equal(formatList('{{.ID}}\n', items), 'abc\n0123456789abcdef\n') // no second newline
    assert.equal(formatList('{{.ID}}\\t{{.Image}}', items), 'abc\talpine\n0123456789abcdef\tnginx\n') // no alignment
    assert.equal(formatList('{{range .Names}}{{.}},{{end}}', items), 'a,b,\nc,\n')
  })

  it('prints a format without actions as text per item', () => {
    assert.equal(formatList('hello', [1, 2]), 'hello\nhello\n')
  })

  it('prints JSON per line for "json" and for {{json .}}', () => {
    const docs = [{ a: 1, b: '<&>' }, { c: [1, null] }]
    assert.equal(formatList('json', docs), '{"a":1,"b":"<&>"}\n{"c":[1,null]}\n')
    assert.equal(formatList('{{json .}}', docs), '{"a":1,"b":"<&>"}\n{"c":[1,null]}\n')
  })

  it('throws TemplateError for a bad template', () => {
    assert.throws(() => formatList('{{foo}}', [1]), (err: unknown) =>
      err instanceof TemplateError && err.message === 'template: output:1: function "foo" not defined')
    assert.throws(() => formatList('table {{.ID', [1]), TemplateError)
  })
})
