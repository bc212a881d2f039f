package dashboard

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const testToken = "s3cret-token"

// login posts the login form and returns the response.
func (h *harness) login(token, next string, header ...string) *http.Response {
	h.t.Helper()
	form := url.Values{"token": {token}, "next": {next}}
	resp, _ := do(h.t, h.srv, http.MethodPost, "/login", strings.NewReader(form.Encode()),
		append([]string{"Content-Type", "application/x-www-form-urlencoded"}, header...)...)
	return resp
}

func sessionOf(t *testing.T, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			return c
		}
	}
	t.Fatalf("%s: no %s cookie set (Set-Cookie %q)", resp.Status, sessionCookie, resp.Header.Values("Set-Cookie"))
	return nil
}

// With a token, nothing but the login form and its assets is served
// without it; with it (header or session cookie) everything is.
func TestTokenRequired(t *testing.T) {
	t.Parallel()
	h, id := running(t, Config{Token: testToken})
	html := []string{"Accept", "text/html"}
	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	paths := []string{"/sweeps", "/sweeps/" + id, "/sweeps/" + id + "?part=live", "/sweeps/" + id + "/figures/phase.svg",
		"/sweeps/" + id + "/trials", "/workers", "/events?view=sweeps"}
	for _, p := range paths {
		for _, tc := range []struct {
			name   string
			header []string
		}{
			{"nothing", nil},
			{"wrong token", bearer("s3cret-tokeN")},
			{"a prefix", bearer("s3cret")},
			{"longer", bearer(testToken + "x")},
			{"empty", bearer("")},
			{"basic scheme", []string{"Authorization", "Basic " + testToken}},
			{"forged cookie", []string{"Cookie", sessionCookie + "=9999999999.AAAA"}},
			{"token as cookie", []string{"Cookie", sessionCookie + "=" + testToken}},
		} {
			if code := h.status(p, tc.header...); code != http.StatusUnauthorized {
				t.Errorf("GET %s with %s: %d, want 401", p, tc.name, code)
				continue // a stream let through would never end: read no body
			}
			resp, body := h.get(p, tc.header...)
			if resp.Header.Get("WWW-Authenticate") == "" || strings.Contains(body, "test-sweep") {
				t.Errorf("GET %s with %s: no WWW-Authenticate, or the refusal shows the sweep: %q", p, tc.name, clip(body, 200))
			}
		}
		if code := h.status(p, bearer(testToken)...); code != http.StatusOK {
			t.Errorf("GET %s with the token: %d", p, code)
		}
		if code := h.status(p, "Authorization", "bearer "+testToken); code != http.StatusOK {
			t.Errorf("GET %s with a lower-case scheme: %d", p, code)
		}
	}
	// A browser's page view is sent to the login form, which comes back.
	resp, _ := h.get("/sweeps/"+id+"?group=1", html...)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/login?next="+url.QueryEscape("/sweeps/"+id+"?group=1") {
		t.Errorf("page view without the token: %s to %q", resp.Status, loc)
	}
	for _, p := range []string{"/login", "/static/style.css", "/static/app.js"} {
		if resp, _ := h.get(p); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s without the token: %s", p, resp.Status)
		}
	}
}

func TestLogin(t *testing.T) {
	t.Parallel()
	h, id := running(t, Config{Token: testToken, SessionTTL: time.Hour})

	resp := h.login("wrong", "/sweeps/"+id)
	if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Errorf("wrong token: %s, cookies %v", resp.Status, resp.Cookies())
	}
	resp = h.login(testToken, "/sweeps/"+id)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/sweeps/"+id {
		t.Errorf("login: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	c := sessionOf(t, resp)
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Secure {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/ (not Secure over plain HTTP)", c)
	}
	if strings.Contains(c.Value, testToken) || strings.Contains(strings.Join(resp.Header.Values("Set-Cookie"), ";"), testToken) {
		t.Errorf("the cookie holds the token: %q", c.Value)
	}
	cookie := []string{"Cookie", c.String()}
	if resp, body := h.get("/sweeps/"+id, cookie...); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Log out") {
		t.Errorf("with the session: %s", resp.Status)
	}
	// A cookie with another expiry, or a changed MAC, is refused.
	exp, mac, _ := strings.Cut(c.Value, ".")
	for _, v := range []string{"9" + exp + "." + mac, exp + "." + mac[:len(mac)-2] + "AA", exp, "", strings.Repeat("1", 200)} {
		if resp, _ := h.get("/sweeps", "Cookie", sessionCookie+"="+v); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("cookie %q: %s, want 401", v, resp.Status)
		}
	}
	// The session ends at its expiry.
	h.clk.Advance(time.Hour - time.Second)
	if resp, _ := h.get("/sweeps", cookie...); resp.StatusCode != http.StatusOK {
		t.Errorf("just before expiry: %s", resp.Status)
	}
	h.clk.Advance(time.Second)
	if resp, _ := h.get("/sweeps", cookie...); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("at expiry: %s, want 401", resp.Status)
	}
	// Logging out clears the cookie.
	resp, _ = h.do(http.MethodPost, "/logout", cookie...)
	if out := sessionOf(t, resp); out.MaxAge >= 0 || out.Value != "" {
		t.Errorf("logout cookie %+v: want it deleted", out)
	}
}

// A login comes back only to this site, from this site.
func TestLoginRedirectsHere(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{Token: testToken})
	for next, want := range map[string]string{
		"/sweeps/abc?group=1":  "/sweeps/abc?group=1",
		"//evil.example/":      "/",
		"/\\evil.example":      "/",
		"https://evil.example": "/",
		"":                     "/",
		"sweeps":               "/",
	} {
		if resp := h.login(testToken, next); resp.Header.Get("Location") != want {
			t.Errorf("next %q: redirected to %q, want %q", next, resp.Header.Get("Location"), want)
		}
	}
	if resp := h.login(testToken, "/", "Origin", "http://evil.example"); resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
		t.Errorf("cross-origin login: %s, cookies %v", resp.Status, resp.Cookies())
	}
	if resp := h.login(testToken, "/", "Origin", "null"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("login from an opaque origin: %s", resp.Status)
	}
	if resp := h.login(testToken, "/", "Origin", h.srv.URL); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("same-origin login: %s", resp.Status)
	}
	if c := sessionOf(t, h.login(testToken, "/", "X-Forwarded-Proto", "https")); !c.Secure {
		t.Errorf("behind a TLS proxy: cookie %+v not Secure", c)
	}
	big := url.Values{"token": {strings.Repeat("x", 8<<10)}}.Encode()
	if resp, _ := do(t, h.srv, http.MethodPost, "/login", strings.NewReader(big), "Content-Type", "application/x-www-form-urlencoded"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an 8 KiB login form: %s, want 400", resp.Status)
	}
}

// Without a token every page is served and the login form is skipped.
func TestNoToken(t *testing.T) {
	t.Parallel()
	h, id := running(t, Config{})
	if resp, body := h.get("/sweeps/" + id); resp.StatusCode != http.StatusOK || strings.Contains(body, "Log out") {
		t.Errorf("GET a sweep: %s (log-out button shown: %v)", resp.Status, strings.Contains(body, "Log out"))
	}
	if resp, _ := h.get("/login?next=/workers"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/workers" {
		t.Errorf("GET /login: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
}
