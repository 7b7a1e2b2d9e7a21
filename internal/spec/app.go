package spec

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// App formats cld accepts.
const (
	FormatApp        = "app"        // the tool's own single-container format
	FormatKubernetes = "kubernetes" // Pod, Deployment, Service, ConfigMap, Secret documents
	FormatECS        = "ecs"        // an ECS task definition
)

// App is a validated application definition.
type App struct {
	File   string      `json:"file"`
	Format string      `json:"format"`
	Single *SingleApp  `json:"single,omitempty"`
	Docs   []KubeDoc   `json:"docs,omitempty"`
	ECS    *ECSTaskDef `json:"ecs,omitempty"`
}

// SingleApp is the `app:` format.
type SingleApp struct {
	Image         string   `json:"image"`
	ContainerPort int      `json:"container_port,omitempty"`
	HostPort      int      `json:"host_port,omitempty"`
	Env           []EnvVar `json:"env,omitempty"`
	Replicas      int      `json:"replicas,omitempty"`
	CPU           string   `json:"cpu,omitempty"`
	Memory        string   `json:"memory,omitempty"`
	Command       []string `json:"command,omitempty"`
	Pos           Pos      `json:"pos"`
}

// EnvVar keeps its position so a bad $CLOUDARK reference names its line.
type EnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Pos   Pos    `json:"pos"`
}

// KubeDoc is one Kubernetes document, kept generic: the runtime owns its schema.
type KubeDoc struct {
	Kind       string         `json:"kind"`
	APIVersion string         `json:"apiVersion"`
	Name       string         `json:"name"`
	Object     map[string]any `json:"object"`
	Pos        Pos            `json:"pos"`
}

// ECSTaskDef is an ECS task definition given as YAML (the RegisterTaskDefinition shape).
type ECSTaskDef struct {
	Family string         `json:"family"`
	Object map[string]any `json:"object"`
	Pos    Pos            `json:"pos"`
}

var kubeKinds = []string{"Pod", "Deployment", "Service", "ConfigMap", "Secret"}

// LoadApp reads and validates an app definition file.
func LoadApp(path string) (*App, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, Errors{{Pos: Pos{File: path}, Msg: readError(err)}}
	}
	return ParseApp(path, src)
}

// ParseApp detects the format (app:, Kubernetes documents, ECS task definition) and validates it.
func ParseApp(file string, src []byte) (*App, error) {
	docs, err := parseDocs(file, src)
	if err != nil {
		return nil, err
	}
	r := &reader{file: file}
	if len(docs) == 0 {
		r.fail(nil, "", "no definition found: expected `app:`, Kubernetes documents or an ECS task definition")
		return nil, r.errs
	}
	keys, ok := r.mapping(docs[0], "")
	if !ok {
		return nil, r.errs
	}
	has := func(k string) bool {
		for _, f := range keys {
			if f.key == k {
				return true
			}
		}
		return false
	}
	app := &App{File: file}
	switch {
	case has("app"):
		app.Format = FormatApp
		if len(docs) > 1 {
			r.fail(docs[1], "", "an `app:` file holds one document")
		}
		app.Single = r.singleApp(docs[0])
	case has("apiVersion") || has("kind"):
		app.Format = FormatKubernetes
		for i, d := range docs {
			if doc, ok := r.kubeDoc(d, i); ok {
				app.Docs = append(app.Docs, doc)
			}
		}
		r.checkKubeNames(app.Docs)
	case has("containerDefinitions") || has("family"):
		app.Format = FormatECS
		app.ECS = r.ecsTaskDef(docs[0])
	default:
		r.fail(docs[0], "", "unknown app format: expected a top-level `app:` key, Kubernetes documents (apiVersion/kind) or an ECS task definition (family/containerDefinitions)")
	}
	return app, r.errs.err()
}

func (r *reader) singleApp(n ast.Node) *SingleApp {
	top, _ := r.mapping(n, "", "app")
	a := &SingleApp{Pos: r.pos(n)}
	if len(top) == 0 || isNull(top[0].value) {
		r.fail(n, "app", "is empty: `image:` is required")
		return a
	}
	fields, ok := r.mapping(top[0].value, "app", "image", "container_port", "host_port", "env", "replicas", "cpu", "memory", "command")
	if !ok {
		return a
	}
	var imageSeen bool
	for _, f := range fields {
		p := "app." + f.key
		switch f.key {
		case "image":
			a.Image, imageSeen = r.str(f.value, p)
			if imageSeen && !validImageRef(a.Image) {
				r.fail(f.value, p, "%q is not a valid image reference", a.Image)
			}
		case "container_port":
			a.ContainerPort, _ = r.integer(f.value, p, 1, 65535)
		case "host_port":
			a.HostPort, _ = r.integer(f.value, p, 1, 65535)
		case "replicas":
			a.Replicas, _ = r.integer(f.value, p, 0, 1000)
		case "cpu":
			a.CPU, _ = r.str(f.value, p)
		case "memory":
			a.Memory, _ = r.str(f.value, p)
		case "command":
			items, ok := r.sequence(f.value, p)
			if ok {
				for i, it := range items {
					if s, ok := r.str(it, fmt.Sprintf("%s[%d]", p, i)); ok {
						a.Command = append(a.Command, s)
					}
				}
			}
		case "env":
			if isNull(f.value) {
				continue
			}
			vars, ok := r.mapping(f.value, p)
			if !ok {
				continue
			}
			for _, v := range vars {
				vp := p + "." + v.key
				if !envNameRE.MatchString(v.key) {
					r.fail(v.keyN, vp, "%q is not a valid environment variable name", v.key)
					continue
				}
				val := ""
				if !isNull(v.value) {
					val, ok = r.str(v.value, vp)
					if !ok {
						continue
					}
				}
				a.Env = append(a.Env, EnvVar{Name: v.key, Value: val, Pos: r.pos(v.value)})
			}
		}
	}
	if !imageSeen && a.Image == "" {
		r.fail(top[0].value, "app.image", "missing")
	}
	if a.HostPort != 0 && a.ContainerPort == 0 {
		r.fail(top[0].value, "app.host_port", "needs container_port: there is no port to publish")
	}
	return a
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
var imageRefRE = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$|^(sha256:)?[a-f0-9]{12,64}$`)

func validImageRef(s string) bool { return imageRefRE.MatchString(s) }

func (r *reader) kubeDoc(n ast.Node, i int) (KubeDoc, bool) {
	path := fmt.Sprintf("document[%d]", i)
	doc := KubeDoc{Pos: r.pos(n)}
	fields, ok := r.mapping(n, path)
	if !ok {
		return doc, false
	}
	for _, f := range fields {
		switch f.key {
		case "kind":
			doc.Kind, _ = r.str(f.value, path+".kind")
		case "apiVersion":
			doc.APIVersion, _ = r.str(f.value, path+".apiVersion")
		case "metadata":
			meta, ok := r.mapping(f.value, path+".metadata")
			if ok {
				for _, m := range meta {
					if m.key == "name" {
						doc.Name, _ = r.str(m.value, path+".metadata.name")
						if doc.Name != "" && !dnsSubdomainRE.MatchString(doc.Name) {
							r.fail(m.value, path+".metadata.name", "%q is not a valid Kubernetes name", doc.Name)
						}
					}
				}
			}
		}
	}
	switch {
	case doc.Kind == "":
		r.fail(n, path+".kind", "missing")
		return doc, false
	case !contains(kubeKinds, doc.Kind):
		r.fail(n, path+".kind", "kind %q is not supported (one of: %s)", doc.Kind, strings.Join(kubeKinds, ", "))
		return doc, false
	case doc.APIVersion == "":
		r.fail(n, path+".apiVersion", "missing")
		return doc, false
	case doc.Name == "":
		r.fail(n, path+".metadata.name", "missing")
		return doc, false
	}
	if err := yaml.NodeToValue(n, &doc.Object); err != nil {
		r.fail(n, path, "%s", firstLine(err.Error()))
		return doc, false
	}
	if doc.Kind == "Pod" || doc.Kind == "Deployment" {
		r.checkContainers(doc, path)
	}
	return doc, true
}

// checkContainers makes sure every Pod template names at least one container with an image.
func (r *reader) checkContainers(doc KubeDoc, path string) {
	spec, _ := doc.Object["spec"].(map[string]any)
	if doc.Kind == "Deployment" {
		tmpl, _ := spec["template"].(map[string]any)
		spec, _ = tmpl["spec"].(map[string]any)
		path += ".spec.template"
	}
	containers, _ := spec["containers"].([]any)
	if len(containers) == 0 {
		r.errs = append(r.errs, &FieldError{Pos: doc.Pos, Field: path + ".spec.containers", Msg: "at least one container is required"})
		return
	}
	for i, c := range containers {
		cm, _ := c.(map[string]any)
		if img, _ := cm["image"].(string); img == "" {
			r.errs = append(r.errs, &FieldError{Pos: doc.Pos, Field: fmt.Sprintf("%s.spec.containers[%d].image", path, i), Msg: "missing"})
		}
	}
}

func (r *reader) checkKubeNames(docs []KubeDoc) {
	seen := map[string]bool{}
	for _, d := range docs {
		k := d.Kind + "/" + d.Name
		if seen[k] {
			r.errs = append(r.errs, &FieldError{Pos: d.Pos, Field: "metadata.name", Msg: fmt.Sprintf("%s %q is defined twice", d.Kind, d.Name)})
		}
		seen[k] = true
	}
}

var dnsSubdomainRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`)

func (r *reader) ecsTaskDef(n ast.Node) *ECSTaskDef {
	t := &ECSTaskDef{Pos: r.pos(n)}
	fields, ok := r.mapping(n, "")
	if !ok {
		return t
	}
	var defs ast.Node
	for _, f := range fields {
		switch f.key {
		case "family":
			t.Family, _ = r.str(f.value, "family")
		case "containerDefinitions":
			defs = f.value
		}
	}
	if defs == nil {
		r.fail(n, "containerDefinitions", "missing")
		return t
	}
	items, ok := r.sequence(defs, "containerDefinitions")
	if ok {
		if len(items) == 0 {
			r.fail(defs, "containerDefinitions", "at least one container is required")
		}
		for i, it := range items {
			p := fmt.Sprintf("containerDefinitions[%d]", i)
			cf, ok := r.mapping(it, p)
			if !ok {
				continue
			}
			var hasName, hasImage bool
			for _, f := range cf {
				hasName = hasName || f.key == "name"
				hasImage = hasImage || f.key == "image"
			}
			if !hasName {
				r.fail(it, p+".name", "missing")
			}
			if !hasImage {
				r.fail(it, p+".image", "missing")
			}
		}
	}
	if err := yaml.NodeToValue(n, &t.Object); err != nil {
		r.fail(n, "", "%s", firstLine(err.Error()))
	}
	return t
}
