package local

import (
	"fmt"
	"strings"

	"github.com/cloudark/cld/internal/provider"
	"github.com/cloudark/cld/internal/spec"
)

// databaseSpec is the desired state of a database container.
type databaseSpec struct {
	Engine   string `json:"engine"` // mysql | postgres
	Image    string `json:"image"`
	DBName   string `json:"dbname"`
	Username string `json:"username"`
	Network  string `json:"network"`
	Volume   string `json:"volume"`
}

// Default images: the official ones, as a user with Docker Hub access expects.
var defaultImages = map[string]string{"mysql": "mysql", "postgres": "postgres"}
var defaultVersions = map[string]string{"mysql": "8", "postgres": "16"}

// PlanCluster plans the environment's network.
func (t *Target) PlanCluster(p provider.EnvPlan) ([]*provider.Element, error) {
	return []*provider.Element{networkElement(p)}, nil
}

func networkElement(p provider.EnvPlan) *provider.Element {
	return &provider.Element{Key: "network", Kind: KindNetwork, Target: t0, Name: p.Base}
}

const t0 = "local"

// PlanResources plans one volume and one database container per resource.
func (t *Target) PlanResources(p provider.EnvPlan, res []spec.Resource, cluster []*provider.Element) ([]*provider.Element, error) {
	var out []*provider.Element
	if len(cluster) == 0 {
		// Resources without an app_deployment still need a network to live on.
		out = append(out, networkElement(p))
	}
	count := map[string]int{}
	for _, r := range res {
		count[r.Type]++
	}
	seen := map[string]int{}
	for _, r := range res {
		seen[r.Type]++
		suffix := r.Type
		if count[r.Type] > 1 {
			suffix = fmt.Sprintf("%s-%d", r.Type, seen[r.Type])
		}
		img := r.Configuration["image"]
		if img == "" {
			v := r.Configuration["version"]
			if v == "" {
				v = defaultVersions[r.Type]
			}
			img = defaultImages[r.Type] + ":" + v
		} else if v := r.Configuration["version"]; v != "" && !strings.Contains(lastPart(img), ":") {
			img += ":" + v
		}
		ds := databaseSpec{
			Engine:   r.Type,
			Image:    img,
			DBName:   or(r.Configuration["dbname"], "app"),
			Username: or(r.Configuration["username"], "app"),
			Network:  p.Base,
			Volume:   p.Base + "-" + suffix + "-data",
		}
		if ds.Username == "root" && r.Type == "mysql" {
			return nil, fmt.Errorf("%s: username root is reserved: Root_Password is the root account", r.Pos)
		}
		vol := &provider.Element{Key: "volume/" + suffix, Kind: KindVolume, Target: t0, Name: ds.Volume}
		db := &provider.Element{
			Key: "database/" + suffix, Kind: KindDatabase, Target: t0, Name: p.Base + "-" + suffix,
			Deps: []string{"network", vol.Key}, Spec: provider.MustSpec(ds), BindType: strings.ToUpper(r.Type),
			Inputs: map[string]string{"password": provider.GeneratePassword(24), "root_password": provider.GeneratePassword(24)},
		}
		out = append(out, vol, db)
	}
	return out, nil
}

func lastPart(img string) string {
	if i := strings.LastIndex(img, "/"); i >= 0 {
		return img[i+1:]
	}
	return img
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// imageSpec is what to build.
type imageSpec struct {
	ContextTar string `json:"context_tar"`
	Dockerfile string `json:"dockerfile"`
}

// PlanContainer plans one image built from the saved context.
func (t *Target) PlanContainer(p provider.ContainerPlan) ([]*provider.Element, error) {
	return []*provider.Element{{
		Key: "image", Kind: KindImage, Target: t0, Name: p.Name + ":" + p.Stamp,
		Spec: provider.MustSpec(imageSpec{ContextTar: p.ContextTar, Dockerfile: "Dockerfile"}),
	}}, nil
}

// appSpec is the desired state of an app container.
type appSpec struct {
	Image         string     `json:"image"`
	ContainerPort int        `json:"container_port,omitempty"`
	HostPort      int        `json:"host_port,omitempty"`
	Env           []envValue `json:"env,omitempty"`
	Network       string     `json:"network"`
	Command       []string   `json:"command,omitempty"`
	Memory        string     `json:"memory,omitempty"`
	CPU           string     `json:"cpu,omitempty"`
}

// envValue is one variable; secret values live in the element's Inputs, not here.
type envValue struct {
	Name   string `json:"name"`
	Value  string `json:"value,omitempty"`
	Secret bool   `json:"secret,omitempty"`
}

// PlanApp plans one container on the environment's network.
func (t *Target) PlanApp(p provider.AppPlan) ([]*provider.Element, error) {
	if p.Spec.Format != spec.FormatApp {
		return nil, fmt.Errorf("%s: the local-docker target runs `app:` definitions; %s YAML needs a kubernetes, gcloud or aws environment", p.Spec.File, p.Spec.Format)
	}
	a := p.Spec.Single
	netName := ""
	for _, el := range p.Cluster {
		if el.Kind == KindNetwork {
			netName = el.Name
		}
	}
	if netName == "" {
		return nil, fmt.Errorf("environment %s has no Docker network", p.Env)
	}
	if a.Memory != "" {
		if _, err := parseMemory(a.Memory); err != nil {
			return nil, fmt.Errorf("%s: app.memory: %v", a.Pos, err)
		}
	}
	if a.CPU != "" {
		if _, err := parseCPU(a.CPU); err != nil {
			return nil, fmt.Errorf("%s: app.cpu: %v", a.Pos, err)
		}
	}
	as := appSpec{Image: a.Image, ContainerPort: a.ContainerPort, HostPort: a.HostPort, Network: netName, Command: a.Command, Memory: a.Memory, CPU: a.CPU}
	inputs := map[string]string{}
	for _, v := range p.Bound.Env {
		if v.Secret {
			as.Env = append(as.Env, envValue{Name: v.Name, Secret: true})
			inputs[v.Name] = v.Value
		} else {
			as.Env = append(as.Env, envValue{Name: v.Name, Value: v.Value})
		}
	}
	return []*provider.Element{{
		Key: "container", Kind: KindApp, Target: t0, Name: p.Base,
		Spec: provider.MustSpec(as), Inputs: inputs,
	}}, nil
}
