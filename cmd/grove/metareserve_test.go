package main

import (
	"testing"

	"github.com/grovedb/grove/internal/reserve"
)

func TestMetaReserveFlag(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want int64
		ok   bool
	}{
		{nil, reserve.DefaultSize, true},
		{[]string{"--meta-reserve", "0"}, 0, true},
		{[]string{"--meta-reserve=256MiB"}, 256 << 20, true},
		{[]string{"--meta-reserve", "4GB"}, 4 << 30, true},
		{[]string{"--meta-reserve", "64MiB"}, 0, false}, // under reserve.MinSize
		{[]string{"--meta-reserve", "-1"}, 0, false},
		{[]string{"--meta-reserve", "big"}, 0, false},
	} {
		c, err := parseServe(tt.args)
		if (err == nil) != tt.ok || (tt.ok && c.MetaReserve != tt.want) {
			t.Errorf("parseServe(%q): --meta-reserve %d, %v; want %d, ok %v", tt.args, c.MetaReserve, err, tt.want, tt.ok)
		}
	}
}
