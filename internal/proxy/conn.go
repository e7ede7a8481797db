package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grovedb/grove/internal/proxy/authlimit"
	"github.com/grovedb/grove/internal/proxy/route"
	"github.com/grovedb/grove/internal/reserved"
	"github.com/grovedb/grove/internal/scram"
	"github.com/jackc/pgx/v5/pgproto3"
)

// errConnect marks failures to reach the compute (wake or dial).
var errConnect = errors.New("connect to compute")

// client is the client side of one connection during the handshake.
type client struct {
	conn net.Conn
	addr netip.Addr // the peer's address, invalid when it has none
	br   *bufio.Reader
	tls  bool
	// tunnel marks a connection carried by a WebSocket: secure without
	// TLS of its own (see serveWebSocket).
	tunnel  bool
	sni     string
	version uint32
	params  map[string]string
	keys    []string
	// havePassword is set once the client sent a cleartext password (the
	// password hack, or one pipelined after the startup packet).
	havePassword bool
	// pendingPeek, when set, reports a read of br that pipelinedPassword
	// left running: br is not to be used before it has reported.
	pendingPeek chan error
}

// secure reports a channel the client's password may cross in cleartext:
// TLS, or a WebSocket (whose wss TLS, or loopback, the operator chose).
func (c *client) secure() bool { return c.tls || c.tunnel }

// tunnelPasswordGrace is how long a tunnelled client that sent only its
// startup packet has to send a password unasked before it is asked for
// SCRAM (see pipelinedPassword).
const tunnelPasswordGrace = 50 * time.Millisecond

// pipelinedPassword reports a PasswordMessage that a tunnelled client sent
// after its startup packet without being asked, as Neon's serverless
// driver does by default (pipelineConnect "password"): in the startup
// packet's WebSocket message with coalesceWrites, the default, or in the
// next one, sent at once, without. A client that sent nothing more is
// given tunnelPasswordGrace; past it, the read goes on in the background
// (pendingPeek) while the client is asked for SCRAM.
func (c *client) pipelinedPassword() (bool, error) {
	if !c.tunnel {
		return false, nil
	}
	if c.br.Buffered() == 0 {
		peeked := make(chan error, 1)
		go func() {
			_, err := c.br.Peek(1)
			peeked <- err
		}()
		t := time.NewTimer(tunnelPasswordGrace)
		defer t.Stop()
		select {
		case err := <-peeked:
			if err != nil {
				return false, fmt.Errorf("read after startup packet: %w", err)
			}
		case <-t.C:
			c.pendingPeek = peeked
			return false, nil
		}
	}
	b, err := c.br.Peek(1)
	return err == nil && b[0] == 'p', nil
}

// settle waits for the read pipelinedPassword left running, if any.
func (c *client) settle() error {
	if c.pendingPeek == nil {
		return nil
	}
	err := <-c.pendingPeek
	c.pendingPeek = nil
	return err
}

// askPassword sends AuthenticationCleartextPassword and reads the answer.
func (c *client) askPassword() (string, error) {
	if err := c.send(&pgproto3.AuthenticationCleartextPassword{}); err != nil {
		return "", err
	}
	return readPassword(c)
}

func (c *client) send(msgs ...pgproto3.BackendMessage) error {
	var buf []byte
	for _, m := range msgs {
		var err error
		if buf, err = m.Encode(buf); err != nil {
			return fmt.Errorf("encode %T: %w", m, err)
		}
	}
	_, err := c.conn.Write(buf)
	return err
}

// tunnel describes a connection that came inside a WebSocket rather than
// on a TCP listener of the proxy.
type tunnel struct {
	// serverName stands in for the TLS SNI name: the host name the client
	// asked the HTTP server for.
	serverName string
}

// serveConn runs one client connection from accept to close; t is nil for
// a TCP connection.
func (p *Proxy) serveConn(ctx context.Context, raw net.Conn, t *tunnel) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c := &client{conn: raw, addr: peerAddr(raw)}
	if t != nil {
		c.tunnel, c.sni = true, t.serverName
	}
	// Closing the current conn (TLS or not) unblocks every read on shutdown.
	var connMu sync.Mutex
	stop := context.AfterFunc(ctx, func() {
		connMu.Lock()
		defer connMu.Unlock()
		abort(c.conn)
	})
	defer stop()
	defer func() {
		connMu.Lock()
		defer connMu.Unlock()
		c.conn.Close()
	}()
	log := p.log.With("remote", raw.RemoteAddr().String())
	if c.tunnel {
		log = log.With("transport", "websocket")
	}

	deadline := time.Now().Add(p.cfg.AuthTimeout)
	_ = raw.SetDeadline(deadline)
	hctx, hcancel := context.WithDeadline(ctx, deadline)
	defer hcancel()

	err := p.negotiate(hctx, c, &connMu)
	if errors.Is(err, errCancelDone) {
		return
	}
	if err != nil {
		p.fail(log, c, err)
		return
	}
	log = log.With("user", c.params["user"])
	if err := p.session(hctx, ctx, c, log); err != nil {
		p.fail(log, c, err)
	}
}

// errCancelDone ends a connection that carried a cancel request.
var errCancelDone = errors.New("cancel request handled")

// abort closes conn at once: a tunnelled connection's Close waits for the
// peer to answer its close frame, which shutting down does not.
func abort(conn net.Conn) {
	if a, ok := conn.(interface{ abort() }); ok {
		a.abort()
		return
	}
	conn.Close()
}

// peerAddr is the IP address of conn's peer.
func peerAddr(conn net.Conn) netip.Addr {
	if a, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	ap, err := netip.ParseAddrPort(conn.RemoteAddr().String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// fail reports err to the client as an ErrorResponse (when the connection
// still works) and logs it once. What clients cause by the thousand
// (stalls, throttled logins) is counted in Events and logged at debug.
func (p *Proxy) fail(log *slog.Logger, c *client, err error) {
	if !errors.Is(err, errConnect) && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)) {
		log.Debug("proxy: client went away", "err", err)
		return
	}
	msg, internal := errorResponse(err)
	switch {
	case isClientStall(err):
		p.events.handshakeTimeouts.Add(1)
		log.Debug("proxy: client stalled", "err", err)
	case errors.Is(err, authlimit.ErrThrottled):
		log.Debug("proxy: login throttled", "err", err)
	case internal:
		log.Error("proxy: connection failed", "err", err)
	default:
		log.Info("proxy: connection refused", "err", err, "sqlstate", msg.Code)
	}
	_ = c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_ = c.send(msg)
}

// negotiate reads startup packets until a real StartupMessage, answering
// SSL/GSSENC requests and cancel requests on the way.
func (p *Proxy) negotiate(ctx context.Context, c *client, connMu *sync.Mutex) error {
	c.br = bufio.NewReaderSize(c.conn, 4096)
	for {
		// Direct TLS (libpq 17 sslnegotiation=direct): a TLS record instead
		// of a startup packet. A tunnel has TLS outside (wss), not inside.
		if !c.tls && !c.tunnel {
			b, err := c.br.Peek(1)
			if err != nil {
				return fmt.Errorf("read startup packet: %w", err)
			}
			if b[0] == 0x16 {
				if err := p.startTLS(ctx, c, connMu, true); err != nil {
					return err
				}
				continue
			}
		}
		sp, err := readStartup(c.br, p.cfg.MaxStartupPacket)
		if err != nil {
			return err
		}
		switch sp.code {
		case codeSSL:
			if c.tls {
				return protocolErrorf("SSLRequest over TLS")
			}
			// Bytes after the SSLRequest would be unencrypted data
			// injected ahead of the handshake (CVE-2021-23214).
			if c.br.Buffered() > 0 {
				return protocolErrorf("received unencrypted data after SSL request")
			}
			if c.tunnel {
				// The WebSocket is the secure channel; the serverless
				// driver sends no SSLRequest (forceDisablePgSSL), and
				// one that does hears that TLS is not spoken inside.
				if _, err := c.conn.Write([]byte{'N'}); err != nil {
					return fmt.Errorf("write SSL response: %w", err)
				}
				continue
			}
			if _, err := c.conn.Write([]byte{'S'}); err != nil {
				return fmt.Errorf("write SSL response: %w", err)
			}
			if err := p.startTLS(ctx, c, connMu, false); err != nil {
				return err
			}
		case codeGSSENC:
			if c.br.Buffered() > 0 {
				return protocolErrorf("received unencrypted data after GSSAPI encryption request")
			}
			if _, err := c.conn.Write([]byte{'N'}); err != nil {
				return fmt.Errorf("write GSSENC response: %w", err)
			}
		case codeCancel:
			if err := p.forwardCancel(ctx, sp.pid, sp.secret); err != nil {
				p.log.Warn("proxy: cancel request", "err", err)
			}
			return errCancelDone
		default:
			c.version, c.params, c.keys = sp.code, sp.params, sp.keys
			if !c.secure() && !p.cfg.AllowPlaintext {
				p.events.plaintextRefused.Add(1)
				return errInsecure
			}
			return nil
		}
	}
}

func (p *Proxy) startTLS(ctx context.Context, c *client, connMu *sync.Mutex, direct bool) error {
	// The handshake reads through c.br so a pipelined ClientHello is not lost.
	tc := tls.Server(&bufferedConn{Conn: c.conn, r: c.br}, p.tls)
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("tls handshake: %w", err)
	}
	connMu.Lock()
	c.conn = tc
	connMu.Unlock()
	st := tc.ConnectionState()
	if direct && st.NegotiatedProtocol != "postgresql" {
		return protocolErrorf("direct SSL connection requires ALPN protocol \"postgresql\"")
	}
	c.br = bufio.NewReaderSize(tc, 4096)
	c.tls = true
	c.sni = st.ServerName
	return nil
}

// bufferedConn reads through a bufio.Reader that may hold bytes already,
// and straight from the connection once it is drained: every TLS record
// of the session would otherwise pass through the reader's buffer, one
// more copy and call per message.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) {
	if b.r.Buffered() > 0 {
		return b.r.Read(p)
	}
	return b.Conn.Read(p)
}

// isReserved reports roles that may not log in through the proxy.
func (p *Proxy) isReserved(role string) bool {
	return p.reserved[role] || reserved.SystemRole(role)
}

// session authenticates the client, connects it to its compute and splices.
// hctx bounds the handshake; ctx is the connection's life.
func (p *Proxy) session(hctx, ctx context.Context, c *client, log *slog.Logger) error {
	user := c.params["user"]
	if user != "" && p.isReserved(user) {
		return &reservedRoleError{role: user}
	}
	if c.params["replication"] != "" && c.params["replication"] != "false" && c.params["replication"] != "0" {
		return &UserError{Code: "0A000", Message: "replication connections are not supported through the proxy"}
	}
	in := route.Input{ServerName: c.sni, Params: c.params, Domain: p.cfg.Domain}
	res, err := route.Route(in)
	if errors.Is(err, route.ErrMissingEndpoint) && c.secure() {
		// The password hack: ask for a cleartext password that may carry
		// the endpoint. Only over a secure channel, where cleartext is
		// safe.
		pw, err := c.askPassword()
		if err != nil {
			return err
		}
		in.Password, in.HavePassword = pw, true
		if res, err = route.Route(in); err != nil {
			return err
		}
		c.havePassword = true
	} else if err != nil {
		return err
	}
	log = log.With("endpoint", res.EndpointID)

	// Throttle before anything is looked up or checked. The attempt counts
	// as a failure unless refunded: after a successful check, or when no
	// check takes place. Unknown roles are charged as wrong passwords are,
	// so that throttling tells nothing about which roles exist.
	attempt, err := p.cfg.AuthLimiter.Begin(res.EndpointID, c.addr)
	if err != nil {
		var te *authlimit.ThrottledError
		if errors.As(err, &te) {
			p.events.throttled(te.Scope)
		}
		return err
	}
	v, err := p.cfg.Backend.Verifier(hctx, res.EndpointID, user)
	switch {
	case errors.Is(err, ErrUnknownRole):
		// Go through the motions so a prober cannot tell unknown roles
		// from wrong passwords.
		v = scram.MockVerifier(user, p.mockSalt)
	case err != nil:
		attempt.Refund()
		return fmt.Errorf("%w %q on %s: %w", errLookup, user, res.EndpointID, err)
	}

	// A known role on a known endpoint: wake the compute while the client
	// authenticates, so that a cold start overlaps the TLS and SCRAM round
	// trips. A failed login leaves the compute to its idle timeout.
	wake := make(chan wakeResult, 1)
	if err == nil {
		go func() {
			wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.ConnectTimeout)
			defer wcancel()
			socket, err := p.cfg.Backend.Connect(wctx, res.EndpointID, res.Pooler)
			wake <- wakeResult{socket, err}
		}()
	}

	if !c.havePassword {
		pipelined, err := c.pipelinedPassword()
		if err != nil {
			return err
		}
		if pipelined {
			// The request the pipelined password answers is sent all the
			// same, as Neon does: node-postgres ignores it when it
			// pipelined the answer.
			if res.Password, err = c.askPassword(); err != nil {
				return err
			}
			c.havePassword = true
		}
	}
	var clientKey []byte
	if c.havePassword {
		key, ok := v.CheckPassword(res.Password)
		if !ok {
			p.events.authFailures.Add(1)
			return &authError{user: user, err: scram.ErrAuthFailed}
		}
		clientKey = key
	} else {
		if clientKey, err = p.authSCRAM(c, v); err != nil {
			if errors.Is(err, scram.ErrAuthFailed) || errors.Is(err, scram.ErrChannelBinding) {
				p.events.authFailures.Add(1)
			}
			return &authError{user: user, err: err}
		}
	}
	attempt.Refund()

	// Authenticated. From here the compute is woken and the connection
	// counts as the endpoint's.
	cctx, ccancel := context.WithTimeout(ctx, p.cfg.ConnectTimeout)
	defer ccancel()
	_ = c.conn.SetDeadline(time.Now().Add(p.cfg.ConnectTimeout))
	var w wakeResult
	select {
	case w = <-wake:
	case <-cctx.Done():
		w.err = cctx.Err()
	}
	socket, err := w.socket, w.err
	if err != nil {
		return fmt.Errorf("%w %s: %w", errConnect, res.EndpointID, err)
	}
	var d net.Dialer
	sc, err := d.DialContext(cctx, "unix", socket)
	if err != nil {
		return fmt.Errorf("%w %s: dial %s: %w", errConnect, res.EndpointID, socket, err)
	}
	defer sc.Close()
	stopS := context.AfterFunc(ctx, func() { sc.Close() })
	defer stopS()
	if dl, ok := cctx.Deadline(); ok {
		_ = sc.SetDeadline(dl)
	}

	cnt := p.counters(res.EndpointID)
	cnt.open.Add(1)
	cnt.total.Add(1)
	p.cfg.Backend.ConnOpened(res.EndpointID)
	var in64, out64 atomic.Int64
	defer func() {
		cnt.open.Add(-1)
		p.cfg.Backend.ConnClosed(res.EndpointID, in64.Load(), out64.Load())
	}()

	comp := &compute{conn: sc, br: bufio.NewReaderSize(sc, 8192)}
	key, err := p.loginCompute(c, comp, res, v, clientKey, socket, &countingWriter{w: c.conn, n: &out64, total: &cnt.out})
	if err != nil {
		return err
	}
	defer p.dropCancelKey(key)
	log.Debug("proxy: connected")

	_ = c.conn.SetDeadline(time.Time{})
	_ = sc.SetDeadline(time.Time{})
	p.splice(c, comp, cnt, &in64, &out64)
	return nil
}

// wakeResult is the outcome of waking an endpoint's compute.
type wakeResult struct {
	socket string
	err    error
}

func readPassword(c *client) (string, error) {
	typ, body, _, err := readMessage(c.br, maxMessageLen)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if typ != 'p' {
		return "", protocolErrorf("expected password response, got message type %q", typ)
	}
	return parsePassword(body)
}

// authSCRAM runs SCRAM-SHA-256(-PLUS) with the client against v and returns
// the ClientKey recovered from the proof.
func (p *Proxy) authSCRAM(c *client, v scram.Verifier) ([]byte, error) {
	var cb []byte
	if c.tls {
		cb = p.cbData
	}
	s := scram.NewServer(v, cb)
	if err := c.send(&pgproto3.AuthenticationSASL{AuthMechanisms: s.Mechanisms()}); err != nil {
		return nil, err
	}
	if err := c.settle(); err != nil {
		return nil, fmt.Errorf("read SASL initial response: %w", err)
	}
	typ, body, _, err := readMessage(c.br, maxMessageLen)
	if err != nil {
		return nil, fmt.Errorf("read SASL initial response: %w", err)
	}
	if typ != 'p' {
		return nil, protocolErrorf("expected SASL response, got message type %q", typ)
	}
	mech, data, err := parseSASLInitial(body)
	if err != nil {
		return nil, err
	}
	sf, err := s.ClientFirst(mech, data)
	if err != nil {
		return nil, err
	}
	if err := c.send(&pgproto3.AuthenticationSASLContinue{Data: sf}); err != nil {
		return nil, err
	}
	typ, body, _, err = readMessage(c.br, maxMessageLen)
	if err != nil {
		return nil, fmt.Errorf("read SASL response: %w", err)
	}
	if typ != 'p' {
		return nil, protocolErrorf("expected SASL response, got message type %q", typ)
	}
	final, err := s.ClientFinal(body)
	if err != nil {
		return nil, err
	}
	if err := c.send(&pgproto3.AuthenticationSASLFinal{Data: final}); err != nil {
		return nil, err
	}
	return s.ClientKey(), nil
}

// compute is the compute side of a connection.
type compute struct {
	conn net.Conn
	br   *bufio.Reader
}

func (s *compute) send(msgs ...pgproto3.FrontendMessage) error {
	var buf []byte
	for _, m := range msgs {
		var err error
		if buf, err = m.Encode(buf); err != nil {
			return fmt.Errorf("encode %T: %w", m, err)
		}
	}
	_, err := s.conn.Write(buf)
	return err
}

// Authentication request codes from the compute.
const (
	authOK           = 0
	authCleartext    = 3
	authSASL         = 10
	authSASLContinue = 11
	authSASLFinal    = 12
)

// loginCompute sends the startup packet, logs in with the client's key
// (pass-through), and relays the rest of the startup to the client up to
// ReadyForQuery, swapping the BackendKeyData for a proxy-issued one.
func (p *Proxy) loginCompute(c *client, s *compute, res route.Result, v scram.Verifier, clientKey []byte,
	socket string, toClient io.Writer) (cancelKey, error) {
	if _, err := s.conn.Write(encodeStartup(c.version, res.Params, c.keys)); err != nil {
		return cancelKey{}, fmt.Errorf("%w: write startup: %w", errConnect, err)
	}
	var sc *scram.Client
	var key cancelKey
	haveKey := false
	sendClient := func(b []byte) error {
		_, err := toClient.Write(b)
		return err
	}
	for {
		typ, body, raw, err := readMessage(s.br, maxComputeMessageLen)
		if err != nil {
			return cancelKey{}, fmt.Errorf("%w: read startup response: %w", errConnect, err)
		}
		switch typ {
		case 'R':
			if len(body) < 4 {
				return cancelKey{}, fmt.Errorf("%w: short authentication message", errConnect)
			}
			code, data := binary.BigEndian.Uint32(body), body[4:]
			switch code {
			case authOK:
				if err := c.send(&pgproto3.AuthenticationOk{}); err != nil {
					return cancelKey{}, err
				}
			case authSASL:
				if !strings.Contains(string(data), scram.SHA256+"\x00") {
					return cancelKey{}, fmt.Errorf("%w: compute does not offer %s", errConnect, scram.SHA256)
				}
				sc = scram.NewClientKeys(clientKey, v.ServerKey)
				first, err := sc.First()
				if err != nil {
					return cancelKey{}, err
				}
				if err := s.send(&pgproto3.SASLInitialResponse{AuthMechanism: scram.SHA256, Data: first}); err != nil {
					return cancelKey{}, fmt.Errorf("%w: %w", errConnect, err)
				}
			case authSASLContinue:
				if sc == nil {
					return cancelKey{}, fmt.Errorf("%w: unexpected SASL continue", errConnect)
				}
				final, err := sc.Final(data)
				if err != nil {
					return cancelKey{}, fmt.Errorf("%w: %w", errConnect, err)
				}
				if err := s.send(&pgproto3.SASLResponse{Data: final}); err != nil {
					return cancelKey{}, fmt.Errorf("%w: %w", errConnect, err)
				}
			case authSASLFinal:
				if sc == nil {
					return cancelKey{}, fmt.Errorf("%w: unexpected SASL final", errConnect)
				}
				if err := sc.Verify(data); err != nil {
					return cancelKey{}, fmt.Errorf("%w: compute signature: %w", errConnect, err)
				}
			case authCleartext:
				if !c.havePassword {
					return cancelKey{}, fmt.Errorf("%w: compute asks for a cleartext password, which the proxy does not have", errConnect)
				}
				if err := s.send(&pgproto3.PasswordMessage{Password: res.Password}); err != nil {
					return cancelKey{}, fmt.Errorf("%w: %w", errConnect, err)
				}
			default:
				return cancelKey{}, fmt.Errorf("%w: unsupported authentication method %d", errConnect, code)
			}
		case 'K':
			if len(body) < 8 {
				return cancelKey{}, fmt.Errorf("%w: short BackendKeyData", errConnect)
			}
			t := cancelTarget{socket: socket, pid: binary.BigEndian.Uint32(body), secret: append([]byte(nil), body[4:]...)}
			if key, err = p.issueCancelKey(t); err != nil {
				return cancelKey{}, err
			}
			haveKey = true
			if err := c.send(&pgproto3.BackendKeyData{ProcessID: key.pid, SecretKey: []byte(key.secret)}); err != nil {
				p.dropCancelKey(key)
				return cancelKey{}, err
			}
		case 'E':
			var e pgproto3.ErrorResponse
			if err := e.Decode(body); err != nil {
				return cancelKey{}, fmt.Errorf("%w: decode error: %w", errConnect, err)
			}
			if haveKey {
				p.dropCancelKey(key)
			}
			return cancelKey{}, &computeError{msg: &e}
		case 'Z':
			if err := sendClient(raw); err != nil {
				if haveKey {
					p.dropCancelKey(key)
				}
				return cancelKey{}, err
			}
			return key, nil
		case 'S', 'N', 'v':
			// ParameterStatus, notices and NegotiateProtocolVersion go to
			// the client as they are.
			if err := sendClient(raw); err != nil {
				return cancelKey{}, err
			}
		default:
			return cancelKey{}, fmt.Errorf("%w: unexpected message type %q during startup", errConnect, typ)
		}
	}
}

// splice copies bytes both ways until either side closes, counting them.
// Bytes the handshake readers buffered go first.
func (p *Proxy) splice(c *client, s *compute, cnt *endpointCounters, in, out *atomic.Int64) {
	var wg sync.WaitGroup
	wg.Add(2)
	closeBoth := sync.OnceFunc(func() {
		c.conn.Close()
		s.conn.Close()
	})
	go func() {
		defer wg.Done()
		_, _ = io.Copy(&countingWriter{w: s.conn, n: in, total: &cnt.in}, c.br)
		closeBoth()
	}()
	go func() {
		defer wg.Done()
		_, _ = io.Copy(&countingWriter{w: c.conn, n: out, total: &cnt.out}, s.br)
		closeBoth()
	}()
	wg.Wait()
}

// countingWriter counts bytes written, per connection and per endpoint.
type countingWriter struct {
	w        io.Writer
	n, total *atomic.Int64
}

func (cw *countingWriter) Write(b []byte) (int, error) {
	n, err := cw.w.Write(b)
	cw.n.Add(int64(n))
	cw.total.Add(int64(n))
	return n, err
}
