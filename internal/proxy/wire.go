package proxy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"sort"
)

// Request codes carried in the version field of a startup packet.
const (
	codeCancel  = 80877102
	codeSSL     = 80877103
	codeGSSENC  = 80877104
	protocol30  = 3 << 16
	protocol32  = 3<<16 | 2
	minStartLen = 8
	// maxCancelLen allows protocol 3.2's longer cancel keys (up to 256 bytes).
	maxCancelLen = 12 + 256
	// maxMessageLen bounds messages during authentication (SASL payloads
	// are tiny; Postgres caps them at a few KB too).
	maxMessageLen = 16 << 10
	// maxComputeMessageLen bounds messages from the compute before the
	// splice (ErrorResponse with detail, ParameterStatus).
	maxComputeMessageLen = 1 << 20
)

// startupPacket is the first message of a connection.
type startupPacket struct {
	code   uint32 // protocol version or request code
	params map[string]string
	keys   []string // parameter order as sent
	// cancel request fields
	pid    uint32
	secret []byte
}

// readStartup reads one startup packet of at most maxLen bytes.
func readStartup(r io.Reader, maxLen int) (*startupPacket, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("read startup packet: %w", err)
	}
	n := int(binary.BigEndian.Uint32(hdr[:4]))
	if n < minStartLen || n > maxLen {
		return nil, errStartupTooLarge
	}
	body := make([]byte, n-8)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("read startup packet: %w", err)
	}
	return parseStartup(binary.BigEndian.Uint32(hdr[4:]), body)
}

// parseStartup decodes the body of a startup packet after its version field.
func parseStartup(code uint32, body []byte) (*startupPacket, error) {
	sp := &startupPacket{code: code}
	switch {
	case code == codeSSL || code == codeGSSENC:
		if len(body) != 0 {
			return nil, protocolErrorf("bad length of encryption request")
		}
		return sp, nil
	case code == codeCancel:
		if len(body) < 8 || len(body)+8 > maxCancelLen {
			return nil, protocolErrorf("bad length of cancel request")
		}
		sp.pid = binary.BigEndian.Uint32(body[:4])
		sp.secret = append([]byte(nil), body[4:]...)
		return sp, nil
	case code>>16 != 3 || code > protocol32:
		return nil, &protocolVersionError{version: code}
	}
	sp.params = map[string]string{}
	for len(body) > 0 {
		if body[0] == 0 {
			if len(body) != 1 {
				return nil, protocolErrorf("invalid startup packet layout: expected terminator as last byte")
			}
			return sp, nil
		}
		k, rest, ok := cutCString(body)
		if !ok {
			return nil, protocolErrorf("invalid startup packet layout")
		}
		v, rest, ok := cutCString(rest)
		if !ok {
			return nil, protocolErrorf("invalid startup packet layout: missing value for %q", k)
		}
		if _, dup := sp.params[k]; !dup {
			sp.keys = append(sp.keys, k)
		}
		sp.params[k] = v
		body = rest
	}
	return nil, protocolErrorf("invalid startup packet layout: expected terminator as last byte")
}

func cutCString(b []byte) (string, []byte, bool) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return "", nil, false
	}
	return string(b[:i]), b[i+1:], true
}

// encodeStartup builds the startup packet for the compute: user and database
// first (as libpq sends them), then the rest in the client's order.
func encodeStartup(version uint32, params map[string]string, order []string) []byte {
	seen := map[string]bool{}
	var keys []string
	for _, k := range append([]string{"user", "database"}, order...) {
		if _, ok := params[k]; ok && !seen[k] {
			keys = append(keys, k)
			seen[k] = true
		}
	}
	var extra []string
	for k := range params {
		if !seen[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	keys = append(keys, extra...)
	buf := make([]byte, 8, 256)
	binary.BigEndian.PutUint32(buf[4:], version)
	for _, k := range keys {
		buf = append(append(buf, k...), 0)
		buf = append(append(buf, params[k]...), 0)
	}
	buf = append(buf, 0)
	binary.BigEndian.PutUint32(buf[:4], uint32(len(buf)))
	return buf
}

// encodeCancel builds a CancelRequest packet.
func encodeCancel(pid uint32, secret []byte) []byte {
	buf := make([]byte, 12, 12+len(secret))
	binary.BigEndian.PutUint32(buf[0:], uint32(12+len(secret)))
	binary.BigEndian.PutUint32(buf[4:], codeCancel)
	binary.BigEndian.PutUint32(buf[8:], pid)
	return append(buf, secret...)
}

// readMessage reads one typed message with a body of at most maxLen bytes.
// It returns the raw message (type, length and body) for relaying.
func readMessage(r *bufio.Reader, maxLen int) (typ byte, body, raw []byte, err error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, nil, err
	}
	n := int(binary.BigEndian.Uint32(hdr[1:]))
	if n < 4 || n-4 > maxLen {
		return 0, nil, nil, protocolErrorf("invalid message length %d for message type %q", n, hdr[0])
	}
	raw = make([]byte, 1+n)
	copy(raw, hdr[:])
	if _, err := io.ReadFull(r, raw[5:]); err != nil {
		return 0, nil, nil, err
	}
	return hdr[0], raw[5:], raw, nil
}

// parseSASLInitial decodes a SASLInitialResponse body.
func parseSASLInitial(body []byte) (mech string, data []byte, err error) {
	mech, rest, ok := cutCString(body)
	if !ok || len(rest) < 4 {
		return "", nil, protocolErrorf("malformed SASLInitialResponse")
	}
	n := int32(binary.BigEndian.Uint32(rest))
	rest = rest[4:]
	if n == -1 {
		return mech, nil, nil
	}
	if n < 0 || int(n) != len(rest) {
		return "", nil, protocolErrorf("malformed SASLInitialResponse")
	}
	return mech, rest, nil
}

// parsePassword decodes a PasswordMessage body.
func parsePassword(body []byte) (string, error) {
	pw, rest, ok := cutCString(body)
	if !ok || len(rest) != 0 {
		return "", protocolErrorf("malformed password message")
	}
	return pw, nil
}
