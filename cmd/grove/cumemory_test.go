package main

import "testing"

func TestParseBytes(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"4GiB", 4 << 30, true},
		{"4GB", 4 << 30, true},
		{"512MiB", 512 << 20, true},
		{"512MB", 512 << 20, true},
		{"131072kB", 128 << 20, true},
		{"1073741824", 1 << 30, true},
		{" 1 GiB ", 1 << 30, true},
		{"32MiB", 0, false}, // below a CU's 64 MiB floor
		{"0", 0, false},
		{"-1GiB", 0, false},
		{"lots", 0, false},
		{"1.5GiB", 0, false},
		{"", 0, false},
	} {
		got, err := parseBytes(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	c, err := parseServe([]string{"--cu-memory", "1GiB", "--autoscale=false"})
	if err != nil || c.CUMemory != 1<<30 || c.Autoscale {
		t.Errorf("parseServe = %+v, %v", c, err)
	}
	if _, err := parseServe([]string{"--cu-memory", "big"}); err == nil {
		t.Error("parseServe accepted --cu-memory big")
	}
}
