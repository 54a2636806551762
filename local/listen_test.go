package main

import (
	"net"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
)

// make dev (DEV_MODE=true, the public dev key) must not be reachable from
// the network unless BIND_ADDR says so.
func TestListenBindsLoopbackByDefault(t *testing.T) {
	for _, tc := range []struct{ bind, want string }{
		{"", "127.0.0.1"},
		{"0.0.0.0", "0.0.0.0"},
	} {
		cfg, err := config.Load(func(k string) string {
			switch k {
			case "DEV_MODE":
				return "true"
			case "BIND_ADDR":
				return tc.bind
			}
			return ""
		})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Port = 0 // any free port
		ln, err := listen(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ip := ln.Addr().(*net.TCPAddr).IP
		ln.Close()
		if want := net.ParseIP(tc.want); !ip.Equal(want) && !(want.IsUnspecified() && ip.IsUnspecified()) {
			t.Errorf("BIND_ADDR=%q: listening on %s, want %s", tc.bind, ip, tc.want)
		}
	}
}
