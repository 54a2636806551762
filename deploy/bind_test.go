package deploy

import (
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

