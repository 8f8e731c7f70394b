import { test } from 'node:test'
import assert from 'node:assert/strict'
import { normalizeImageName } from './images'

test('normalizeImageName: short names are local (localhost/), a missing tag is latest', () => {
  const cases: Array<[string, string]> = [
    ['busybox', 'localhost/busybox:latest'],
    ['busybox:1.36', 'localhost/busybox:1.36'],
    ['mine:1', 'localhost/mine:1'],
    ['library/busybox', 'localhost/library/busybox:latest'],
    ['localhost/busybox', 'localhost/busybox:latest'],
    ['localhost/busybox:latest', 'localhost/busybox:latest'],
  ]
  for (const [input, want] of cases) assert.equal(normalizeImageName(input), want, input)
})

test('normalizeImageName: a first component with a dot, a port or localhost is a registry and stays', () => {
  const cases: Array<[string, string]> = [
    ['docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['quay.io/podman/hello:v1', 'quay.io/podman/hello:v1'],
    ['registry:5000/team/app', 'registry:5000/team/app:latest'],
    ['localhost:5000/app:2', 'localhost:5000/app:2'],
  ]
  for (const [input, want] of cases) assert.equal(normalizeImageName(input), want, input)
})

test('normalizeImageName: a digest reference gets no tag; normalising twice changes nothing', () => {
  const digest = 'sha256:' + 'a'.repeat(64)
  assert.equal(normalizeImageName(`quay.io/x/y@${digest}`), `quay.io/x/y@${digest}`)
  assert.equal(normalizeImageName(`y@${digest}`), `localhost/y@${digest}`)
  for (const n of ['busybox', 'registry:5000/team/app', 'a/b/c:d']) assert.equal(normalizeImageName(normalizeImageName(n)), normalizeImageName(n))
})
