package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grovedb/grove/internal/proxy/authlimit"
	"github.com/grovedb/grove/internal/scram"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// okCompute logs every client in without a password and holds the
// connection until the client leaves.
func okCompute(c net.Conn, br *bufio.Reader, sp *startupPacket) {
	write(c, &pgproto3.AuthenticationOk{}, &pgproto3.ReadyForQuery{TxStatus: 'I'})
	_, _ = br.ReadByte()
}

// scramSocket is a compute that checks the proxy's SCRAM login against v,
// as Postgres does, and then behaves as okCompute.
func scramSocket(t *testing.T, v scram.Verifier) string {
	t.Helper()
	return fakeCompute(t, func(c net.Conn, br *bufio.Reader, sp *startupPacket) {
		if scramCompute(c, br, v) {
			okCompute(c, br, sp)
		}
	})
}

// login connects with pgx from the local address from (a 127.0.0.0/8
// address, "" for any) and closes the connection at once.
func login(t *testing.T, addr, from, dsn string) error {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%s connect_timeout=20 %s", host, port, dsn))
	if err != nil {
		t.Fatal(err)
	}
	if from != "" {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		cfg.DialFunc = d.DialContext
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// wantPgError checks that err is an ErrorResponse with code and message.
func wantPgError(t *testing.T, what string, err error, code, msg string) {
	t.Helper()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != code || pe.Message != msg {
		t.Fatalf("%s: %v, want %s %q", what, err, code, msg)
	}
}

// TestPlaintext: logins without TLS are refused with Neon's text unless
// AllowPlaintext is set; the pooler host is no exception, and cancel
// requests (sent unencrypted by libpq) are not refused.
func TestPlaintext(t *testing.T) {
	v, _ := scram.NewVerifier("pw")
	socket := fakeCompute(t, okCompute)
	strict, strictAddr := startFakeProxy(t, fixedBackend(v, socket))
	lax, laxAddr := startFakeProxy(t, fixedBackend(v, socket), func(c *Config) { c.AllowPlaintext = true })
	tests := []struct {
		name      string
		addr      string
		dsn       string
		code, msg string // "" = the login works
	}{
		{"refused", strictAddr, "user=u password=pw sslmode=disable options=endpoint=ep-x", "XX000", textInsecure},
		{"refused on the pooler host", strictAddr, "user=u password=pw sslmode=disable options=endpoint=ep-x-pooler", "XX000", textInsecure},
		{"refused before routing", strictAddr, "user=u password=pw sslmode=disable", "XX000", textInsecure},
		{"TLS works", strictAddr, "user=u password=pw sslmode=require options=endpoint=ep-x", "", ""},
		{"prefer is TLS", strictAddr, "user=u password=pw sslmode=prefer options=endpoint=ep-x", "", ""},
		{"allowed", laxAddr, "user=u password=pw sslmode=disable options=endpoint=ep-x", "", ""},
		{"allowed, pooler host", laxAddr, "user=u password=pw sslmode=disable options=endpoint=ep-x-pooler", "", ""},
		{"allowed, missing endpoint", laxAddr, "user=u password=pw sslmode=disable", "08004",
			"Endpoint ID is not specified. Either please upgrade the postgres client library (libpq) for SNI support or pass the endpoint ID (first part of the domain name) as a parameter: '?options=endpoint%3D<endpoint-id>'. See more at https://neon.tech/sni"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := login(t, tc.addr, "", tc.dsn)
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantPgError(t, "login", err, tc.code, tc.msg)
		})
	}
	if n := strict.Events().PlaintextRefused; n != 3 {
		t.Errorf("plaintext refusals counted %d, want 3", n)
	}
	if n := lax.Events().PlaintextRefused; n != 0 {
		t.Errorf("plaintext refusals counted %d with AllowPlaintext", n)
	}
	t.Run("cancel request", func(t *testing.T) {
		if got := rawExchange(t, strictAddr, encodeCancel(1, []byte{1, 2, 3, 4})); got != "closed" {
			t.Fatalf("plaintext cancel request answered %q", got)
		}
		if n := strict.Events().PlaintextRefused; n != 3 {
			t.Fatalf("a cancel request counted as a plaintext login (%d)", n)
		}
	})
}

// TestAuthThrottle: after the failures an address may make on an endpoint,
// its next logins there are refused before any password check (even with
// the right password, on the pooler host, or by the password hack), while
// other addresses and endpoints log in; once the endpoint's budget is
// spent, every address is refused there; time gives attempts back.
func TestAuthThrottle(t *testing.T) {
	v, err := scram.NewVerifier("pw")
	if err != nil {
		t.Fatal(err)
	}
	b := fixedBackend(v, scramSocket(t, v))
	var lookups atomic.Int64
	b.verifier = func(context.Context, string, string) (scram.Verifier, error) {
		lookups.Add(1)
		return v, nil
	}
	var now atomic.Int64
	lim, err := authlimit.New(authlimit.Config{
		PerAddress:  authlimit.Rule{Burst: 3, Every: time.Minute},
		PerEndpoint: authlimit.Rule{Burst: 5, Every: time.Minute},
		Now:         func() time.Time { return time.Unix(0, now.Load()) },
	})
	if err != nil {
		t.Fatal(err)
	}
	p, addr := startFakeProxy(t, b, func(c *Config) { c.AuthLimiter = lim })

	const (
		good      = "user=u password=pw sslmode=require"
		bad       = "user=u password=wrong sslmode=require"
		a1, a2    = "127.0.0.1", "127.0.0.2"
		a3        = "127.0.0.3"
		epA, epB  = "options=endpoint=ep-a", "options=endpoint=ep-b"
		epAPooled = "options=endpoint=ep-a-pooler"
	)
	if err := login(t, addr, a2, good+" "+epA); err != nil {
		t.Skipf("cannot connect from %s: %v", a2, err)
	}
	failed := func(what string, err error) {
		t.Helper()
		wantPgError(t, what, err, "28P01", `password authentication failed for user "u"`)
	}
	throttled := func(what string, err error) {
		t.Helper()
		wantPgError(t, what, err, "XX000", TextTooManyConnections)
	}
	works := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	for i := range 3 {
		failed(fmt.Sprintf("failure %d", i+1), login(t, addr, a1, bad+" "+epA))
	}
	before := lookups.Load()
	throttled("wrong password after 3 failures", login(t, addr, a1, bad+" "+epA))
	throttled("right password after 3 failures", login(t, addr, a1, good+" "+epA))
	throttled("pooler host of the same endpoint", login(t, addr, a1, good+" "+epAPooled))
	throttled("password hack", login(t, addr, a1, "user=u password=endpoint=ep-a;pw sslmode=require"))
	if n := lookups.Load() - before; n != 0 {
		t.Fatalf("throttled logins looked up %d roles", n)
	}
	works("another address, same endpoint", login(t, addr, a2, good+" "+epA))
	works("same address, another endpoint", login(t, addr, a1, good+" "+epB))
	works("another address, pooler host", login(t, addr, a2, good+" "+epAPooled))

	// Two more failures from a2 spend ep-a's five: a3 is refused there too.
	failed("a2 failure 1", login(t, addr, a2, bad+" "+epA))
	failed("a2 failure 2", login(t, addr, a2, bad+" "+epA))
	throttled("fresh address on a spent endpoint", login(t, addr, a3, good+" "+epA))
	works("fresh address, another endpoint", login(t, addr, a3, good+" "+epB))

	// A minute gives one attempt back to each bucket.
	now.Add(int64(time.Minute))
	works("right password a minute later", login(t, addr, a1, good+" "+epA))
	failed("a failure a minute later", login(t, addr, a1, bad+" "+epA))
	throttled("and refused again", login(t, addr, a1, good+" "+epA))

	want := Events{AuthFailures: 6, ThrottledAddress: 5, ThrottledEndpoint: 1}
	if got := p.Events(); got != want {
		t.Errorf("events %+v, want %+v", got, want)
	}
}

// recorder keeps the messages logged at info level and above.
type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler           { return r }
func (r *recorder) WithGroup(string) slog.Handler                { return r }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, rec.Level.String()+" "+rec.Message)
	return nil
}

func (r *recorder) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs)
}

// TestStalledClientsCounted: clients that stall in the handshake are
// answered "Authentication timed out" and counted in a metric, with no log
// line at info level or above.
func TestStalledClientsCounted(t *testing.T) {
	v, _ := scram.NewVerifier("pw")
	logs := &recorder{}
	p, addr := startFakeProxy(t, fixedBackend(v, fakeCompute(t, okCompute)), func(c *Config) {
		c.AuthTimeout = 2 * time.Second
		c.Logger = slog.New(logs)
	})
	stalls := []struct {
		name string
		send []byte
		tls  bool // finish TLS, then stall
	}{
		{"silent", nil, false},
		{"half a startup packet", startupBytes(protocol30, "user", "u")[:6], false},
		{"SSLRequest, then no ClientHello", []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}, false},
		{"TLS, then no startup packet", nil, true},
	}
	const each = 5
	var wg sync.WaitGroup
	for _, s := range stalls {
		for range each {
			wg.Go(func() {
				c, err := net.DialTimeout("tcp", addr, 10*time.Second)
				if err != nil {
					t.Error(err)
					return
				}
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(30 * time.Second))
				var conn net.Conn = c
				if s.tls {
					// Direct TLS; should the handshake itself outlast the
					// timeout, that is a stall too.
					tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"postgresql"}})
					if err := tc.Handshake(); err == nil {
						conn = tc
					}
				} else if _, err := c.Write(s.send); err != nil {
					t.Errorf("%s: %v", s.name, err)
					return
				}
				// The proxy ends the connection: whatever it says, then EOF.
				_, _ = io.Copy(io.Discard, conn)
			})
		}
	}
	wg.Wait()
	// Each was counted before its connection was closed.
	if got, want := p.Events(), (Events{HandshakeTimeouts: int64(len(stalls) * each)}); got != want {
		t.Fatalf("events %+v, want %+v", got, want)
	}
	if msgs := logs.messages(); len(msgs) != 0 {
		t.Fatalf("stalled clients logged at info level or above: %q", msgs)
	}
	// A stalled plaintext client still learns why it was closed.
	if got := rawExchange(t, addr, nil); got != "08006 "+textTimeout {
		t.Fatalf("silent client got %q", got)
	}
}
