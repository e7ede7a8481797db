package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grovedb/grove/internal/scram"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// fakeCompute serves a scripted peer on a Unix socket: script runs once per
// connection with the startup packet already read.
func fakeCompute(t *testing.T, script func(c net.Conn, br *bufio.Reader, sp *startupPacket)) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), ".s.PGSQL.5432")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				br := bufio.NewReader(c)
				sp, err := readStartup(br, 10000)
				if err != nil {
					return
				}
				script(c, br, sp)
			}()
		}
	}()
	return path
}

func write(c net.Conn, msgs ...pgproto3.BackendMessage) {
	var buf []byte
	for _, m := range msgs {
		buf, _ = m.Encode(buf)
	}
	_, _ = c.Write(buf)
}

// startFake runs a proxy (no Postgres needed) whose endpoint is the socket.
func startFake(t *testing.T, v scram.Verifier, socket string, tune ...func(*Config)) string {
	t.Helper()
	_, addr := startFakeProxy(t, fixedBackend(v, socket), tune...)
	return addr
}

// startFakeProxy runs a proxy in front of b and returns it and its address.
func startFakeProxy(t *testing.T, b *fakeBackend, tune ...func(*Config)) (*Proxy, string) {
	t.Helper()
	cert, err := LoadOrCreateCert(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}, Backend: b}
	for _, f := range tune {
		f(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go p.Serve(t.Context(), ln)
	t.Cleanup(func() { p.Close() })
	return p, ln.Addr().String()
}

// scramCompute answers the proxy's login with SCRAM against v, as Postgres
// does, and reports whether it succeeded; on a bad proof it sends 28P01.
func scramCompute(c net.Conn, br *bufio.Reader, v scram.Verifier) bool {
	write(c, &pgproto3.AuthenticationSASL{AuthMechanisms: []string{scram.SHA256}})
	_, body, _, err := readMessage(br, 1<<16)
	if err != nil {
		return false
	}
	mech, data, _ := parseSASLInitial(body)
	s := scram.NewServer(v, nil)
	sf, err := s.ClientFirst(mech, data)
	if err != nil {
		return false
	}
	write(c, &pgproto3.AuthenticationSASLContinue{Data: sf})
	_, body, _, err = readMessage(br, 1<<16)
	if err != nil {
		return false
	}
	fin, err := s.ClientFinal(body)
	if err != nil {
		write(c, &pgproto3.ErrorResponse{Severity: "FATAL", Code: "28P01", Message: "password authentication failed for user \"u\""})
		return false
	}
	write(c, &pgproto3.AuthenticationSASLFinal{Data: fin})
	return true
}

// TestScriptedCompute: whatever a compute does wrong during startup, the
// client gets an ErrorResponse, never a hang; and the proxy checks the
// compute's SCRAM signature.
func TestScriptedCompute(t *testing.T) {
	v, err := scram.NewVerifier("pw")
	if err != nil {
		t.Fatal(err)
	}
	realScram := func(c net.Conn, br *bufio.Reader, serverKey []byte) bool {
		vv := v
		vv.ServerKey = serverKey
		return scramCompute(c, br, vv)
	}
	tests := []struct {
		name   string
		script func(c net.Conn, br *bufio.Reader, sp *startupPacket)
		code   string
		msg    string
	}{
		{"works", func(c net.Conn, br *bufio.Reader, sp *startupPacket) {
			if sp.params["options"] != "" || sp.params["user"] != "u" {
				write(c, &pgproto3.ErrorResponse{Severity: "FATAL", Code: "XX000", Message: "bad startup " + fmt.Sprint(sp.params)})
				return
			}
			if !realScram(c, br, v.ServerKey) {
				return
			}
			write(c, &pgproto3.AuthenticationOk{}, &pgproto3.ParameterStatus{Name: "server_version", Value: "17.0"},
				&pgproto3.ParameterStatus{Name: "standard_conforming_strings", Value: "on"},
				&pgproto3.ParameterStatus{Name: "client_encoding", Value: "UTF8"},
				&pgproto3.BackendKeyData{ProcessID: 42, SecretKey: []byte{1, 2, 3, 4}},
				&pgproto3.ReadyForQuery{TxStatus: 'I'})
			// Answer one simple query.
			if _, _, _, err := readMessage(br, 1<<16); err != nil {
				return
			}
			write(c, &pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("x"), DataTypeOID: 25, DataTypeSize: -1, TypeModifier: -1}}},
				&pgproto3.DataRow{Values: [][]byte{[]byte("hello")}}, &pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")},
				&pgproto3.ReadyForQuery{TxStatus: 'I'})
		}, "", ""},
		{"forged server signature", func(c net.Conn, br *bufio.Reader, sp *startupPacket) {
			bad := make([]byte, 32)
			if !realScram(c, br, bad) {
				return
			}
			write(c, &pgproto3.AuthenticationOk{}, &pgproto3.ReadyForQuery{TxStatus: 'I'})
		}, "57P03", TextWakeFailed},
		{"md5", func(c net.Conn, br *bufio.Reader, sp *startupPacket) {
			write(c, &pgproto3.AuthenticationMD5Password{Salt: [4]byte{1, 2, 3, 4}})
			_, _ = br.ReadByte()
		}, "57P03", TextWakeFailed},
		{"hang up", func(c net.Conn, br *bufio.Reader, sp *startupPacket) {}, "57P03", TextWakeFailed},
		{"garbage", func(c net.Conn, br *bufio.Reader, sp *startupPacket) {
			_, _ = c.Write([]byte("\xff\xff\xff\xff\xff\xff"))
		}, "57P03", TextWakeFailed},
		{"too many connections", func(c net.Conn, br *bufio.Reader, sp *startupPacket) {
			write(c, &pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: "53300", Message: "sorry, too many clients already"})
		}, "53300", "sorry, too many clients already"},
		{"silent", func(c net.Conn, br *bufio.Reader, sp *startupPacket) {
			_, _ = br.ReadByte()
		}, "57P03", TextWakeFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := startFake(t, v, fakeCompute(t, tc.script), func(c *Config) { c.ConnectTimeout = time.Second })
			host, port, _ := net.SplitHostPort(addr)
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			conn, err := pgx.Connect(ctx, fmt.Sprintf("host=%s port=%s user=u password=pw sslmode=require options=endpoint=ep-x", host, port))
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close(context.Background())
				var s string
				if err := conn.QueryRow(ctx, "x", pgx.QueryExecModeSimpleProtocol).Scan(&s); err != nil || s != "hello" {
					t.Fatalf("query: %q %v", s, err)
				}
				if pid := conn.PgConn().PID(); pid == 42 {
					t.Fatal("client saw the compute's real pid")
				}
				return
			}
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != tc.code || !strings.Contains(pe.Message, tc.msg) {
				t.Fatalf("err = %v, want %s %q", err, tc.code, tc.msg)
			}
		})
	}
}

// TestDirectTLS: sslnegotiation=direct (TLS first, ALPN postgresql) with SNI.
func TestDirectTLS(t *testing.T) {
	v, _ := scram.NewVerifier("pw")
	socket := fakeCompute(t, func(c net.Conn, br *bufio.Reader, sp *startupPacket) {
		write(c, &pgproto3.AuthenticationOk{}, &pgproto3.ReadyForQuery{TxStatus: 'I'})
		_, _ = br.ReadByte()
	})
	addr := startFake(t, v, socket)
	_, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=ep-direct.localhost port=%s user=u password=pw sslmode=require sslnegotiation=direct", port))
	if err != nil {
		t.Fatal(err)
	}
	cfg.LookupFunc = func(context.Context, string) ([]string, error) { return []string{"127.0.0.1"}, nil }
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	// A direct TLS client without the ALPN protocol is refused.
	tc, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, ServerName: "ep-direct.localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
	var hdr [5]byte
	if _, err := tc.Read(hdr[:]); err != nil || hdr[0] != 'E' {
		t.Fatalf("no ALPN: got %q %v", hdr, err)
	}
}

// TestServeContextEndsConnections: ending Serve's context closes what it
// accepted, and Serve waits for that.
func TestServeContextEndsConnections(t *testing.T) {
	v, _ := scram.NewVerifier("pw")
	socket := fakeCompute(t, func(c net.Conn, br *bufio.Reader, sp *startupPacket) {
		write(c, &pgproto3.AuthenticationOk{}, &pgproto3.ReadyForQuery{TxStatus: 'I'})
		_, _ = br.ReadByte() // hold the connection open
	})
	b := fixedBackend(v, socket)
	cert, err := LoadOrCreateCert(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}, Backend: b})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, ln) }()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	conn, err := pgx.Connect(t.Context(), fmt.Sprintf("host=%s port=%s user=u password=pw sslmode=require options=endpoint=ep-x", host, port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if p.Stats()["ep-x"].Open != 1 {
		t.Fatalf("stats %+v", p.Stats())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	if got := p.Stats()["ep-x"].Open; got != 0 {
		t.Fatalf("open after Serve returned = %d", got)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.opened["ep-x"] != 1 || b.closed["ep-x"] != 1 {
		t.Fatalf("opened %d closed %d", b.opened["ep-x"], b.closed["ep-x"])
	}
}
