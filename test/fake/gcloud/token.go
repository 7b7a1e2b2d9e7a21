package gcloud

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
)

// tokenPath is where every listener serves the OAuth 2.0 token endpoint.
const tokenPath = "/token"

var tokenRequests atomic.Int64

// TokenURL is the OAuth 2.0 token endpoint of the fake: put it as
// "token_uri" in a service-account key file, and Google's auth libraries
// exchange their signed JWT (or an authorized user's refresh token) there
// for Options.AccessToken.
func (s *Server) TokenURL() string { return s.URL() + tokenPath }

// AccessToken is the token the token endpoint issues.
func (s *Server) AccessToken() string { return s.opts.AccessToken }

// TokenRequests counts the token requests answered (all fakes of the process).
func TokenRequests() int64 { return tokenRequests.Load() }

// serveToken answers the grants Google's libraries use: the JWT bearer grant
// of service accounts (RFC 7523, assertion signed by the key; the fake checks
// its shape and claims, not the signature, since it never saw the public key)
// and the refresh-token grant of authorized users.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	fail := func(code int, e, desc string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": e, "error_description": desc})
	}
	if r.Method != http.MethodPost {
		fail(http.StatusMethodNotAllowed, "invalid_request", "POST the token request")
		return
	}
	if err := r.ParseForm(); err != nil {
		fail(http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		parts := strings.Split(r.PostForm.Get("assertion"), ".")
		if len(parts) != 3 || parts[2] == "" {
			fail(http.StatusBadRequest, "invalid_grant", "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.")
			return
		}
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		var claims struct {
			Iss   string `json:"iss"`
			Scope string `json:"scope"`
			Aud   string `json:"aud"`
			Exp   int64  `json:"exp"`
		}
		if err != nil || json.Unmarshal(payload, &claims) != nil || claims.Iss == "" || claims.Exp == 0 {
			fail(http.StatusBadRequest, "invalid_grant", "Invalid JWT Signature.")
			return
		}
		if claims.Scope == "" {
			fail(http.StatusBadRequest, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
			return
		}
	case "refresh_token":
		if r.PostForm.Get("refresh_token") == "" {
			fail(http.StatusBadRequest, "invalid_request", "Missing required parameter: refresh_token")
			return
		}
	default:
		fail(http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+r.PostForm.Get("grant_type"))
		return
	}
	tokenRequests.Add(1)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": s.opts.AccessToken,
		"expires_in":   3599,
		"token_type":   "Bearer",
	})
}

// checkAuth enforces Options.RequireAuth.
func (s *Server) checkAuth(r *http.Request) error {
	if !s.opts.RequireAuth {
		return nil
	}
	if r.Header.Get("Authorization") == "Bearer "+s.opts.AccessToken {
		return nil
	}
	return errf(401, "authError", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.").withStatus("UNAUTHENTICATED")
}
