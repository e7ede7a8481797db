package computepool_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/grovedb/grove/internal/computepool"
	"github.com/grovedb/grove/internal/pgrun"
	"github.com/grovedb/grove/internal/pgtest"
)

// TestPool runs the pool against a real Postgres: connections are reused,
// an endpoint's limit holds with requests waiting for a connection to come
// back, keys never share a connection, and a drop closes what is idle and
// retires what is busy.
func TestPool(t *testing.T) {
	pgtest.SkipShort(t, "needs PostgreSQL")
	srv := pgtest.Start(t)
	socket := filepath.Join(srv.SocketDir(), ".s.PGSQL.5432")
	key := computepool.Key{Database: "postgres", Role: pgrun.AdminRole}
	other := computepool.Key{Database: "postgres", Role: pgrun.AdminRole, User: "another door"}
	var dials sync.Map
	dialer := func(k computepool.Key) func(context.Context) (*pgconn.PgConn, error) {
		return func(ctx context.Context) (*pgconn.PgConn, error) {
			n, _ := dials.LoadOrStore(k, new(int))
			*n.(*int)++
			return computepool.Dial(ctx, socket, k, "", "pool test")
		}
	}
	dialled := func(k computepool.Key) int {
		n, ok := dials.Load(k)
		if !ok {
			return 0
		}
		return *n.(*int)
	}
	p := computepool.New(time.Minute)
	t.Cleanup(p.CloseAll)
	ctx := t.Context()

	t.Run("reuse", func(t *testing.T) {
		c, err := p.Acquire(ctx, "ep-1", key, 4, dialer(key))
		if err != nil {
			t.Fatal(err)
		}
		pid := c.PC.PID()
		p.Release(c, true)
		c, err = p.Acquire(ctx, "ep-1", key, 4, dialer(key))
		if err != nil {
			t.Fatal(err)
		}
		if c.PC.PID() != pid || !c.Dirty || dialled(key) != 1 {
			t.Errorf("second acquire: pid %d (first %d), dirty %v, %d dials", c.PC.PID(), pid, c.Dirty, dialled(key))
		}
		p.Release(c, true)
	})

	t.Run("limit", func(t *testing.T) {
		const limit = 3
		var held []*computepool.Conn
		for range limit {
			c, err := p.Acquire(ctx, "ep-2", key, limit, dialer(key))
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, c)
		}
		got := make(chan *computepool.Conn)
		go func() {
			c, err := p.Acquire(ctx, "ep-2", key, limit, dialer(key))
			if err != nil {
				t.Error(err)
			}
			got <- c
		}()
		select {
		case <-got:
			t.Fatal("a fourth connection over a limit of three")
		case <-time.After(200 * time.Millisecond):
		}
		if n := p.Open()["ep-2"]; n != limit {
			t.Errorf("%d open, want %d", n, limit)
		}
		p.Release(held[0], true)
		c := <-got
		if c.PC.PID() != held[0].PC.PID() {
			t.Error("the waiter did not get the released connection")
		}
		p.Release(c, true)
		for _, c := range held[1:] {
			p.Release(c, true)
		}
		// A timed-out wait gives up without a connection.
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		for range limit {
			c, err := p.Acquire(ctx, "ep-2", key, limit, dialer(key))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Release(c, true)
		}
		if _, err := p.Acquire(short, "ep-2", key, limit, dialer(key)); err == nil {
			t.Error("an acquire over the limit did not time out")
		}
	})

	t.Run("keys apart", func(t *testing.T) {
		c, err := p.Acquire(ctx, "ep-3", key, 4, dialer(key))
		if err != nil {
			t.Fatal(err)
		}
		p.Release(c, true)
		d, err := p.Acquire(ctx, "ep-3", other, 4, dialer(other))
		if err != nil {
			t.Fatal(err)
		}
		if d.PC.PID() == c.PC.PID() || d.Dirty {
			t.Error("another key got the first key's connection")
		}
		p.Release(d, true)
	})

	t.Run("drop", func(t *testing.T) {
		idle, err := p.Acquire(ctx, "ep-4", key, 4, dialer(key))
		if err != nil {
			t.Fatal(err)
		}
		busy, err := p.Acquire(ctx, "ep-4", key, 4, dialer(key))
		if err != nil {
			t.Fatal(err)
		}
		p.Release(idle, true)
		p.Drop("ep-4")
		if !idle.PC.IsClosed() {
			t.Error("the idle connection survived the drop")
		}
		p.Release(busy, true) // retired, not kept: it belongs to the stopped compute
		if !busy.PC.IsClosed() || p.Open()["ep-4"] != 0 {
			t.Errorf("after the drop: busy closed %v, %d open", busy.PC.IsClosed(), p.Open()["ep-4"])
		}
	})
}
