package httpapi

import (
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

// The refresh cookie: the session's refresh token, sent back only to the
// auth routes (Path), never readable by page scripts (HttpOnly), never sent
// by a request another site starts (SameSite=Strict), and only over HTTPS
// (Secure) except on plain-http localhost, where browsers would refuse to
// store a Secure cookie set over http.
const (
	refreshCookie     = "refresh_token"
	refreshCookiePath = "/api/auth"
)

// setRefreshCookie sets tok as the refresh cookie until expires.
func (a *API) setRefreshCookie(w http.ResponseWriter, r *http.Request, tok string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: refreshCookie, Value: tok, Path: refreshCookiePath,
		Expires: expires.UTC(), MaxAge: max(1, int(time.Until(expires).Seconds())),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: a.secureCookie(r),
	})
}

// clearRefreshCookie removes the refresh cookie.
func (a *API) clearRefreshCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: refreshCookie, Value: "", Path: refreshCookiePath, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: a.secureCookie(r),
	})
}

// secureCookie reports whether cookies set in answer to r are Secure: all
// but those of plain-http requests to a loopback name (make dev, make
// dev-aws, the tests). API Gateway and CloudFront set X-Forwarded-Proto.
func (a *API) secureCookie(r *http.Request) bool {
	if r.TLS != nil || a.Config.BehindTLS || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return true
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(strings.ToLower(host), "[]")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// errCrossSite is the answer to a browser request another site started on
// a route that sets or reads the refresh cookie.
var errCrossSite = core.Errorf(core.CodeForbidden, "cross-site request refused")

// sameOrigin refuses, with errCrossSite, a request a browser sent on behalf
// of another site: Sec-Fetch-Site cross-site or same-site (a sibling
// subdomain is another application), or an Origin that is neither the
// request's own nor one of CORS_ORIGINS. Requests without either header
// (curl, API clients) pass: they carry no victim's cookie. This is the
// check of the cookie routes, on top of SameSite=Strict (OWASP CSRF
// cheat sheet: Fetch Metadata, then Origin).
func (a *API) sameOrigin(r *http.Request) error {
	origin := r.Header.Get("Origin")
	allowed := origin != "" && origin != "null" && (slices.Contains(a.Config.CORSOrigins, origin) || sameHost(origin, r.Host))
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default: // cross-site, same-site
		if !allowed {
			return errCrossSite
		}
	}
	if origin != "" && !allowed {
		return errCrossSite
	}
	return nil
}

// sameHost reports whether origin names host (scheme aside: a proxy in
// front may terminate TLS).
func sameHost(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, host)
}

// requireJSON refuses a body-less POST of a cookie route without
// Content-Type: application/json (415): a cross-site form or a no-cors
// fetch cannot send that type without a CORS preflight.
func requireJSON(r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return core.Errorf(core.CodeUnsupportedMedia, "send Content-Type: application/json")
	}
	return nil
}
