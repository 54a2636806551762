package deploy

import (
	"net/netip"
	"strings"
	"testing"
)

// The server binds 127.0.0.1 unless BIND_ADDR says otherwise; inside its
// container it must listen on every interface, or nothing reaches it.
func TestContainersBindEveryInterface(t *testing.T) {
	stages := readDockerfile(t, "local/Dockerfile")
	runtime := stages[len(stages)-1]
	found := false
	for _, l := range runtime.lines {
		f := strings.Fields(l)
		if strings.EqualFold(f[0], "ENV") && strings.Contains(" "+strings.Join(f[1:], " ")+" ", " BIND_ADDR=0.0.0.0 ") {
			found = true
		}
	}
	if !found {
		t.Error("local/Dockerfile: the runtime stage does not set ENV BIND_ADDR=0.0.0.0")
	}
	svc := services(t, "docker-compose.yml")
	if got := getString(svc, "backend", "environment", "BIND_ADDR"); got != "0.0.0.0" {
		t.Errorf("compose backend BIND_ADDR got %q, want 0.0.0.0", got)
	}
	// The backend believes X-Forwarded-For from nginx alone: the frontend's
	// fixed address is the default of TRUSTED_PROXIES.
	nginx := getString(svc, "frontend", "networks", "default", "ipv4_address")
	trusted := getString(svc, "backend", "environment", "TRUSTED_PROXIES")
	if nginx == "" || trusted != "${TRUSTED_PROXIES:-"+nginx+"}" {
		t.Errorf("compose backend TRUSTED_PROXIES got %q, want ${TRUSTED_PROXIES:-<frontend ipv4_address %q>}", trusted, nginx)
	}
}

// The network's subnet moves with NETWORK_PREFIX (the compose e2e picks a
// free one), and nginx's address and the trusted proxy move with it.
func TestComposeNetworkPrefix(t *testing.T) {
	for _, prefix := range []string{envExample(t)["NETWORK_PREFIX"], "10.213.7"} {
		env := envExample(t)
		env["NETWORK_PREFIX"] = prefix
		p, _ := loadComposeWith(t, env, "docker-compose.yml")
		ipam := p.Networks["default"].Ipam.Config
		if len(ipam) != 1 {
			t.Fatalf("NETWORK_PREFIX=%s: default network ipam %+v, want one subnet", prefix, ipam)
		}
		subnet, err := netip.ParsePrefix(ipam[0].Subnet)
		if err != nil || subnet.Bits() != 24 || subnet.Addr().String() != prefix+".0" {
			t.Errorf("NETWORK_PREFIX=%s: subnet %q, want %s.0/24", prefix, ipam[0].Subnet, prefix)
		}
		nginx := p.Services["frontend"].Networks["default"].Ipv4Address
		if a, err := netip.ParseAddr(nginx); err != nil || !subnet.Contains(a) {
			t.Errorf("NETWORK_PREFIX=%s: frontend address %q is not in %s", prefix, nginx, subnet)
		}
		if got := p.Services["backend"].Environment["TRUSTED_PROXIES"]; got == nil || *got != nginx {
			t.Errorf("NETWORK_PREFIX=%s: backend TRUSTED_PROXIES %v, want the frontend's %s", prefix, got, nginx)
		}
	}
}
