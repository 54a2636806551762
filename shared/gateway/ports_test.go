package gateway

import (
	"testing"
)

func TestTakePortsNeverHandsOutATakenPort(t *testing.T) {
	seen := map[int]bool{}
	var all []int
	for range 200 {
		ps, err := takePorts(2)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if seen[p] {
				t.Fatalf("port %d handed out twice while taken", p)
			}
			seen[p] = true
		}
		all = append(all, ps...)
	}
	releasePorts(all)
	if len(ports.taken) != 0 {
		t.Fatalf("%d ports still taken after release", len(ports.taken))
	}
}
