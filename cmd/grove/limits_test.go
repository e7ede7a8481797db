package main

import "testing"

func TestParseServeLimits(t *testing.T) {
	tests := []struct {
		name              string
		args              []string
		perMinute, perSec int
		metricsAddr       string
		wantErr           bool
	}{
		{"Neon's defaults", nil, 700, 40, "", false},
		{"set", []string{"--rate-limit-per-minute", "20", "--rate-limit-per-route-per-second", "5"}, 20, 5, "", false},
		{"off", []string{"--rate-limit-per-minute", "0", "--rate-limit-per-route-per-second", "0"}, 0, 0, "", false},
		{"last flag wins", []string{"--rate-limit-per-minute", "0", "--rate-limit-per-minute", "9"}, 9, 40, "", false},
		{"metrics listener", []string{"--metrics-addr", "127.0.0.1:9090"}, 700, 40, "127.0.0.1:9090", false},
		{"negative", []string{"--rate-limit-per-minute", "-1"}, 0, 0, "", true},
		{"not a number", []string{"--rate-limit-per-route-per-second", "many"}, 0, 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseServe(tt.args)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if c.RateLimitPerMinute != tt.perMinute || c.RateLimitPerRouteSecond != tt.perSec || c.MetricsAddr != tt.metricsAddr {
				t.Fatalf("got %d/min, %d/s, metrics %q; want %d, %d, %q", c.RateLimitPerMinute, c.RateLimitPerRouteSecond, c.MetricsAddr,
					tt.perMinute, tt.perSec, tt.metricsAddr)
			}
		})
	}
}
