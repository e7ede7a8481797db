// Package route decides which endpoint a Postgres client connection is for,
// the way Neon's proxy does: from the first label of the TLS SNI host name,
// else from endpoint=<id> (or project=<id>) in the startup packet's options,
// else from the "password hack" (a password of the form endpoint=<id>;<pw>).
// It is pure: no I/O, no knowledge of the platform.
package route

import (
	"fmt"
	"strings"
)

// PoolerSuffix on the endpoint label asks for the endpoint's connection pooler.
const PoolerSuffix = "-pooler"

// maxEndpointLen bounds endpoint ids; they are DNS labels.
const maxEndpointLen = 63

// Input is what the proxy knows about a connection when it routes it.
type Input struct {
	// ServerName is the TLS SNI host name, "" without TLS or SNI.
	ServerName string
	// Params are the startup packet's parameters (user, database, options…).
	Params map[string]string
	// Password is the cleartext password, when the client sent one
	// (HavePassword); only used for the password hack.
	Password     string
	HavePassword bool
	// Domain is the proxy's configured domain ("" = none). SNI names under
	// it, and names under "localhost", give the endpoint.
	Domain string
}

// Result is a routed connection.
type Result struct {
	EndpointID string
	// Pooler is set when the endpoint label ended in -pooler.
	Pooler bool
	// Params are the startup parameters to forward to the compute: the
	// routing options are removed from options (and options dropped when
	// nothing else was in it).
	Params map[string]string
	// Password is the password with any endpoint=…; prefix removed.
	Password string
	// PasswordHack is set when the endpoint came from the password.
	PasswordHack bool
}

// Kind classifies routing errors.
type Kind int

// Routing error kinds.
const (
	MissingUser Kind = iota + 1
	MissingEndpoint
	InconsistentEndpoint
	UnknownDomain
	MalformedEndpoint
)

// Error is a routing failure with the text to show the client.
type Error struct {
	Kind Kind
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Is lets errors.Is(err, ErrMissingEndpoint) and friends match by kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Msg == "" && t.Kind == e.Kind
}

// Sentinels to test kinds with errors.Is.
var (
	ErrMissingUser          = &Error{Kind: MissingUser}
	ErrMissingEndpoint      = &Error{Kind: MissingEndpoint}
	ErrInconsistentEndpoint = &Error{Kind: InconsistentEndpoint}
	ErrUnknownDomain        = &Error{Kind: UnknownDomain}
	ErrMalformedEndpoint    = &Error{Kind: MalformedEndpoint}
)

// Neon's texts (proxy/src/auth/credentials.rs and auth/mod.rs), so that
// documentation and client error handling written for Neon apply.
const missingEndpointText = "Endpoint ID is not specified. " +
	"Either please upgrade the postgres client library (libpq) for SNI support " +
	"or pass the endpoint ID (first part of the domain name) as a parameter: '?options=endpoint%3D<endpoint-id>'. " +
	"See more at https://neon.tech/sni"

// Route picks the endpoint of a connection.
func Route(in Input) (Result, error) {
	if in.Params["user"] == "" {
		return Result{}, &Error{Kind: MissingUser, Msg: "Parameter 'user' is missing in startup packet."}
	}
	fromSNI, err := endpointFromSNI(in.ServerName, in.Domain)
	if err != nil {
		return Result{}, err
	}
	fromOption, params := endpointFromOptions(in.Params)

	res := Result{Params: params, Password: in.Password}
	switch {
	case fromSNI != "" && fromOption != "" && fromSNI != fromOption:
		return Result{}, &Error{Kind: InconsistentEndpoint, Msg: fmt.Sprintf(
			"Inconsistent project name inferred from SNI ('%s') and project option ('%s').", fromSNI, fromOption)}
	case fromSNI != "":
		res.EndpointID = fromSNI
	case fromOption != "":
		res.EndpointID = fromOption
	case in.HavePassword:
		ep, pw, ok := parsePasswordHack(in.Password)
		if !ok {
			return Result{}, &Error{Kind: MissingEndpoint, Msg: missingEndpointText}
		}
		res.EndpointID, res.Password, res.PasswordHack = ep, pw, true
	default:
		return Result{}, &Error{Kind: MissingEndpoint, Msg: missingEndpointText}
	}
	if !validEndpoint(res.EndpointID) {
		return Result{}, &Error{Kind: MalformedEndpoint, Msg: fmt.Sprintf(
			"Project name ('%s') must contain only alphanumeric characters and hyphen.", res.EndpointID)}
	}
	if base, ok := strings.CutSuffix(res.EndpointID, PoolerSuffix); ok && base != "" {
		res.EndpointID, res.Pooler = base, true
	}
	return res, nil
}

// endpointFromSNI returns the first label of name when name is under domain
// or under "localhost". With a domain configured, other names are an error
// (Neon's UnknownCommonName); without one they are ignored, so a client that
// reaches the proxy by some host name still routes by options. Bare
// "localhost" and IP addresses (never sent as SNI) carry no endpoint.
func endpointFromSNI(name, domain string) (string, error) {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	domain = strings.Trim(strings.ToLower(domain), ".")
	if name == "" || name == "localhost" || (domain != "" && name == domain) {
		return "", nil
	}
	label, rest, ok := strings.Cut(name, ".")
	if ok && (rest == "localhost" || strings.HasSuffix(rest, ".localhost")) && label != "" {
		return label, nil
	}
	if domain != "" {
		if ok && label != "" && (rest == domain || strings.HasSuffix(rest, "."+domain)) {
			return label, nil
		}
		cn := rest
		if !ok {
			cn = name
		}
		return "", &Error{Kind: UnknownDomain, Msg: fmt.Sprintf("Common name inferred from SNI ('%s') is not known", cn)}
	}
	return "", nil
}

// endpointFromOptions finds endpoint=<id> or project=<id> among the
// whitespace-separated options and returns the params with those removed.
// Like Neon, more than one such option means none (it cannot tell which).
// Neon's own neon_* options are removed too: Postgres would reject them.
func endpointFromOptions(in map[string]string) (string, map[string]string) {
	params := make(map[string]string, len(in))
	for k, v := range in {
		params[k] = v
	}
	opts, ok := in["options"]
	if !ok {
		return "", params
	}
	words := SplitOptions(opts)
	var found []string
	kept := words[:0:0]
	for i := 0; i < len(words); i++ {
		w := words[i]
		if ep, ok := parseEndpointParam(w); ok {
			found = append(found, ep)
			// "-c endpoint=x" would leave a dangling -c behind.
			if n := len(kept); n > 0 && kept[n-1] == "-c" {
				kept = kept[:n-1]
			}
			continue
		}
		if strings.HasPrefix(w, "neon_") {
			continue
		}
		kept = append(kept, w)
	}
	if len(kept) == 0 {
		delete(params, "options")
	} else {
		params["options"] = JoinOptions(kept)
	}
	if len(found) != 1 {
		return "", params
	}
	return found[0], params
}

func parseEndpointParam(s string) (string, bool) {
	if v, ok := strings.CutPrefix(s, "endpoint="); ok {
		return v, true
	}
	return strings.CutPrefix(s, "project=")
}

// parsePasswordHack splits endpoint=<id>;<password> (or with $), at the
// first ';' if there is one, else at the first '$', as Neon does.
func parsePasswordHack(pw string) (endpoint, password string, ok bool) {
	for _, sep := range []string{";", "$"} {
		if head, tail, found := strings.Cut(pw, sep); found {
			ep, ok := parseEndpointParam(head)
			return ep, tail, ok
		}
	}
	return "", "", false
}

// validEndpoint is stricter than Neon (which allows any Unicode
// alphanumeric): Grove's ids are ASCII DNS labels, and the id reaches the
// platform's lookups.
func validEndpoint(s string) bool {
	if s == "" || len(s) > maxEndpointLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// SplitOptions splits an options startup parameter the way Postgres does
// (pg_split_opts): on whitespace, with a backslash escaping the next byte.
func SplitOptions(s string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// JoinOptions is the inverse of SplitOptions.
func JoinOptions(words []string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		for j := 0; j < len(w); j++ {
			switch w[j] {
			case '\\', ' ', '\t', '\n', '\r', '\f', '\v':
				b.WriteByte('\\')
			}
			b.WriteByte(w[j])
		}
	}
	return b.String()
}
