package connuri

import (
	"net/url"
	"testing"
)

// TestConnectionURI: names and passwords with reserved characters survive
// the round trip through a URL parser, in both routing forms.
func TestConnectionURI(t *testing.T) {
	tests := []struct {
		name, domain, wantHost string
		pooled                 bool
	}{
		{"options routing", "", "127.0.0.1:5432", false},
		{"domain routing", "grove.test", "ep-a-b-12345678.us-east-2.grove.test", false},
		{"domain pooled", "grove.test", "ep-a-b-12345678-pooler.us-east-2.grove.test", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Hosts{ProxyAddr: "127.0.0.1:5432", Domain: tt.domain}
			c := Params{Role: "app user@x", Password: "p/w:d?#", Database: "my db/1",
				EndpointID: "ep-a-b-12345678", RegionID: "aws-us-east-2", Pooled: tt.pooled}
			u, err := url.Parse(h.URI(c))
			if err != nil {
				t.Fatal(err)
			}
			pw, _ := u.User.Password()
			if u.User.Username() != c.Role || pw != c.Password || u.Path != "/"+c.Database || u.Host != tt.wantHost {
				t.Fatalf("round trip of %s: user %q pw %q path %q host %q", u, u.User.Username(), pw, u.Path, u.Host)
			}
			if q := u.Query(); q.Get("sslmode") != "require" || (tt.domain == "" && q.Get("options") != "endpoint=ep-a-b-12345678") {
				t.Fatalf("query %v", q)
			}
		})
	}
}

func TestHosts(t *testing.T) {
	local := Hosts{ProxyAddr: "127.0.0.1:5432"}
	dns := Hosts{ProxyAddr: "0.0.0.0:5432", Domain: "grove.test"}
	for _, tc := range []struct{ got, want string }{
		{local.ProxyHost("aws-us-east-2"), "localhost"},
		{dns.ProxyHost("aws-eu-central-1"), "eu-central-1.grove.test"},
		{dns.EndpointHost("ep-a-b-1", "aws-us-east-2"), "ep-a-b-1.us-east-2.grove.test"},
		{dns.PoolerHost("ep-a-b-1", "aws-us-east-2"), "ep-a-b-1-pooler.us-east-2.grove.test"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestRegions(t *testing.T) {
	if DefaultRegion() != "aws-us-east-2" || !Regions[0].Default {
		t.Errorf("default region %q", DefaultRegion())
	}
	for _, r := range Regions {
		if !KnownRegion(r.ID) {
			t.Errorf("%s unknown", r.ID)
		}
	}
	if KnownRegion("aws-mars-1") {
		t.Error("aws-mars-1 known")
	}
}
