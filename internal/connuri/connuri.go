// Package connuri says where clients connect: the regions Grove answers
// for, each region's proxy host, endpoints' and poolers' host names under
// it, and connection strings that libpq, pgx and node-postgres parse.
package connuri

import (
	"net"
	"net/url"
	"strings"
)

// Regions Grove answers for; names follow Neon's so that integrations that
// hard-code a region id keep working.
var Regions = []Region{
	{ID: "aws-us-east-2", Name: "AWS US East 2 (Ohio)", Default: true, Lat: "39.9612", Long: "-82.9988"},
	{ID: "aws-us-east-1", Name: "AWS US East 1 (N. Virginia)", Lat: "38.8048", Long: "-77.0469"},
	{ID: "aws-us-west-2", Name: "AWS US West 2 (Oregon)", Lat: "45.5152", Long: "-122.6784"},
	{ID: "aws-eu-central-1", Name: "AWS Europe Central 1 (Frankfurt)", Lat: "50.1109", Long: "8.6821"},
	{ID: "aws-eu-west-2", Name: "AWS Europe West 2 (London)", Lat: "51.5072", Long: "-0.1276"},
	{ID: "aws-ap-southeast-1", Name: "AWS Asia Pacific 1 (Singapore)", Lat: "1.3521", Long: "103.8198"},
	{ID: "aws-ap-southeast-2", Name: "AWS Asia Pacific 2 (Sydney)", Lat: "-33.8688", Long: "151.2093"},
	{ID: "aws-sa-east-1", Name: "AWS South America East 1 (São Paulo)", Lat: "-23.5558", Long: "-46.6396"},
}

// Region is a region id Grove accepts.
type Region struct {
	ID, Name  string
	Default   bool
	Lat, Long string
}

// DefaultRegion is the region of projects created without one.
func DefaultRegion() string { return Regions[0].ID }

// KnownRegion reports whether Grove answers for a region.
func KnownRegion(id string) bool {
	for _, r := range Regions {
		if r.ID == id {
			return true
		}
	}
	return false
}

// Hosts names the hosts and connection strings of one proxy's endpoints.
type Hosts struct {
	// ProxyAddr is the proxy's advertised host:port.
	ProxyAddr string
	// Domain, when set, gives endpoints DNS names routed by SNI.
	Domain string
}

// ProxyHost is the region's host under which endpoint hosts live, as Neon's
// proxy_host: "us-east-2.<domain>" with a domain, "localhost" without.
func (h Hosts) ProxyHost(regionID string) string {
	if h.Domain == "" {
		return "localhost"
	}
	short := regionID
	if i := strings.IndexByte(regionID, '-'); i > 0 {
		short = regionID[i+1:]
	}
	return short + "." + h.Domain
}

// EndpointHost is the endpoint's stable host name.
func (h Hosts) EndpointHost(endpointID, regionID string) string {
	return endpointID + "." + h.ProxyHost(regionID)
}

// PoolerHost is the host of the endpoint's pooled connections.
func (h Hosts) PoolerHost(endpointID, regionID string) string {
	return endpointID + "-pooler." + h.ProxyHost(regionID)
}

// Params are the parts of a connection string.
type Params struct {
	Role, Password, Database string
	EndpointID, RegionID     string
	Pooled                   bool
	ChannelBinding           bool
}

// URI renders a connection string that works with libpq, pgx and
// node-postgres. Without a domain there is no DNS for endpoint hosts, so the
// URI names the proxy's address and carries the endpoint in options.
func (h Hosts) URI(c Params) string {
	ep := c.EndpointID
	host := h.EndpointHost(ep, c.RegionID)
	if c.Pooled {
		ep += "-pooler"
		host = h.PoolerHost(c.EndpointID, c.RegionID)
	}
	var b strings.Builder
	b.WriteString("postgresql://")
	b.WriteString(url.UserPassword(c.Role, c.Password).String())
	b.WriteString("@")
	var q []string
	if c.ChannelBinding {
		q = append(q, "channel_binding=require")
	}
	if h.Domain == "" {
		b.WriteString(h.ProxyAddr)
		q = append(q, "options=endpoint%3D"+ep)
	} else {
		b.WriteString(host)
		if _, port, err := net.SplitHostPort(h.ProxyAddr); err == nil && port != "5432" {
			b.WriteString(":" + port)
		}
	}
	q = append(q, "sslmode=require")
	b.WriteString("/")
	b.WriteString(url.PathEscape(c.Database))
	b.WriteString("?")
	b.WriteString(strings.Join(q, "&"))
	return b.String()
}
