package stacks

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/hosted"
	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
)

// testConnectSources is the fixture's connect-src besides 'self'.
var testConnectSources = []string{"https://minio.example.com", "https://cold.s3.us-east-1.amazonaws.com"}

// strs turns a template's []any of strings into []string.
func strs(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}

// isSiteOrigin reports whether an origin in a template is https:// + the
// web stack's distribution domain (a cross-stack import).
func isSiteOrigin(v any) bool {
	raw, _ := json.Marshal(v)
	return strings.Contains(string(raw), "https://") && strings.Contains(string(raw), "Fn::ImportValue")
}

// The HTTP API's CORS is httpapi.CORS: make dev-aws's gateway answers
// preflights from the same table.
func TestAPICORSIsTheTable(t *testing.T) {
	s := full(t)
	want := httpapi.CORS(nil)
	apis := s.apiJS.ofType("AWS::ApiGatewayV2::Api")
	if len(apis) != 1 {
		t.Fatalf("got %d HTTP APIs, want 1", len(apis))
	}
	for id, r := range apis {
		c, _ := r.Properties["CorsConfiguration"].(map[string]any)
		got := hosted.CORS{
			AllowedMethods: strs(c["AllowMethods"]),
			AllowedHeaders: strs(c["AllowHeaders"]),
			ExposeHeaders:  strs(c["ExposeHeaders"]),
		}
		maxAge, _ := c["MaxAge"].(float64)
		got.MaxAgeSeconds = int(maxAge)
		want.AllowedOrigins = nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: CorsConfiguration %+v, want httpapi.CORS %+v", id, got, want)
		}
	}
}

// The cold bucket lets the SPA's origin GET presigned URLs, with the rules
// of hosted.ColdBucketCORS (make dev-aws sets the same on its cold server).
func TestColdBucketCORSIsTheTable(t *testing.T) {
	s := full(t)
	b := s.statefulJSON.Resources[ColdBucketID]
	cfg, _ := b.Properties["CorsConfiguration"].(map[string]any)
	rules, _ := cfg["CorsRules"].([]any)
	want := hosted.ColdBucketCORS([]string{"site"})
	if len(rules) != len(want) {
		t.Fatalf("cold bucket: %d CORS rules, want %d (%v)", len(rules), len(want), b.Properties["CorsConfiguration"])
	}
	for i, raw := range rules {
		r, _ := raw.(map[string]any)
		origins, _ := r["AllowedOrigins"].([]any)
		if len(origins) != 1 || !isSiteOrigin(origins[0]) {
			t.Errorf("rule %d: AllowedOrigins %v, want the site only", i, origins)
		}
		maxAge, _ := r["MaxAge"].(float64)
		got := hosted.CORS{
			AllowedOrigins: want[i].AllowedOrigins,
			AllowedMethods: strs(r["AllowedMethods"]),
			AllowedHeaders: strs(r["AllowedHeaders"]),
			ExposeHeaders:  strs(r["ExposedHeaders"]),
			MaxAgeSeconds:  int(maxAge),
		}
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("rule %d: %+v, want %+v", i, got, want[i])
		}
	}
}

// The distribution sends the SPA's headers of hosted.SPAHeaders (the CSP
// with the configured connect-src), not the managed SECURITY_HEADERS policy.
func TestSPAResponseHeadersPolicyIsTheTable(t *testing.T) {
	s := full(t)
	policies := s.webJSON.ofType("AWS::CloudFront::ResponseHeadersPolicy")
	if len(policies) != 1 {
		t.Fatalf("got %d response headers policies, want 1", len(policies))
	}
	var policyID string
	for id, r := range policies {
		policyID = id
		cfg, _ := r.Properties["ResponseHeadersPolicyConfig"].(map[string]any)
		sec, _ := cfg["SecurityHeadersConfig"].(map[string]any)
		field := func(name, key string) any {
			m, _ := sec[name].(map[string]any)
			if m["Override"] != true {
				t.Errorf("%s: Override %v, want true", name, m["Override"])
			}
			return m[key]
		}
		want := hosted.SPAHeaders(testConnectSources)
		if got := field("ContentSecurityPolicy", "ContentSecurityPolicy"); got != want["Content-Security-Policy"] {
			t.Errorf("CSP %v, want %q", got, want["Content-Security-Policy"])
		}
		if got := field("FrameOptions", "FrameOption"); got != want["X-Frame-Options"] {
			t.Errorf("FrameOption %v, want %q", got, want["X-Frame-Options"])
		}
		if got := field("ReferrerPolicy", "ReferrerPolicy"); got != want["Referrer-Policy"] {
			t.Errorf("ReferrerPolicy %v, want %q", got, want["Referrer-Policy"])
		}
		field("ContentTypeOptions", "Override")
		if got := field("StrictTransportSecurity", "AccessControlMaxAgeSec"); got != float64(hosted.StrictTransportDays*86400) {
			t.Errorf("HSTS max age %v", got)
		}
	}
	for id, r := range s.webJSON.ofType("AWS::CloudFront::Distribution") {
		cfg, _ := r.Properties["DistributionConfig"].(map[string]any)
		b, _ := cfg["DefaultCacheBehavior"].(map[string]any)
		ref, _ := b["ResponseHeadersPolicyId"].(map[string]any)
		if ref["Ref"] != policyID {
			t.Errorf("%s: ResponseHeadersPolicyId %v, want {Ref: %s}", id, b["ResponseHeadersPolicyId"], policyID)
		}
	}
}
