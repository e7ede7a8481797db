package sqlhttp

import (
	"errors"
	"net"
	"net/url"
	"strings"

	"github.com/grovedb/grove/internal/proxy/route"
)

// connInfo is what a request's Neon-Connection-String names.
type connInfo struct {
	endpoint string
	database string
	role     string
	password string
	// options are the startup options left once the routing ones are
	// removed; part of the pool key, since they set session state.
	options string
}

// parseConnString reads the Neon-Connection-String header the way Neon's
// proxy does: scheme postgres or postgresql, the first path segment is the
// database, a username is required, the password comes from the URL. The
// endpoint is the first label of the host name when the host is under the
// domain (or localhost), else endpoint=… in the options query parameter;
// an IP host without that option names no endpoint ("missing hostname").
func parseConnString(s, domain string) (connInfo, error) {
	if s == "" {
		return connInfo{}, userErrorf("invalid header: neon-connection-string")
	}
	u, err := url.Parse(s)
	if err != nil {
		return connInfo{}, userErrorf("invalid connection string: %v", err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return connInfo{}, userErrorf("incorrect scheme")
	}
	db, _, _ := strings.Cut(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
	if db, err = url.PathUnescape(db); err != nil || db == "" {
		return connInfo{}, userErrorf("invalid database name")
	}
	ci := connInfo{database: db}
	if u.User == nil || u.User.Username() == "" {
		return connInfo{}, userErrorf("missing username")
	}
	ci.role = u.User.Username()
	pw, ok := u.User.Password()
	if !ok {
		return connInfo{}, userErrorf("missing authentication credentials: required password")
	}
	ci.password = pw

	params := map[string]string{"user": ci.role, "database": db}
	for k, vs := range u.Query() {
		if len(vs) > 0 {
			params[k] = vs[len(vs)-1]
		}
	}
	host := u.Hostname()
	if host == "" {
		return connInfo{}, userErrorf("missing hostname")
	}
	in := route.Input{Params: params, Domain: domain}
	if net.ParseIP(host) == nil {
		in.ServerName = host
	}
	res, err := route.Route(in)
	if err != nil {
		var re *route.Error
		switch {
		case in.ServerName == "" && errors.Is(err, route.ErrMissingEndpoint):
			return connInfo{}, userErrorf("missing hostname")
		case errors.As(err, &re):
			return connInfo{}, userErrorf("invalid hostname: %s", re.Msg)
		default:
			return connInfo{}, userErrorf("invalid hostname: %v", err)
		}
	}
	ci.endpoint = res.EndpointID
	ci.options = res.Params["options"]
	return ci, nil
}
