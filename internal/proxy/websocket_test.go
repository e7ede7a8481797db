package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/grovedb/grove/internal/proxy/authlimit"
	"github.com/grovedb/grove/internal/proxy/route"
	"github.com/grovedb/grove/internal/scram"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// testPeerHeader lets a test pose as another client address: the front
// handler of wsServe copies it into the request's RemoteAddr, as a
// middleware trusting a load balancer would.
const testPeerHeader = "X-Test-Peer"

// wsTarget is where and how a test opens a WebSocket to the proxy.
type wsTarget struct {
	url    string       // ws:// or wss:// URL of the handler
	client *http.Client // trusts the server's certificate (wss)
	host   string       // Host header; "" = the URL's
	header http.Header
	// handlers counts the handler calls still running on the server.
	handlers *atomic.Int64
}

// wsServe serves p's WebSocket handler on loopback, over TLS when secure,
// and returns the URL the serverless driver would dial (path /v2).
func wsServe(t testing.TB, p *Proxy, secure bool) wsTarget {
	t.Helper()
	h := p.WebSocket()
	handlers := new(atomic.Int64)
	front := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Add(-1)
		if a := r.Header.Get(testPeerHeader); a != "" {
			r.RemoteAddr = a
		}
		h.ServeHTTP(w, r)
	})
	var srv *httptest.Server
	if secure {
		srv = httptest.NewTLSServer(front)
	} else {
		srv = httptest.NewServer(front)
	}
	t.Cleanup(srv.Close)
	return wsTarget{url: "ws" + strings.TrimPrefix(srv.URL, "http") + "/v2", client: srv.Client(), handlers: handlers}
}

// withHost returns w with the Host header host.
func (w wsTarget) withHost(host string) wsTarget {
	w.host = host
	return w
}

// from returns w posing as the client address addr.
func (w wsTarget) from(addr string) wsTarget {
	w.header = http.Header{testPeerHeader: {addr}}
	return w
}

// dial opens a WebSocket and returns the stream of its binary messages.
func (w wsTarget) dial(ctx context.Context) (net.Conn, error) {
	c, _, err := websocket.Dial(ctx, w.url, &websocket.DialOptions{HTTPClient: w.client, Host: w.host, HTTPHeader: w.header})
	if err != nil {
		return nil, err
	}
	return websocket.NetConn(context.Background(), c, websocket.MessageBinary), nil
}

// connect logs in with pgx through a WebSocket; dsn adds to or overrides
// the defaults (no SSLRequest, as the driver's forceDisablePgSSL).
func (w wsTarget) connect(t *testing.T, dsn string) (*pgx.Conn, error) {
	t.Helper()
	return connectConfig(t, w.config(t, dsn))
}

// config is a pgx config that reaches the proxy through w; dsn adds to or
// overrides the defaults.
func (w wsTarget) config(t testing.TB, dsn string) *pgx.ConnConfig {
	t.Helper()
	cfg, err := pgx.ParseConfig("host=127.0.0.1 port=5432 sslmode=disable connect_timeout=20 " + dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DialFunc = func(ctx context.Context, _, _ string) (net.Conn, error) { return w.dial(ctx) }
	return cfg
}

// pipelined sends what @neondatabase/serverless sends by default
// (pipelineConnect "password") before any answer: the startup packet, the
// password and the first query, in one WebSocket message (coalesceWrites,
// the default) or one message each. It returns the messages answered,
// abbreviated ("R3", "Z", "D:a|b", "E:28P01 text"), without
// ParameterStatus, up to the query's ReadyForQuery or the end of the
// connection.
func (w wsTarget) pipelined(t *testing.T, coalesce bool, params map[string]string, password, query string) []string {
	t.Helper()
	var msgs [][]byte
	for _, m := range []pgproto3.FrontendMessage{
		&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: params},
		&pgproto3.PasswordMessage{Password: password},
		&pgproto3.Query{String: query},
	} {
		b, err := m.Encode(nil)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, b)
	}
	if coalesce {
		msgs = [][]byte{bytes.Join(msgs, nil)}
	}
	return w.exchange(t, readyFor(2), msgs...)
}

// readyFor is a receive condition: the n-th ReadyForQuery.
func readyFor(n int) func(string) bool {
	return func(m string) bool {
		if m == "Z" {
			n--
		}
		return n == 0
	}
}

// exchange writes each of msgs as one WebSocket message and returns the
// answers (abbreviated as by pipelined) up to the one done accepts or the
// connection's end.
func (w wsTarget) exchange(t *testing.T, done func(string) bool, msgs ...[]byte) []string {
	t.Helper()
	conn := w.open(t)
	defer conn.Close()
	for _, b := range msgs {
		if _, err := conn.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	return receive(t, conn, done)
}

// open dials w for a test: the conn has a deadline and is closed at its end.
func (w wsTarget) open(t *testing.T) net.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	conn, err := w.dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	return conn
}

// receive abbreviates what the proxy sends on conn, as pipelined does, up
// to the message done accepts or the connection's end.
func receive(t *testing.T, conn net.Conn, done func(string) bool) []string {
	t.Helper()
	fe := pgproto3.NewFrontend(conn, io.Discard)
	var got []string
	for {
		m, err := fe.Receive()
		if err != nil {
			return got
		}
		a := abbreviate(m)
		if a == "" {
			continue
		}
		got = append(got, a)
		if done(a) {
			return got
		}
	}
}

// abbreviate names a message for receive; "" for ParameterStatus.
func abbreviate(m pgproto3.BackendMessage) string {
	switch m := m.(type) {
	case *pgproto3.AuthenticationCleartextPassword:
		return "R3"
	case *pgproto3.AuthenticationOk:
		return "R0"
	case *pgproto3.AuthenticationSASL:
		return "R10:" + strings.Join(m.AuthMechanisms, ",")
	case *pgproto3.ParameterStatus:
		return ""
	case *pgproto3.BackendKeyData:
		return "K"
	case *pgproto3.RowDescription:
		return "T"
	case *pgproto3.DataRow:
		var vs []string
		for _, v := range m.Values {
			vs = append(vs, string(v))
		}
		return "D:" + strings.Join(vs, "|")
	case *pgproto3.CommandComplete:
		return "C:" + string(m.CommandTag)
	case *pgproto3.ErrorResponse:
		return "E:" + m.Code + " " + m.Message
	case *pgproto3.ReadyForQuery:
		return "Z"
	default:
		return fmt.Sprintf("%T", m)
	}
}

func loginParams(kv ...string) map[string]string {
	p := map[string]string{"user": testRole, "database": testDB}
	for i := 0; i+1 < len(kv); i += 2 {
		p[kv[i]] = kv[i+1]
	}
	return p
}

// TestWebSocketLogins: pgx over a real WebSocket client logs in to a real
// Postgres through the proxy, by every way of naming the endpoint, over
// ws:// and wss://, with SCRAM (or the cleartext password of the hack).
func TestWebSocketLogins(t *testing.T) {
	e := start(t)
	ws, wss := wsServe(t, e.proxy, false), wsServe(t, e.proxy, true)
	tests := []struct {
		name   string
		target wsTarget
		dsn    string
	}{
		{"host under localhost", ws.withHost(testEndpoint + ".localhost"), ""},
		{"host under the domain, with port", ws.withHost(testEndpoint + ".us-east-2.example.com:443"), ""},
		{"wss", wss.withHost(testEndpoint + ".example.com"), ""},
		{"options", ws, "options=endpoint=" + testEndpoint},
		{"options, host is an IP", ws.withHost("127.0.0.1:8080"), "options=endpoint=" + testEndpoint},
		{"password hack", ws, "password=endpoint=" + testEndpoint + ";" + testPassword},
		{"sslmode=prefer hears N and goes on in the tunnel", ws.withHost(testEndpoint + ".localhost"), "sslmode=prefer"},
		{"cross-origin", wsTarget{url: ws.url, host: testEndpoint + ".localhost",
			header: http.Header{"Origin": {"https://app.example.net"}}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.target.connect(t, fmt.Sprintf("user=%s password=%s dbname=%s %s", testRole, testPassword, testDB, tc.dsn))
			if err != nil {
				t.Fatal(err)
			}
			mustQueryUser(t, c)
		})
	}
	t.Run("SCRAM without channel binding", func(t *testing.T) {
		got := ws.withHost(testEndpoint+".localhost").exchange(t, func(string) bool { return true },
			startupBytes(protocol30, "user", testRole, "database", testDB))
		if len(got) == 0 || got[0] != "R10:"+scram.SHA256 {
			t.Fatalf("first answer %q, want SASL with %s alone", got, scram.SHA256)
		}
	})
	t.Run("unknown domain", func(t *testing.T) {
		_, err := ws.withHost(testEndpoint+".other.net").connect(t, fmt.Sprintf("user=%s password=%s dbname=%s", testRole, testPassword, testDB))
		wantPgError(t, "login", err, "08004", "Common name inferred from SNI ('other.net') is not known")
	})
}

// TestWebSocketPipelined: the serverless driver's start-up (startup packet,
// cleartext password and first query in one message) is asked for the
// password it already sent, logs in, and gets its query's rows; a wrong
// password is refused as over TCP.
func TestWebSocketPipelined(t *testing.T) {
	e := start(t)
	ws := wsServe(t, e.proxy, true)
	long := strings.Repeat("x", 20000) // past the handshake reader's buffer
	ok := []string{"R3", "R0", "K", "Z", "T", "D:" + testRole + "|" + testDB, "C:SELECT 1", "Z"}
	tests := []struct {
		name     string
		target   wsTarget
		params   map[string]string
		password string
		query    string
		want     []string
	}{
		{"host", ws.withHost(testEndpoint + ".localhost"), loginParams(), testPassword, "", ok},
		{"options", ws, loginParams("options", "endpoint="+testEndpoint), testPassword, "", ok},
		{"password hack", ws, loginParams(), "endpoint=" + testEndpoint + ";" + testPassword, "", ok},
		{"a query longer than the buffer", ws.withHost(testEndpoint + ".localhost"), loginParams(), testPassword,
			"SELECT current_user, current_database() WHERE length('" + long + "') = 20000", ok},
		{"wrong password", ws.withHost(testEndpoint + ".localhost"), loginParams(), "nope", "",
			[]string{"R3", `E:28P01 password authentication failed for user "alice"`}},
		{"unknown role", ws.withHost(testEndpoint + ".localhost"), loginParams("user", "bob"), testPassword, "",
			[]string{"R3", `E:28P01 password authentication failed for user "bob"`}},
		{"no endpoint", ws, loginParams(), testPassword, "", []string{"R3", "E:08004 " + missingEndpointMessage(t)}},
	}
	for _, tc := range tests {
		for _, coalesce := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/coalesce=%v", tc.name, coalesce), func(t *testing.T) {
				q := tc.query
				if q == "" {
					q = "SELECT current_user, current_database()"
				}
				got := tc.target.pipelined(t, coalesce, tc.params, tc.password, q)
				if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
					t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
				}
			})
		}
	}

	// The refusal is the one a TCP client gets.
	_, tcpErr := connect(t, e.dsn("sslmode=require options=endpoint="+testEndpoint)+" password=nope")
	var pe *pgconn.PgError
	if !errors.As(tcpErr, &pe) {
		t.Fatalf("TCP login: %v", tcpErr)
	}
	if want := "E:" + pe.Code + " " + pe.Message; want != `E:28P01 password authentication failed for user "alice"` {
		t.Fatalf("TCP refusal %q differs", want)
	}
}

// missingEndpointMessage is route's text for a connection without endpoint.
func missingEndpointMessage(t *testing.T) string {
	t.Helper()
	_, err := route.Route(route.Input{Params: map[string]string{"user": "u"}})
	if !errors.Is(err, route.ErrMissingEndpoint) {
		t.Fatalf("route without endpoint: %v", err)
	}
	return err.Error()
}

// TestWebSocketSSLRequest: a client that asks for TLS inside the tunnel
// hears 'N' and goes on in the clear, inside the wss.
func TestWebSocketSSLRequest(t *testing.T) {
	v, _ := scram.NewVerifier("pw")
	p, _ := startFakeProxy(t, fixedBackend(v, fakeCompute(t, okCompute)))
	conn := wsServe(t, p, false).withHost("ep-x.localhost").open(t)
	if _, err := conn.Write([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	if _, err := io.ReadFull(conn, b); err != nil || b[0] != 'N' {
		t.Fatalf("SSLRequest answered %q %v", b, err)
	}
	pw, _ := (&pgproto3.PasswordMessage{Password: "pw"}).Encode(startupBytes(protocol30, "user", "u"))
	if _, err := conn.Write(pw); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, conn, readyFor(1)); strings.Join(got, " ") != "R3 R0 Z" {
		t.Fatalf("after N: %q", got)
	}
}

// TestWebSocketThrottle: failed logins over WebSockets spend the budget of
// the HTTP request's remote address, pipelined or by SCRAM, with TCP's
// refusals; another address still logs in.
func TestWebSocketThrottle(t *testing.T) {
	v, err := scram.NewVerifier("pw")
	if err != nil {
		t.Fatal(err)
	}
	socket := scramSocket(t, v)
	lim, err := authlimit.New(authlimit.Config{
		PerAddress:  authlimit.Rule{Burst: 3, Every: time.Hour},
		PerEndpoint: authlimit.Rule{Burst: 100, Every: time.Hour},
	})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := startFakeProxy(t, fixedBackend(v, socket), func(c *Config) { c.AuthLimiter = lim })
	ws := wsServe(t, p, false).withHost("ep-a.localhost")
	a1, a2 := ws.from("203.0.113.1:4000"), ws.from("203.0.113.2:4000")
	params := map[string]string{"user": "u"}
	const refused = `E:28P01 password authentication failed for user "u"`
	throttled := "E:XX000 " + TextTooManyConnections

	if got := a1.pipelined(t, true, params, "pw", "SELECT 1"); len(got) < 3 || got[1] != "R0" {
		t.Fatalf("right password: %q", got)
	}
	if got := a1.pipelined(t, true, params, "wrong", "SELECT 1"); strings.Join(got, " ") != "R3 "+refused {
		t.Fatalf("wrong password: %q", got)
	}
	_, err = a1.connect(t, "user=u password=wrong")
	wantPgError(t, "SCRAM, wrong password", err, "28P01", `password authentication failed for user "u"`)
	_, err = a1.connect(t, "user=u password=wrong options=endpoint=ep-a")
	wantPgError(t, "SCRAM, wrong password", err, "28P01", `password authentication failed for user "u"`)

	if got := a1.pipelined(t, true, params, "pw", "SELECT 1"); strings.Join(got, " ") != throttled {
		t.Fatalf("right password after 3 failures: %q", got)
	}
	_, err = a1.connect(t, "user=u password=pw")
	wantPgError(t, "SCRAM after 3 failures", err, "XX000", TextTooManyConnections)
	if _, err := a2.connect(t, "user=u password=pw"); err != nil {
		t.Fatalf("another address: %v", err)
	}
	if got, want := p.Events(), (Events{AuthFailures: 3, ThrottledAddress: 2}); got != want {
		t.Fatalf("events %+v, want %+v", got, want)
	}
}

// TestWebSocketNotUpgrade: whatever is not a WebSocket upgrade gets Neon's
// 400; a malformed upgrade is refused by the WebSocket library.
func TestWebSocketNotUpgrade(t *testing.T) {
	v, _ := scram.NewVerifier("pw")
	p, _ := startFakeProxy(t, fixedBackend(v, fakeCompute(t, okCompute)))
	ws := wsServe(t, p, false)
	base := "http" + strings.TrimPrefix(ws.url, "ws")
	tests := []struct {
		name     string
		method   string
		header   http.Header
		status   int
		wantBody string
	}{
		{"GET", http.MethodGet, nil, http.StatusBadRequest, `"query is not supported"`},
		{"POST", http.MethodPost, nil, http.StatusBadRequest, `"query is not supported"`},
		{"other upgrade", http.MethodGet, http.Header{"Connection": {"Upgrade"}, "Upgrade": {"h2c"}}, http.StatusBadRequest, `"query is not supported"`},
		{"upgrade without a key", http.MethodGet, http.Header{"Connection": {"keep-alive, Upgrade"}, "Upgrade": {"websocket"}}, http.StatusBadRequest, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tc.method, base, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, vs := range tc.header {
				req.Header[k] = vs
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || (tc.wantBody != "" && string(body) != tc.wantBody) {
				t.Fatalf("%d %q, want %d %q", resp.StatusCode, body, tc.status, tc.wantBody)
			}
		})
	}
}

// TestWebSocketShutdown: Shutdown closes tunnelled sessions, the handler
// returns, and later upgrades are refused.
func TestWebSocketShutdown(t *testing.T) {
	v, _ := scram.NewVerifier("pw")
	b := fixedBackend(v, fakeCompute(t, okCompute))
	p, _ := startFakeProxy(t, b)
	ws := wsServe(t, p, false).withHost("ep-x.localhost")
	c, err := ws.connect(t, "user=u password=pw")
	if err != nil {
		t.Fatal(err)
	}
	if n := p.Stats()["ep-x"].Open; n != 1 {
		t.Fatalf("open = %d", n)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := p.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown with an open tunnel: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("shutdown took %v", d)
	}
	if err := c.Ping(t.Context()); err == nil {
		t.Fatal("tunnelled session survived shutdown")
	}
	waitFor(t, "the handler to return", func() bool { return ws.handlers.Load() == 0 })
	b.mu.Lock()
	closed := b.closed["ep-x"]
	b.mu.Unlock()
	if closed != 1 || p.Stats()["ep-x"].Open != 0 {
		t.Fatalf("closed %d, stats %+v", closed, p.Stats())
	}
	_, resp, err := websocket.Dial(t.Context(), ws.url, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("upgrade after shutdown: %v %v", resp, err)
	}
}

// TestWebSocketStalled: a tunnelled client that stalls is told so and
// counted, as over TCP, with nothing logged at info level.
func TestWebSocketStalled(t *testing.T) {
	v, _ := scram.NewVerifier("pw")
	logs := &recorder{}
	p, _ := startFakeProxy(t, fixedBackend(v, fakeCompute(t, okCompute)), func(c *Config) {
		c.AuthTimeout = time.Second
		c.Logger = slog.New(logs)
	})
	ws := wsServe(t, p, false).withHost("ep-x.localhost")
	for _, send := range [][][]byte{nil, {startupBytes(protocol30, "user", "u")[:6]}} {
		if got := ws.exchange(t, readyFor(1), send...); strings.Join(got, " ") != "E:08006 "+textTimeout {
			t.Fatalf("stalled client got %q", got)
		}
	}
	waitFor(t, "stalls to be counted", func() bool { return p.Events().HandshakeTimeouts == 2 })
	if msgs := logs.messages(); len(msgs) != 0 {
		t.Fatalf("logged at info level or above: %q", msgs)
	}
}

// TestWebSocketMisbehaving: a client that breaks the WebSocket protocol is
// closed, one that closes its WebSocket mid-handshake is let go, and
// neither is logged as the proxy's error.
func TestWebSocketMisbehaving(t *testing.T) {
	v, _ := scram.NewVerifier("pw")
	logs := &recorder{}
	p, _ := startFakeProxy(t, fixedBackend(v, fakeCompute(t, okCompute)), func(c *Config) { c.Logger = slog.New(logs) })
	ws := wsServe(t, p, false).withHost("ep-x.localhost")
	dial := func(t *testing.T) *websocket.Conn {
		t.Helper()
		c, _, err := websocket.Dial(t.Context(), ws.url, &websocket.DialOptions{Host: ws.host})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.CloseNow() })
		return c
	}
	t.Run("text message", func(t *testing.T) {
		c := dial(t)
		if err := c.Write(t.Context(), websocket.MessageText, startupBytes(protocol30, "user", "u")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Read(t.Context()); websocket.CloseStatus(err) != websocket.StatusUnsupportedData {
			t.Fatalf("read after a text message: %v", err)
		}
	})
	t.Run("close mid-handshake", func(t *testing.T) {
		c := dial(t)
		if err := c.Write(t.Context(), websocket.MessageBinary, startupBytes(protocol30, "user", "u")[:6]); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(websocket.StatusGoingAway, "bye"); err != nil {
			t.Fatal(err)
		}
	})
	waitFor(t, "the handlers to return", func() bool { return ws.handlers.Load() == 0 })
	for _, m := range logs.messages() {
		if !strings.HasPrefix(m, "INFO proxy: connection refused") {
			t.Errorf("logged %q", m)
		}
	}
	if n := len(logs.messages()); n != 1 {
		t.Errorf("logged %d lines at info level or above, want the text message's refusal", n)
	}
}
