// Schema migrations, applied in order; PRAGMA user_version counts those applied. Never edit a released entry:
// append a new one.
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE images (
    id          TEXT PRIMARY KEY CHECK (length(id) = 64),
    config      TEXT NOT NULL,
    layers      TEXT NOT NULL,
    size        INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
  );
  CREATE TABLE image_names (
    name      TEXT PRIMARY KEY,
    image_id  TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
  );
  CREATE TABLE containers (
    id           TEXT PRIMARY KEY CHECK (length(id) = 64),
    name         TEXT NOT NULL UNIQUE,
    image_id     TEXT NOT NULL,
    image_name   TEXT NOT NULL,
    config       TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('created','running','paused','exited','removing')),
    pid          INTEGER NOT NULL DEFAULT 0,
    pid_start    TEXT NOT NULL DEFAULT '',
    conmon_pid   INTEGER NOT NULL DEFAULT 0,
    exit_code    INTEGER NOT NULL DEFAULT 0 CHECK (exit_code BETWEEN -1 AND 255),
    oom_killed   INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    started_at   INTEGER NOT NULL DEFAULT 0,
    finished_at  INTEGER NOT NULL DEFAULT 0,
    restarts     INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE exec_sessions (
    id            TEXT PRIMARY KEY CHECK (length(id) = 64),
    container_id  TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
    config        TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('created','running','stopped')),
    pid           INTEGER NOT NULL DEFAULT 0,
    pid_start     TEXT NOT NULL DEFAULT '',
    conmon_pid    INTEGER NOT NULL DEFAULT 0,
    exit_code     INTEGER CHECK (exit_code BETWEEN -1 AND 255),
    created_at    INTEGER NOT NULL,
    started_at    INTEGER NOT NULL DEFAULT 0,
    ended_at      INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX exec_sessions_by_container ON exec_sessions(container_id, state);
  CREATE TABLE events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    time_ns     INTEGER NOT NULL,
    type        TEXT NOT NULL,
    action      TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    attributes  TEXT NOT NULL
  );
  CREATE INDEX events_by_time ON events(time_ns);
  `,
  // 2: the retention prune runs at every exec's end; it finds the newest `count` ended sessions of a container by
  // walking this index instead of sorting all of them.
  'CREATE INDEX exec_sessions_by_end ON exec_sessions(container_id, state, ended_at);',
]
