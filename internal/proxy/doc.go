// Package proxy is Grove's Postgres wire proxy: one TCP listener in front of
// every endpoint's compute, speaking the protocol the way Neon's proxy does
// so that Neon connection strings and client libraries work unchanged.
// Proxy.WebSocket serves the same protocol inside WebSockets, for the Pool
// and Client of @neondatabase/serverless (see below).
//
// # Lifecycle of a connection
//
//  1. Negotiation. The proxy reads startup packets, each bounded by
//     Config.MaxStartupPacket and the whole handshake by Config.AuthTimeout.
//     SSLRequest is answered 'S' and followed by a TLS handshake (the SNI name
//     is kept for routing); a TLS ClientHello as first bytes is direct TLS
//     (libpq 17 sslnegotiation=direct, ALPN "postgresql"); GSSENCRequest is
//     answered 'N'; a CancelRequest is forwarded (see below) and the
//     connection closed. Unencrypted bytes pipelined after an SSL or GSSENC
//     request are refused, as Postgres does since CVE-2021-23214. A
//     StartupMessage without TLS is refused with Neon's text ("connection
//     is insecure (try using `sslmode=require`)") unless
//     Config.AllowPlaintext is set (local development); cancel requests,
//     which libpq sends unencrypted, are always accepted.
//  2. Routing. Reserved roles (cloud_admin, Neon's own, pg_*) are refused
//     first. Package route picks the endpoint from SNI, options or — over
//     TLS only — the password hack, for which the proxy asks for a cleartext
//     password.
//  3. Throttling: Config.AuthLimiter (package authlimit) reserves the
//     attempt for the endpoint and the client's address before the role is
//     looked up, and refuses it with Neon's "Too many connections to this
//     endpoint. Please try again later." once the address's or the
//     endpoint's budget of failures is spent. A successful check, or a
//     lookup that fails, gives the attempt back; anything else (wrong
//     password, unknown role, a client gone mid-exchange) counts as a
//     failure. The same front door serves -pooler hosts, so the TLS rule
//     and the throttle cover pooled logins too.
//  4. Authentication at the proxy, against Backend.Verifier: SCRAM-SHA-256,
//     or SCRAM-SHA-256-PLUS bound to Config.TLS.Certificates[0]
//     (tls-server-end-point) when over TLS; for the password hack the
//     cleartext password is checked against the verifier. Unknown roles get a
//     mock exchange, so they look like wrong passwords. A failed login never
//     calls Backend.Connect, so it never wakes a compute.
//  5. Backend.Connect wakes the compute and names its Unix socket (for the
//     -pooler host, that of the compute's PgBouncer, which checks the same
//     SCRAM proof and logs in to the compute with it). The proxy
//     sends the client's startup packet minus the routing options, answers
//     the compute's SCRAM challenge with the ClientKey recovered from the
//     client's proof (pass-through: the compute holds the same verifier, so
//     no password is ever stored), and relays ParameterStatus, notices and
//     ReadyForQuery. The compute's BackendKeyData is replaced by a random key
//     the proxy issues and maps to the compute's pid/secret and socket.
//  6. Splice: bytes are copied both ways (anything the handshake readers had
//     buffered first) until either side closes, counted per connection and
//     per endpoint (Stats; Backend.ConnOpened/ConnClosed).
//
// Every failure becomes one FATAL ErrorResponse with a SQLSTATE, built in
// one place (errorResponse); internal causes are logged, not shown. What
// clients cause by the thousand is counted in Events (exported to
// Prometheus by package proxymetrics) and logged at debug level only:
// clients that stall past Config.AuthTimeout, throttled logins.
//
// # WebSockets
//
// Proxy.WebSocket is an http.Handler for the data-plane HTTP listener. It
// upgrades a request on any path (the driver dials wss://<host>/v2), from
// any origin: the driver runs in browsers and edge runtimes, and the
// Postgres password, not the origin, authorizes the login. Other requests
// get Neon's 400 "query is not supported". The binary messages carry the
// protocol's bytes (websocket.NetConn), and the stream goes through the
// lifecycle above with these differences:
//
//   - The WebSocket is the secure channel (wss, or plain HTTP on loopback
//     by the operator's choice): no TLS inside it. A StartupMessage without
//     TLS is accepted; an SSLRequest, which the driver does not send
//     (forceDisablePgSSL), is answered 'N'; the password hack works.
//   - The HTTP Host header stands in for the SNI name (without its port;
//     an IP address names no endpoint); then options, then the password
//     hack route as over TCP. The request's RemoteAddr is the address the
//     throttle charges.
//   - The driver's default start-up (pipelineConnect "password") sends
//     the StartupMessage, a cleartext PasswordMessage and often the first
//     query before any request: in one message (coalesceWrites, the
//     default), or in messages sent at once. When a PasswordMessage
//     follows the StartupMessage, buffered or within 50ms, the proxy sends
//     the AuthenticationCleartextPassword it answers (node-postgres ignores
//     it), checks the password against the verifier as for the password
//     hack, and the pipelined query reaches the compute after the login
//     (the splice copies what the handshake reader buffered first). A
//     client that waits to be asked is asked for SCRAM-SHA-256, never
//     -PLUS: there is no TLS in the tunnel to bind to.
//   - Deadlines are set on the hijacked connection, so a stalled client
//     hears "Authentication timed out" as over TCP. A client that closes
//     its WebSocket has gone away; one that breaks the WebSocket protocol
//     (a text message) commits a protocol violation. Closing a tunnel sends
//     a WebSocket close frame and waits up to two seconds for the answer;
//     Shutdown and Close drop tunnels without one.
//   - Tunnels are the proxy's connections, not those of a Serve call:
//     Shutdown and Close end them and then refuse upgrades (503); ending a
//     Serve's context does not.
//
// # Concurrency
//
// Serve runs one goroutine per connection plus two while splicing. Stats
// counters are atomics; the endpoint and cancel-key maps are under one
// mutex, held only for map operations. Shutdown stops the listeners, waits
// for connections until its context ends and then closes the rest; Close
// does that at once. Ending Serve's context closes its listener and the
// connections it accepted, and Serve waits for them.
//
// # Compatibility gaps
//
//   - Only SCRAM pass-through to the compute: a compute whose role has an
//     MD5 password, or a verifier that differs from Backend.Verifier (password
//     changed in SQL but not in the platform), refuses the login.
//   - Replication connections, GSSAPI and SSPI are not supported.
//   - Neon's neon_lsn/neon_endpoint_type options are stripped, not honoured.
//   - Endpoint ids are ASCII letters, digits and '-' (Neon allows any Unicode
//     alphanumeric).
//   - SQL over HTTP is not served here.
//   - Over WebSockets, Neon always asks for a cleartext password; Grove asks
//     for SCRAM unless a password follows the startup packet unasked within
//     50ms. The driver's password function that resolves later than that
//     after the socket opens (with the default pipelineConnect "password")
//     meets a SCRAM request it cannot answer; pipelineConnect false works.
//   - No TLS inside a WebSocket (the driver's forceDisablePgSSL false with
//     sslmode=require is refused by the client on 'N'), and no WebSockets
//     over HTTP/2 (RFC 8441): browsers use HTTP/1.1 unless the server
//     offers extended CONNECT, which Go's does not by default.
//   - Error SQLSTATEs for routing failures (08004) are Grove's choice; Neon
//     sends its texts with less specific codes. The refusals of plaintext
//     and of throttled logins carry Neon's XX000.
//   - Neon's throttle charges every attempt by its hashing cost, keyed by
//     endpoint and address; Grove's charges failures only, per address and
//     per endpoint, with budgets small enough to stop password guessing.
package proxy
