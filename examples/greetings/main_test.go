package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// memStore is an in-memory Store for handler tests.
type memStore struct {
	mu      sync.Mutex
	items   []Greeting
	failErr error // returned by every method when set
}

func (m *memStore) Add(_ context.Context, msg string) (Greeting, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failErr != nil {
		return Greeting{}, m.failErr
	}
	g := Greeting{ID: int64(len(m.items) + 1), Message: msg, CreatedAt: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
	m.items = append(m.items, g)
	return g, nil
}

func (m *memStore) List(context.Context) ([]Greeting, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failErr != nil {
		return nil, m.failErr
	}
	return append([]Greeting{}, m.items...), nil
}

func (m *memStore) Ping(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.failErr
}

func newTestServer(store Store) (http.Handler, *bytes.Buffer) {
	var buf bytes.Buffer
	s := &server{store: store, log: log.New(&buf, "", 0)}
	return s.routes(), &buf
}

func do(h http.Handler, method, target, contentType, body string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestListEmptyIsJSONArray(t *testing.T) {
	h, _ := newTestServer(&memStore{})
	rec := do(h, "GET", "/greetings", "", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if got := strings.TrimSpace(rec.Body.String()); got != "[]" {
		t.Errorf("body = %q, want []", got)
	}
}

func TestPostJSONThenList(t *testing.T) {
	store := &memStore{}
	h, logs := newTestServer(store)

	rec := do(h, "POST", "/greetings", "application/json; charset=utf-8", `{"message":"  hi there  "}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("POST status = %d, body %s", rec.Code, rec.Body)
	}
	var created map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil {
		t.Fatal(err)
	}
	if created["id"] != float64(1) || created["message"] != "hi there" || created["created_at"] != "2024-01-02T03:04:05Z" {
		t.Errorf("created = %v", created)
	}

	do(h, "POST", "/greetings", "application/json", `{"message":"second"}`)
	rec = do(h, "GET", "/greetings", "", "")
	var list []Greeting
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Message != "hi there" || list[1].Message != "second" || list[1].ID != 2 {
		t.Errorf("list = %+v", list)
	}
	if !strings.Contains(logs.String(), "POST /greetings 201") || !strings.Contains(logs.String(), "GET /greetings 200") {
		t.Errorf("request log missing lines:\n%s", logs)
	}
}

func TestPostFormRedirects(t *testing.T) {
	store := &memStore{}
	h, _ := newTestServer(store)
	rec := do(h, "POST", "/greetings", "application/x-www-form-urlencoded", url.Values{"message": {"from a form"}}.Encode())
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/" {
		t.Fatalf("status = %d, Location = %q", rec.Code, rec.Header().Get("Location"))
	}
	if len(store.items) != 1 || store.items[0].Message != "from a form" {
		t.Errorf("items = %+v", store.items)
	}

	// A form post from a script that asks for JSON gets 201 and the object.
	rec = do(h, "POST", "/greetings", "application/x-www-form-urlencoded", "message=api", "Accept", "application/json")
	if rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), `"message":"api"`) {
		t.Errorf("status = %d, body %s", rec.Code, rec.Body)
	}
}

func TestPostRejectsBadInput(t *testing.T) {
	store := &memStore{}
	h, _ := newTestServer(store)
	cases := []struct{ name, ct, body string }{
		{"empty", "application/json", `{"message":"   "}`},
		{"missing", "application/json", `{"msg":"x"}`},
		{"not json", "application/json", `hello`},
		{"too long", "application/json", `{"message":"` + strings.Repeat("é", maxMessageLen+1) + `"}`},
		{"empty form", "application/x-www-form-urlencoded", "message="},
	}
	for _, c := range cases {
		rec := do(h, "POST", "/greetings", c.ct, c.body)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status = %d, want 400", c.name, rec.Code)
		}
	}
	if len(store.items) != 0 {
		t.Errorf("stored %d items from bad input", len(store.items))
	}
	// Exactly the limit is fine (counted in characters, not bytes).
	rec := do(h, "POST", "/greetings", "application/json", `{"message":"`+strings.Repeat("é", maxMessageLen)+`"}`)
	if rec.Code != http.StatusCreated {
		t.Errorf("1000 characters: status = %d", rec.Code)
	}
}

func TestIndexEscapesHTML(t *testing.T) {
	store := &memStore{}
	h, _ := newTestServer(store)
	do(h, "POST", "/greetings", "application/json", `{"message":"<script>alert(1)</script>"}`)
	rec := do(h, "GET", "/", "", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d", rec.Code)
	}
	body := rec.Body.String()
	if strings.Contains(body, "<script>alert") || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("message not escaped:\n%s", body)
	}
	if !strings.Contains(body, `<form method="post" action="/greetings">`) {
		t.Errorf("no form in page")
	}
	if rec := do(h, "GET", "/nope", "", ""); rec.Code != http.StatusNotFound {
		t.Errorf("GET /nope = %d, want 404", rec.Code)
	}
}

func TestHealthzAndStoreErrors(t *testing.T) {
	store := &memStore{}
	h, _ := newTestServer(store)
	if rec := do(h, "GET", "/healthz", "", ""); rec.Code != http.StatusOK || rec.Body.String() != "ok\n" {
		t.Errorf("healthz = %d %q", rec.Code, rec.Body)
	}
	store.failErr = errors.New("connection refused")
	if rec := do(h, "GET", "/healthz", "", ""); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("healthz with DB down = %d, want 503", rec.Code)
	}
	if rec := do(h, "GET", "/greetings", "", ""); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("GET /greetings with DB down = %d, want 503", rec.Code)
	}
	if rec := do(h, "POST", "/greetings", "application/json", `{"message":"x"}`); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("POST /greetings with DB down = %d, want 503", rec.Code)
	}
	if rec := do(h, "GET", "/", "", ""); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("GET / with DB down = %d, want 503", rec.Code)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	h, _ := newTestServer(&memStore{})
	rec := do(h, "DELETE", "/greetings", "", "")
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /greetings = %d, want 405", rec.Code)
	}
}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigFromEnv(t *testing.T) {
	c, err := configFromEnv(env(map[string]string{"HOST": "db", "DB": "greet", "USER": "u", "PASSWORD": "p"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Driver != "mysql" || c.Port != "5000" || c.hostPort() != "db:3306" {
		t.Errorf("defaults: %+v hostPort=%s", c, c.hostPort())
	}

	c, err = configFromEnv(env(map[string]string{"HOST": "db:6543", "DB": "greet", "USER": "u", "DRIVER": "Postgres", "PORT": "8080"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Driver != "postgres" || c.Port != "8080" || c.hostPort() != "db:6543" {
		t.Errorf("postgres: %+v hostPort=%s", c, c.hostPort())
	}
	c.Host = "db"
	if c.hostPort() != "db:5432" {
		t.Errorf("postgres default port: %s", c.hostPort())
	}
	c.Host = "::1"
	if c.hostPort() != "[::1]:5432" {
		t.Errorf("ipv6: %s", c.hostPort())
	}

	for _, bad := range []map[string]string{
		{"DB": "d", "USER": "u"},
		{"HOST": "h", "USER": "u"},
		{"HOST": "h", "DB": "d"},
		{"HOST": "h", "DB": "d", "USER": "u", "DRIVER": "oracle"},
	} {
		if _, err := configFromEnv(env(bad)); err == nil {
			t.Errorf("no error for %v", bad)
		}
	}
}

func TestDSNs(t *testing.T) {
	c := Config{Driver: "mysql", Host: "db.local", DB: "greet", User: "app", Password: "p@ss:w/rd"}
	name, dsn := c.sqlDriver()
	if name != "mysql" {
		t.Errorf("driver = %s", name)
	}
	mc, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if mc.User != "app" || mc.Passwd != "p@ss:w/rd" || mc.Addr != "db.local:3306" || mc.DBName != "greet" || !mc.ParseTime || mc.Net != "tcp" {
		t.Errorf("mysql config from %q: %+v", dsn, mc)
	}

	c.Driver = "postgres"
	name, dsn = c.sqlDriver()
	if name != "pgx" {
		t.Errorf("driver = %s", name)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	if u.Scheme != "postgres" || u.User.Username() != "app" || pw != "p@ss:w/rd" || u.Host != "db.local:5432" || u.Path != "/greet" {
		t.Errorf("postgres DSN %q parsed to %+v", dsn, u)
	}
}
