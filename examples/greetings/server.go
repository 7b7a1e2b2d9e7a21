package main

import (
	"context"
	"encoding/json"
	"html/template"
	"io"
	"log"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

const maxMessageLen = 1000 // characters; matches VARCHAR(1000)

type server struct {
	store Store
	log   *log.Logger
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("GET /greetings", s.listGreetings)
	mux.HandleFunc("POST /greetings", s.addGreeting)
	mux.HandleFunc("GET /healthz", s.healthz)
	return s.logRequests(mux)
}

var indexTmpl = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Greetings</title>
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto}li{margin:.3em 0}small{color:#777}</style>
</head>
<body>
<h1>Greetings</h1>
<form method="post" action="/greetings">
<input name="message" maxlength="1000" placeholder="Say hello" required autofocus>
<button type="submit">Add</button>
</form>
{{if .Error}}<p><strong>{{.Error}}</strong></p>{{end}}
<ul>
{{range .Greetings}}<li>{{.Message}} <small>#{{.ID}} {{.CreatedAt.Format "2006-01-02 15:04:05 MST"}}</small></li>
{{else}}<li><em>No greetings yet.</em></li>
{{end}}</ul>
</body>
</html>
`))

func (s *server) index(w http.ResponseWriter, r *http.Request) {
	data := struct {
		Greetings []Greeting
		Error     string
	}{}
	status := http.StatusOK
	gs, err := s.store.List(r.Context())
	if err != nil {
		s.log.Printf("list greetings: %v", err)
		data.Error = "The database is not available right now."
		status = http.StatusServiceUnavailable
	}
	data.Greetings = gs
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := indexTmpl.Execute(w, data); err != nil {
		s.log.Printf("render index: %v", err)
	}
}

func (s *server) listGreetings(w http.ResponseWriter, r *http.Request) {
	gs, err := s.store.List(r.Context())
	if err != nil {
		s.log.Printf("list greetings: %v", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "database unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, gs)
}

func (s *server) addGreeting(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	isJSON := ct == "application/json"
	var msg string
	if isJSON {
		var body struct {
			Message *string `json:"message"`
		}
		dec := json.NewDecoder(r.Body)
		if err := dec.Decode(&body); err != nil || body.Message == nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": `want a JSON object like {"message":"hello"}`})
			return
		}
		msg = *body.Message
	} else {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form: "+err.Error(), http.StatusBadRequest)
			return
		}
		msg = r.PostForm.Get("message")
	}
	msg = strings.TrimSpace(msg)
	if problem := validateMessage(msg); problem != "" {
		if isJSON || wantsJSON(r) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": problem})
		} else {
			http.Error(w, problem, http.StatusBadRequest)
		}
		return
	}
	g, err := s.store.Add(r.Context(), msg)
	if err != nil {
		s.log.Printf("add greeting: %v", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "database unavailable"})
		return
	}
	if !isJSON && !wantsJSON(r) {
		// A browser form post: back to the list.
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	w.Header().Set("Location", "/greetings")
	writeJSON(w, http.StatusCreated, g)
}

func validateMessage(msg string) string {
	switch {
	case msg == "":
		return "message must not be empty"
	case !utf8.ValidString(msg):
		return "message must be valid UTF-8"
	case utf8.RuneCountInString(msg) > maxMessageLen:
		return "message is longer than 1000 characters"
	}
	return ""
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.store.Ping(ctx); err != nil {
		s.log.Printf("healthz: %v", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "database unavailable\n")
		return
	}
	io.WriteString(w, "ok\n")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // an error here means the client went away
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// logRequests logs one line per request: method, path, status, duration.
func (s *server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		s.log.Printf("%s %s %d %s", r.Method, r.URL.Path, rec.status, time.Since(start).Round(time.Microsecond))
	})
}
