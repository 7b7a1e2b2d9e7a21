package server

import (
	"html/template"
	"net/http"

	"github.com/cloudark/cld/internal/api"
	"github.com/cloudark/cld/internal/state"
)

// The web view: every environment with its apps, and one page per
// environment with its elements, resources (secrets masked) and history.
// It refreshes itself, so a user can watch an operation progress.
var pages = template.Must(template.New("").Parse(`
{{define "head"}}<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="3">
<title>cld{{if .}} · {{.}}{{end}}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left;vertical-align:top}th{background:#f4f4f4}
.available,.succeeded{color:#080}.failed,.rolled-back{color:#b00}.creating,.deleting,.updating,.running,.pending{color:#a60}
code{font-size:12px}</style></head><body>{{end}}
{{define "index"}}{{template "head" ""}}<h1>cld environments</h1>
<table><tr><th>environment</th><th>target</th><th>status</th><th>apps</th><th>created</th></tr>
{{range .Envs}}<tr><td><a href="/ui/envs/{{.Name}}">{{.Name}}</a></td><td>{{.Target}}</td><td class="{{.Status}}">{{.Status}}</td>
<td>{{range index $.Apps .Name}}<a href="{{.URL}}">{{.Name}}</a> <span class="{{.Status}}">({{.Status}})</span><br>{{end}}</td><td>{{.CreatedAt.Format "2006-01-02 15:04:05"}}</td></tr>{{end}}
</table><h2>containers</h2><table><tr><th>container</th><th>image</th><th>status</th></tr>
{{range .Containers}}<tr><td>{{.Name}}</td><td><code>{{.Image}}</code></td><td class="{{.Status}}">{{.Status}}</td></tr>{{end}}</table></body></html>{{end}}
{{define "env"}}{{template "head" .Env.Name}}<p><a href="/">all environments</a></p><h1>{{.Env.Name}} <span class="{{.Env.Status}}">{{.Env.Status}}</span></h1>
{{if .Env.Error}}<p class="failed">{{.Env.Error}}</p>{{end}}
<h2>elements</h2><table><tr><th>key</th><th>kind</th><th>name</th><th>status</th><th>outputs</th></tr>
{{range .Env.Elements}}<tr><td>{{.Key}}</td><td>{{.Kind}}</td><td>{{.Name}}</td><td class="{{.Status}}">{{.Status}}</td><td>{{range $k, $v := .Outputs}}{{$k}}={{$v}}<br>{{end}}</td></tr>{{end}}</table>
<h2>apps</h2><table><tr><th>app</th><th>status</th><th>url</th></tr>
{{range .Env.Apps}}<tr><td>{{.Name}}</td><td class="{{.Status}}">{{.Status}}</td><td><a href="{{.URL}}">{{.URL}}</a></td></tr>{{end}}</table>
<h2>history</h2><table><tr><th>started</th><th>operation</th><th>status</th><th>error</th></tr>
{{range .History}}<tr><td>{{.StartedAt.Format "2006-01-02 15:04:05"}}</td><td>{{.Kind}} {{.Owner}}</td><td class="{{.Status}}">{{.Status}}</td><td>{{.Error}}</td></tr>{{end}}</table></body></html>{{end}}
`))

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	envs, err := s.eng.Store().ListObjects(ctx, state.KindEnv, "")
	if err != nil {
		writeError(w, err)
		return
	}
	apps, err := s.eng.Store().ListObjects(ctx, state.KindApp, "")
	if err != nil {
		writeError(w, err)
		return
	}
	containers, err := s.eng.Store().ListObjects(ctx, state.KindContainer, "")
	if err != nil {
		writeError(w, err)
		return
	}
	data := struct {
		Envs, Containers []api.Object
		Apps             map[string][]api.Object
	}{Apps: map[string][]api.Object{}}
	for _, o := range envs {
		data.Envs = append(data.Envs, s.objView(o))
	}
	for _, o := range apps {
		data.Apps[o.Env] = append(data.Apps[o.Env], s.objView(o))
	}
	for _, o := range containers {
		data.Containers = append(data.Containers, s.objView(o))
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	pages.ExecuteTemplate(w, "index", data)
}

func (s *Server) dashboardEnv(w http.ResponseWriter, r *http.Request) {
	d, err := s.detail(r.Context(), state.KindEnv, r.PathValue("name"))
	if err != nil {
		writeError(w, err)
		return
	}
	ops, err := s.eng.Store().Operations(r.Context(), d.Name)
	if err != nil {
		writeError(w, err)
		return
	}
	data := struct {
		Env     *api.Detail
		History []api.Operation
	}{Env: d}
	for i := len(ops) - 1; i >= 0; i-- {
		data.History = append(data.History, opView(ops[i]))
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	pages.ExecuteTemplate(w, "env", data)
}
