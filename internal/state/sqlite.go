package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cloudark/cld/internal/provider"
	_ "modernc.org/sqlite" // pure-Go SQLite: one static binary, no cgo
)

// SQLite is the embedded Store.
type SQLite struct {
	db *sql.DB
}

var _ Store = (*SQLite)(nil)

// migrations are applied in order; the index+1 is the schema version.
var migrations = []string{`
CREATE TABLE objects (
	kind TEXT NOT NULL, name TEXT NOT NULL, env TEXT NOT NULL DEFAULT '',
	base TEXT NOT NULL, target TEXT NOT NULL DEFAULT '', file TEXT NOT NULL DEFAULT '',
	source BLOB, spec BLOB, status TEXT NOT NULL, error TEXT NOT NULL DEFAULT '',
	url TEXT NOT NULL DEFAULT '', image TEXT NOT NULL DEFAULT '', op TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
	PRIMARY KEY (kind, name));
CREATE INDEX objects_env ON objects(env);
CREATE TABLE elements (
	owner TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL,
	kind TEXT NOT NULL, target TEXT NOT NULL, name TEXT NOT NULL,
	deps TEXT, spec BLOB, labels TEXT, inputs TEXT, bind_type TEXT NOT NULL DEFAULT '',
	ref TEXT NOT NULL DEFAULT '', outputs TEXT, secrets TEXT,
	status TEXT NOT NULL, error TEXT NOT NULL DEFAULT '',
	env TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
	PRIMARY KEY (owner, key));
CREATE INDEX elements_env ON elements(env);
CREATE TABLE operations (
	id TEXT PRIMARY KEY, kind TEXT NOT NULL, owner TEXT NOT NULL, env TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL, error TEXT NOT NULL DEFAULT '', request BLOB,
	started_at INTEGER NOT NULL, ended_at INTEGER);
CREATE INDEX operations_env ON operations(env);
CREATE INDEX operations_status ON operations(status);
CREATE TABLE events (
	op_id TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL, message TEXT NOT NULL,
	PRIMARY KEY (op_id, seq));
`}

// OpenSQLite opens (creating if needed, mode 0600) and migrates the database at path.
func OpenSQLite(path string) (*SQLite, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	// Create the file with 0600 first: it holds generated database passwords.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	f.Close()
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	// One writer at a time is how SQLite works; one connection keeps it simple and
	// avoids SQLITE_BUSY between our own goroutines.
	db.SetMaxOpenConns(1)
	s := &SQLite{db: db}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	return s, nil
}

func (s *SQLite) migrate() error {
	var version int
	if err := s.db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil {
		return err
	}
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this cld (%d): upgrade cld", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		tx, err := s.db.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, i+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the database.
func (s *SQLite) Close() error { return s.db.Close() }

func ms(t time.Time) int64 { return t.UnixMilli() }
func fromMS(v int64) time.Time {
	return time.UnixMilli(v)
}

const objectCols = `kind, name, env, base, target, file, source, spec, status, error, url, image, op, created_at, updated_at`

func scanObject(row interface{ Scan(...any) error }) (*Object, error) {
	var o Object
	var created, updated int64
	err := row.Scan(&o.Kind, &o.Name, &o.Env, &o.Base, &o.Target, &o.File, &o.Source, &o.Spec,
		&o.Status, &o.Error, &o.URL, &o.Image, &o.Op, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	o.CreatedAt, o.UpdatedAt = fromMS(created), fromMS(updated)
	return &o, nil
}

// CreateObject inserts o; ErrExists if the name is taken.
func (s *SQLite) CreateObject(ctx context.Context, o *Object) error {
	now := time.Now()
	if o.CreatedAt.IsZero() {
		o.CreatedAt = now
	}
	o.UpdatedAt = now
	_, err := s.db.ExecContext(ctx, `INSERT INTO objects (`+objectCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		o.Kind, o.Name, o.Env, o.Base, o.Target, o.File, o.Source, o.Spec, o.Status, o.Error, o.URL, o.Image, o.Op,
		ms(o.CreatedAt), ms(o.UpdatedAt))
	if err != nil && strings.Contains(err.Error(), "UNIQUE constraint") {
		return fmt.Errorf("%s %q: %w", o.Kind, o.Name, ErrExists)
	}
	return err
}

// GetObject returns one object or ErrNotFound.
func (s *SQLite) GetObject(ctx context.Context, kind, name string) (*Object, error) {
	o, err := scanObject(s.db.QueryRowContext(ctx, `SELECT `+objectCols+` FROM objects WHERE kind=? AND name=?`, kind, name))
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%s %q: %w", kind, name, ErrNotFound)
	}
	return o, err
}

// ListObjects lists objects of a kind, optionally in one environment, by name.
func (s *SQLite) ListObjects(ctx context.Context, kind, env string) ([]*Object, error) {
	// Lists leave out the definition blobs: a list shows names and statuses.
	q := `SELECT ` + strings.Replace(objectCols, "source, spec", "NULL, NULL", 1) + ` FROM objects WHERE kind=?`
	args := []any{kind}
	if env != "" {
		q += ` AND env=?`
		args = append(args, env)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY name`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Object
	for rows.Next() {
		o, err := scanObject(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// UpdateObject applies fn to the stored object inside a transaction.
func (s *SQLite) UpdateObject(ctx context.Context, kind, name string, fn func(o *Object)) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	o, err := scanObject(tx.QueryRowContext(ctx, `SELECT `+objectCols+` FROM objects WHERE kind=? AND name=?`, kind, name))
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%s %q: %w", kind, name, ErrNotFound)
		}
		return err
	}
	fn(o)
	o.UpdatedAt = time.Now()
	_, err = tx.ExecContext(ctx, `UPDATE objects SET env=?, base=?, target=?, file=?, source=?, spec=?, status=?, error=?, url=?, image=?, op=?, updated_at=? WHERE kind=? AND name=?`,
		o.Env, o.Base, o.Target, o.File, o.Source, o.Spec, o.Status, o.Error, o.URL, o.Image, o.Op, ms(o.UpdatedAt), kind, name)
	if err != nil {
		return err
	}
	return tx.Commit()
}

// DeleteObject removes an object and its element rows (its history stays).
func (s *SQLite) DeleteObject(ctx context.Context, kind, name string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM objects WHERE kind=? AND name=?`, kind, name); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM elements WHERE owner=?`, Owner(kind, name)); err != nil {
		return err
	}
	return tx.Commit()
}

const elementCols = `owner, key, seq, kind, target, name, deps, spec, labels, inputs, bind_type, ref, outputs, secrets, status, error, env, created_at, updated_at`

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func scanElement(row interface{ Scan(...any) error }) (*Element, error) {
	var e Element
	var deps, labels, inputs, outputs, secrets sql.NullString
	var env string
	var specBytes []byte
	var created, updated int64
	err := row.Scan(&e.Owner, &e.Key, &e.Seq, &e.Kind, &e.Target, &e.Name, &deps, &specBytes, &labels, &inputs,
		&e.BindType, &e.Ref, &outputs, &secrets, &e.Status, &e.Error, &env, &created, &updated)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	e.Spec = specBytes
	for _, p := range []struct {
		s sql.NullString
		v any
	}{{deps, &e.Deps}, {labels, &e.Labels}, {inputs, &e.Inputs}, {outputs, &e.Outputs}, {secrets, &e.Secrets}} {
		if p.s.Valid && p.s.String != "" && p.s.String != "null" {
			if err := json.Unmarshal([]byte(p.s.String), p.v); err != nil {
				return nil, fmt.Errorf("element %s/%s: %w", e.Owner, e.Key, err)
			}
		}
	}
	e.CreatedAt, e.UpdatedAt = fromMS(created), fromMS(updated)
	return &e, nil
}

// PutElements records the intent for a plan's elements (insert or replace), in one transaction.
func (s *SQLite) PutElements(ctx context.Context, owner string, els []*Element) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := time.Now()
	for _, e := range els {
		e.Owner = owner
		if e.CreatedAt.IsZero() {
			e.CreatedAt = now
		}
		e.UpdatedAt = now
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO elements (`+elementCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			owner, e.Key, e.Seq, e.Kind, e.Target, e.Name, jsonText(e.Deps), []byte(e.Spec), jsonText(e.Labels), jsonText(e.Inputs),
			e.BindType, e.Ref, jsonText(e.Outputs), jsonText(e.Secrets), e.Status, e.Error, e.Labels[provider.LabelEnv],
			ms(e.CreatedAt), ms(e.UpdatedAt)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Elements returns an owner's elements in plan order.
func (s *SQLite) Elements(ctx context.Context, owner string) ([]*Element, error) {
	return s.queryElements(ctx, `SELECT `+elementCols+` FROM elements WHERE owner=? ORDER BY seq, key`, owner)
}

// EnvElements returns the elements of an environment and of the apps in it.
func (s *SQLite) EnvElements(ctx context.Context, env string) ([]*Element, error) {
	return s.queryElements(ctx, `SELECT `+elementCols+` FROM elements WHERE env=? ORDER BY owner, seq, key`, env)
}

func (s *SQLite) queryElements(ctx context.Context, q string, args ...any) ([]*Element, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Element
	for rows.Next() {
		e, err := scanElement(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// UpdateElement writes an element's observed state and status.
func (s *SQLite) UpdateElement(ctx context.Context, e *Element) error {
	e.UpdatedAt = time.Now()
	res, err := s.db.ExecContext(ctx, `UPDATE elements SET ref=?, outputs=?, secrets=?, status=?, error=?, updated_at=? WHERE owner=? AND key=?`,
		e.Ref, jsonText(e.Outputs), jsonText(e.Secrets), e.Status, e.Error, ms(e.UpdatedAt), e.Owner, e.Key)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("element %s/%s: %w", e.Owner, e.Key, ErrNotFound)
	}
	return nil
}

// DeleteElement removes an element row once its platform object is gone.
func (s *SQLite) DeleteElement(ctx context.Context, owner, key string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM elements WHERE owner=? AND key=?`, owner, key)
	return err
}

// MoveElements gives an owner's elements to another owner (a redeploy keeps
// the previous version's elements under a retired owner until it succeeds).
func (s *SQLite) MoveElements(ctx context.Context, from, to string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE elements SET owner=? WHERE owner=?`, to, from)
	return err
}

// CreateOperation records the start of an operation.
func (s *SQLite) CreateOperation(ctx context.Context, op *Operation) error {
	if op.StartedAt.IsZero() {
		op.StartedAt = time.Now()
	}
	if op.Status == "" {
		op.Status = OpRunning
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO operations (id, kind, owner, env, status, error, request, started_at) VALUES (?,?,?,?,?,?,?,?)`,
		op.ID, op.Kind, op.Owner, op.Env, op.Status, op.Error, op.Request, ms(op.StartedAt))
	return err
}

// FinishOperation records how an operation ended.
func (s *SQLite) FinishOperation(ctx context.Context, id, status, errMsg string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE operations SET status=?, error=?, ended_at=? WHERE id=?`, status, errMsg, ms(time.Now()), id)
	return err
}

const opCols = `id, kind, owner, env, status, error, request, started_at, ended_at`

func scanOp(row interface{ Scan(...any) error }) (*Operation, error) {
	var op Operation
	var started int64
	var ended sql.NullInt64
	if err := row.Scan(&op.ID, &op.Kind, &op.Owner, &op.Env, &op.Status, &op.Error, &op.Request, &started, &ended); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	op.StartedAt = fromMS(started)
	if ended.Valid {
		t := fromMS(ended.Int64)
		op.EndedAt = &t
	}
	return &op, nil
}

// GetOperation returns one operation.
func (s *SQLite) GetOperation(ctx context.Context, id string) (*Operation, error) {
	op, err := scanOp(s.db.QueryRowContext(ctx, `SELECT `+opCols+` FROM operations WHERE id=?`, id))
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("operation %q: %w", id, ErrNotFound)
	}
	return op, err
}

// Operations lists the operations that changed an environment, oldest first.
func (s *SQLite) Operations(ctx context.Context, env string) ([]*Operation, error) {
	return s.queryOps(ctx, `SELECT `+opCols+` FROM operations WHERE env=? ORDER BY started_at, id`, env)
}

// RunningOperations lists operations that have not ended (to resume after a restart).
func (s *SQLite) RunningOperations(ctx context.Context) ([]*Operation, error) {
	return s.queryOps(ctx, `SELECT `+opCols+` FROM operations WHERE status=? ORDER BY started_at, id`, OpRunning)
}

func (s *SQLite) queryOps(ctx context.Context, q string, args ...any) ([]*Operation, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Operation
	for rows.Next() {
		op, err := scanOp(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, op)
	}
	return out, rows.Err()
}

// AddEvent appends a progress line to an operation.
func (s *SQLite) AddEvent(ctx context.Context, opID, msg string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO events (op_id, seq, at, message)
		VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE op_id=?), ?, ?)`, opID, opID, ms(time.Now()), msg)
	return err
}

// Events returns an operation's events after sequence number `after`.
func (s *SQLite) Events(ctx context.Context, opID string, after int) ([]Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, at, message FROM events WHERE op_id=? AND seq>? ORDER BY seq`, opID, after)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var ev Event
		var at int64
		if err := rows.Scan(&ev.Seq, &at, &ev.Message); err != nil {
			return nil, err
		}
		ev.Time = fromMS(at)
		out = append(out, ev)
	}
	return out, rows.Err()
}
