package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"reflect"
	"strings"

	"modernc.org/sqlite"
)

// SQLite spends most of a small query's time parsing it, and the modernc
// driver prepares every one-shot query again. stmtCacheDriver keeps each
// connection's prepared statements by SQL text, River's queries included,
// since River talks to SQLite through this same database/sql pool.

// stmtCacheSize bounds the statements kept per connection.
const stmtCacheSize = 256

type stmtCacheDriver struct{ base *sqlite.Driver }

var _ driver.Driver = stmtCacheDriver{}

func (d stmtCacheDriver) Open(name string) (driver.Conn, error) {
	c, err := d.base.Open(name)
	if err != nil {
		return nil, err
	}
	bc, ok := c.(baseConn)
	if !ok {
		_ = c.Close()
		return nil, errors.New("store: the sqlite driver's connection lacks the context interfaces")
	}
	return &cachedConn{baseConn: bc, stmts: make(map[string]*cachedStmt)}, nil
}

// baseConn is what database/sql uses of the driver's connection.
type baseConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type cachedStmt struct {
	stmt interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	}
	// busy is set while rows of the statement are open; a second use then
	// runs one-shot. database/sql uses a connection from one goroutine at a
	// time, so no lock is needed.
	busy bool
}

type cachedConn struct {
	baseConn
	stmts map[string]*cachedStmt
}

// cacheable keeps scripts (several statements) out of the cache: a
// prepared statement holds only the first. It looks for a semicolon
// followed by more SQL, outside comments, strings and quoted names.
func cacheable(query string) bool {
	ended := false
	for i := 0; i < len(query); i++ {
		switch c := query[i]; {
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			for i < len(query) && query[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(query) && query[i+1] == '*':
			end := strings.Index(query[i+2:], "*/")
			if end < 0 {
				return false
			}
			i += end + 3
		case ended && c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != ';':
			return false
		case c == ';':
			ended = true
		case c == '\'' || c == '"' || c == '`':
			end := strings.IndexByte(query[i+1:], c)
			if end < 0 {
				return false
			}
			i += end + 1 // a doubled quote is two adjacent literals: same result
		}
	}
	return true
}

func (c *cachedConn) get(ctx context.Context, query string) *cachedStmt {
	if st, ok := c.stmts[query]; ok {
		if st.busy {
			return nil
		}
		return st
	}
	if !cacheable(query) {
		return nil
	}
	prepared, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil // the one-shot path reports the error
	}
	s, ok := prepared.(interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	})
	if !ok {
		_ = prepared.Close()
		return nil
	}
	if len(c.stmts) >= stmtCacheSize {
		c.evictIdle()
	}
	st := &cachedStmt{stmt: s}
	c.stmts[query] = st
	return st
}

func (c *cachedConn) evictIdle() {
	for q, st := range c.stmts {
		if !st.busy {
			_ = st.stmt.Close()
			delete(c.stmts, q)
		}
	}
}

func (c *cachedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	st := c.get(ctx, query)
	if st == nil {
		return c.baseConn.ExecContext(ctx, query, args)
	}
	st.busy = true
	defer func() { st.busy = false }()
	return st.stmt.ExecContext(ctx, args)
}

func (c *cachedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	st := c.get(ctx, query)
	if st == nil {
		return c.baseConn.QueryContext(ctx, query, args)
	}
	st.busy = true
	r, err := st.stmt.QueryContext(ctx, args)
	if err != nil {
		st.busy = false
		return nil, err
	}
	return &releasingRows{Rows: r, st: st}, nil
}

func (c *cachedConn) Close() error {
	for _, st := range c.stmts {
		_ = st.stmt.Close()
	}
	clear(c.stmts)
	return c.baseConn.Close()
}

// releasingRows frees its statement for reuse when closed, and passes the
// driver's column type information through.
type releasingRows struct {
	driver.Rows
	st *cachedStmt
}

func (r *releasingRows) Close() error {
	err := r.Rows.Close()
	r.st.busy = false
	return err
}

type columnTyper interface {
	ColumnTypeDatabaseTypeName(index int) string
	ColumnTypeLength(index int) (int64, bool)
	ColumnTypeNullable(index int) (bool, bool)
	ColumnTypePrecisionScale(index int) (int64, int64, bool)
	ColumnTypeScanType(index int) reflect.Type
}

func (r *releasingRows) ColumnTypeDatabaseTypeName(i int) string {
	if ct, ok := r.Rows.(columnTyper); ok {
		return ct.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *releasingRows) ColumnTypeLength(i int) (int64, bool) {
	if ct, ok := r.Rows.(columnTyper); ok {
		return ct.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *releasingRows) ColumnTypeNullable(i int) (bool, bool) {
	if ct, ok := r.Rows.(columnTyper); ok {
		return ct.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *releasingRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if ct, ok := r.Rows.(columnTyper); ok {
		return ct.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

func (r *releasingRows) ColumnTypeScanType(i int) reflect.Type {
	if ct, ok := r.Rows.(columnTyper); ok {
		return ct.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}
