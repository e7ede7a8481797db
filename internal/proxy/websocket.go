package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// tunnelCloseGrace bounds the WebSocket close handshake when a tunnelled
// connection ends: the library waits up to 5s for each of its steps, and a
// peer that stopped reading would hold the connection that long.
const tunnelCloseGrace = 2 * time.Second

// WebSocket returns the handler that serves the Postgres protocol over
// WebSockets, as Neon's proxy does for the Pool and Client of
// @neondatabase/serverless: the binary messages of a WebSocket opened on any
// path carry the protocol's bytes, and the stream goes through the routing,
// throttling and authentication of a TCP connection (see the package doc).
// Requests that are not WebSocket upgrades get 400 with Neon's answer.
//
// The handler returns when the tunnelled connection ends. Shutdown and Close
// end tunnelled connections too, and the handler refuses upgrades (503)
// once the proxy is shutting down.
func (p *Proxy) WebSocket() http.Handler { return http.HandlerFunc(p.serveWebSocket) }

func (p *Proxy) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	if !isWebSocketUpgrade(r.Header) {
		// Neon's text, as a JSON string, for whatever is neither a
		// WebSocket nor SQL over HTTP.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`"query is not supported"`))
		return
	}
	if !p.track() {
		http.Error(w, "the Postgres proxy is shutting down", http.StatusServiceUnavailable)
		return
	}
	defer p.conns.Done()
	hw := &hijackWriter{ResponseWriter: w}
	ws, err := websocket.Accept(hw, r, &websocket.AcceptOptions{
		// Any origin may connect: the driver runs in browsers and edge
		// runtimes on their own sites, and nothing ambient (cookies, the
		// client's network position) authorizes a login here, only the
		// Postgres password inside the tunnel.
		InsecureSkipVerify: true,
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		// Accept has answered the client.
		p.log.Debug("proxy: websocket upgrade refused", "remote", r.RemoteAddr, "err", err)
		return
	}
	// The HTTP server's deadlines may still be set on the hijacked
	// connection; from here the proxy sets its own.
	_ = hw.conn.SetDeadline(time.Time{})
	tc := &tunnelConn{
		// A context that never ends: a cancellable one would cost an
		// AfterFunc per read; serveConn closes the conn instead.
		Conn:   websocket.NetConn(context.Background(), ws, websocket.MessageBinary),
		raw:    hw.conn,
		remote: requestAddr(r.RemoteAddr, hw.conn),
	}
	p.serveConn(p.baseCtx, tc, &tunnel{serverName: serverName(r.Host)})
}

// track counts a connection that arrived by another server than the
// proxy's own listeners, unless the proxy is shutting down. The check and
// the count are one step under p.mu, so Shutdown's wait never misses one.
func (p *Proxy) track() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns.Add(1)
	return true
}

// isWebSocketUpgrade reports a request asking to switch to WebSocket
// (Connection: upgrade and Upgrade: websocket, as tokens of lists).
func isWebSocketUpgrade(h http.Header) bool {
	return headerHasToken(h, "Connection", "upgrade") && headerHasToken(h, "Upgrade", "websocket")
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// serverName is the host of an HTTP Host header as SNI would carry it:
// without the port, and empty for an IP address, which SNI never names
// (package route would read its first octet as an endpoint).
func serverName(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if _, err := netip.ParseAddr(host); err == nil {
		return ""
	}
	return host
}

// requestAddr is the peer address of an HTTP request, which the server (or
// a handler before this one) fills in, else that of the connection.
func requestAddr(remote string, conn net.Conn) net.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return net.TCPAddrFromAddrPort(ap)
	}
	return conn.RemoteAddr()
}

// hijackWriter keeps the connection websocket.Accept hijacks.
type hijackWriter struct {
	http.ResponseWriter
	conn net.Conn
}

func (h *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err == nil {
		h.conn = c
	}
	return c, brw, err
}

func (h *hijackWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// tunnelConn is the byte stream of a WebSocket's binary messages
// (websocket.NetConn: each Write is one message), with the peer address of
// the HTTP request. Its deadlines are those of the hijacked connection
// underneath: NetConn's own close the WebSocket when they expire during a
// read, while a TCP deadline only interrupts it, leaving the proxy able to
// tell a stalled client why it is closed, as over TCP.
type tunnelConn struct {
	net.Conn
	raw    net.Conn
	remote net.Addr
}

func (t *tunnelConn) RemoteAddr() net.Addr { return t.remote }

func (t *tunnelConn) Read(p []byte) (int, error) {
	n, err := t.Conn.Read(p)
	if err != nil && err != io.EOF {
		err = tunnelError(err)
	}
	return n, err
}

// tunnelError sorts what NetConn reports, for the proxy's failure
// handling: a close frame is the client leaving; network errors
// (timeouts, resets) stay as they are; anything else is the client
// breaking the WebSocket protocol (a text message, a malformed frame).
func tunnelError(err error) error {
	var ne net.Error
	switch {
	case websocket.CloseStatus(err) != -1:
		return fmt.Errorf("websocket closed by the client: %w (%w)", io.EOF, err)
	case errors.As(err, &ne), errors.Is(err, net.ErrClosed):
		return err
	default:
		return fmt.Errorf("%w: websocket: %w", errProtocol, err)
	}
}

func (t *tunnelConn) SetDeadline(d time.Time) error      { return t.raw.SetDeadline(d) }
func (t *tunnelConn) SetReadDeadline(d time.Time) error  { return t.raw.SetReadDeadline(d) }
func (t *tunnelConn) SetWriteDeadline(d time.Time) error { return t.raw.SetWriteDeadline(d) }

// Close ends the WebSocket with a close handshake, for at most
// tunnelCloseGrace.
func (t *tunnelConn) Close() error {
	force := time.AfterFunc(tunnelCloseGrace, t.abort)
	defer force.Stop()
	return t.Conn.Close()
}

// abort drops the connection without a close handshake.
func (t *tunnelConn) abort() { t.raw.Close() }
