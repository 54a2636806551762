package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
)

// With the default origins, a page opened at http://127.0.0.1:PORT may call
// the API and PUT presigned parts to the hot bucket, as one at localhost may.
func TestDefaultOriginsAcceptLoopbackByNameAndNumber(t *testing.T) {
	t.Parallel()
	dev, err := config.Load(func(k string) string {
		if k == "DEV_MODE" {
			return "true"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	s := newStack(t, func(c *config.Config) { c.CORSOrigins = dev.CORSOrigins })
	c := s.client(t)
	hot := "http://" + s.app.Config.Hot.Endpoint + "/" + s.app.Config.Hot.Bucket + "/user-1/part"
	for _, origin := range []string{"http://localhost:8000", "http://127.0.0.1:8000"} {
		resp, _ := c.do("OPTIONS", "/api/files/uploads", nil, map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type",
		})
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != origin {
			t.Errorf("API preflight from %s: Access-Control-Allow-Origin %q", origin, got)
		}
		req, _ := http.NewRequest("OPTIONS", hot, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "PUT")
		hresp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		hresp.Body.Close()
		if got := hresp.Header.Get("Access-Control-Allow-Origin"); hresp.StatusCode != 200 || (got != origin && got != "*") {
			t.Errorf("hot bucket preflight from %s: status %d, Access-Control-Allow-Origin %q", origin, hresp.StatusCode, got)
		}
	}
}
