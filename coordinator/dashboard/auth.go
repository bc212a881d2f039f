package dashboard

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/eosweep/eosweep/internal/transport"
)

// sessionCookie is the cookie a successful login sets.
const sessionCookie = "eosweep_session"

// auth checks requests against the coordinator's token: a request passes
// with "Authorization: Bearer <token>" or with the session cookie that
// POST /login sets for the token. Without a token every request passes.
//
// The cookie holds an expiry and an HMAC of it keyed by the token, never
// the token itself: a leaked cookie does not give the token (which also
// submits and cancels sweeps over gRPC), it expires, and a new token voids
// every cookie.
type auth struct {
	token transport.Secret
	ttl   time.Duration
	now   func() time.Time
}

// on reports whether a token is required.
func (a auth) on() bool { return a.token != "" }

// allowed reports whether r carries the token or a valid session.
func (a auth) allowed(r *http.Request) bool {
	if !a.on() {
		return true
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		return ok && strings.EqualFold(scheme, "bearer") && a.token.Matches(tok)
	}
	c, err := r.Cookie(sessionCookie)
	return err == nil && a.validSession(c.Value)
}

// session returns a cookie value valid until exp.
func (a auth) session(exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	return e + "." + base64.RawURLEncoding.EncodeToString(a.mac(e))
}

func (a auth) mac(exp string) []byte {
	m := hmac.New(sha256.New, []byte(a.token))
	m.Write([]byte("eosweep dashboard session\x00" + exp))
	return m.Sum(nil)
}

// validSession checks a cookie value's MAC (in constant time) and expiry.
func (a auth) validSession(v string) bool {
	e, sig, ok := strings.Cut(v, ".")
	if !ok || len(v) > 128 {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || subtle.ConstantTimeCompare(got, a.mac(e)) != 1 {
		return false
	}
	exp, err := strconv.ParseInt(e, 10, 64)
	return err == nil && a.now().Before(time.Unix(exp, 0))
}

// cookie is the session cookie for r's connection: HttpOnly, SameSite
// Strict, Secure when the request came over TLS (directly or, by the
// proxy's word, to a reverse proxy in front).
func (a auth) cookie(r *http.Request) *http.Cookie {
	exp := a.now().Add(a.ttl)
	return &http.Cookie{Name: sessionCookie, Value: a.session(exp), Path: "/", Expires: exp, MaxAge: int(a.ttl / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure(r)}
}

// expired is the cookie that ends a session.
func (a auth) expired(r *http.Request) *http.Cookie {
	return &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: secure(r)}
}

func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// localPath returns next when it is a path on this site ("/…", not
// "//host" or "/\host"), else "/": a login never redirects elsewhere.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}
