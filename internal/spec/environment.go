package spec

import (
	"fmt"
	"maps"
	"net"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// Targets and their deployment types, as the original tool named them.
const (
	TargetLocal      = "local"
	TargetAWS        = "aws"
	TargetGCloud     = "gcloud"
	TargetKubernetes = "kubernetes"
)

// Environment is a validated environment definition.
type Environment struct {
	File          string         `json:"file"`
	Resources     []Resource     `json:"resources,omitempty"`
	AppDeployment *AppDeployment `json:"app_deployment,omitempty"`
}

// Resource is one managed resource (a database) of an environment.
type Resource struct {
	Target        string            `json:"target"` // the key it was listed under: aws, gcloud, local
	Type          string            `json:"type"`   // rds, cloudsql, mysql, postgres
	Configuration map[string]string `json:"configuration,omitempty"`
	Policy        *Policy           `json:"policy,omitempty"`
	Pos           Pos               `json:"pos"`
}

// Policy says who may reach a database beyond the environment's own cluster.
type Policy struct {
	Access string `json:"access"` // "open" or a CIDR
}

// AppDeployment is the container cluster (COE) of an environment.
type AppDeployment struct {
	Target       string   `json:"target"`
	Type         string   `json:"type,omitempty"`
	ClusterSize  int      `json:"cluster_size,omitempty"`
	InstanceType string   `json:"instance_type,omitempty"`
	LaunchType   string   `json:"launch_type,omitempty"`
	Network      string   `json:"network,omitempty"`
	VPC          string   `json:"vpc,omitempty"`
	Subnets      []string `json:"subnets,omitempty"`
	Project      string   `json:"project,omitempty"`
	Region       string   `json:"region,omitempty"`
	Zone         string   `json:"zone,omitempty"`
	Context      string   `json:"context,omitempty"`
	Kubeconfig   string   `json:"kubeconfig,omitempty"`
	Namespace    string   `json:"namespace,omitempty"`
	ServiceType  string   `json:"service_type,omitempty"`
	Pos          Pos      `json:"pos"`
}

// deploymentTypes maps a target to the COE types it accepts; the first is the default.
var deploymentTypes = map[string][]string{
	TargetLocal:      {"local-docker"},
	TargetAWS:        {"ecs"},
	TargetGCloud:     {"gke"},
	TargetKubernetes: {"kubernetes"},
}

// resourceTypes maps a resource section to its types and their configuration keys.
var resourceTypes = map[string]map[string][]string{
	TargetLocal: {
		"mysql":    {"image", "version", "dbname", "username"},
		"postgres": {"image", "version", "dbname", "username"},
	},
	TargetAWS: {
		"rds": {"engine", "version", "flavor", "storage", "dbname", "username", "policy"},
	},
	TargetGCloud: {
		"cloudsql": {"engine", "version", "tier", "storage", "dbname", "username", "region", "connect", "policy"},
	},
}

var deploymentKeys = []string{"target", "type", "cluster_size", "instance_type", "launch_type",
	"network", "vpc", "subnets", "project", "region", "zone", "context", "kubeconfig",
	"namespace", "service_type"}

// LoadEnvironment reads and validates an environment file.
func LoadEnvironment(path string) (*Environment, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, Errors{{Pos: Pos{File: path}, Msg: readError(err)}}
	}
	return ParseEnvironment(path, src)
}

func readError(err error) string {
	if os.IsNotExist(err) {
		return "file not found"
	}
	return err.Error()
}

// ParseEnvironment validates environment YAML; file names the source in errors.
func ParseEnvironment(file string, src []byte) (*Environment, error) {
	docs, err := parseDocs(file, src)
	if err != nil {
		return nil, err
	}
	r := &reader{file: file}
	if len(docs) != 1 {
		r.fail(nil, "", "expected one YAML document with a top-level `environment:` key, found %d documents", len(docs))
		return nil, r.errs
	}
	env := &Environment{File: file}
	top, ok := r.mapping(docs[0], "", "environment")
	if !ok {
		return nil, r.errs
	}
	if len(top) == 0 {
		r.fail(docs[0], "environment", "missing")
		return nil, r.errs
	}
	if isNull(top[0].value) {
		r.fail(top[0].keyN, "environment", "is empty: give `resources:`, `app_deployment:` or both")
		return nil, r.errs
	}
	fields, ok := r.mapping(top[0].value, "environment", "resources", "app_deployment")
	if ok {
		for _, f := range fields {
			switch f.key {
			case "resources":
				env.Resources = r.resources(f.value, "environment.resources")
			case "app_deployment":
				env.AppDeployment = r.appDeployment(f.value, "environment.app_deployment")
			}
		}
		if len(fields) == 0 {
			r.fail(top[0].value, "environment", "is empty: give `resources:`, `app_deployment:` or both")
		}
	}
	return env, r.errs.err()
}

func (r *reader) resources(n ast.Node, path string) []Resource {
	if isNull(n) {
		return nil
	}
	var out []Resource
	sections, ok := r.mapping(n, path, TargetAWS, TargetGCloud, TargetLocal)
	if !ok {
		return nil
	}
	for _, sec := range sections {
		items, ok := r.sequence(sec.value, join(path, sec.key))
		if !ok {
			continue
		}
		for i, item := range items {
			p := fmt.Sprintf("%s.%s[%d]", path, sec.key, i)
			if res, ok := r.resource(sec.key, item, p); ok {
				out = append(out, res)
			}
		}
	}
	return out
}

func (r *reader) resource(section string, n ast.Node, path string) (Resource, bool) {
	res := Resource{Target: section, Pos: r.pos(n)}
	outer, ok := r.mapping(n, path, "resource")
	if !ok || len(outer) == 0 {
		if ok {
			r.fail(n, path+".resource", "missing")
		}
		return res, false
	}
	path += ".resource"
	fields, ok := r.mapping(outer[0].value, path, "type", "configuration", "policy")
	if !ok {
		return res, false
	}
	var confN ast.Node
	var typeN ast.Node
	for _, f := range fields {
		switch f.key {
		case "type":
			typeN = f.value
			res.Type, _ = r.str(f.value, path+".type")
		case "configuration":
			confN = f.value
		case "policy":
			res.Policy = r.policy(f.value, path+".policy")
		}
	}
	types := resourceTypes[section]
	keys, known := types[res.Type]
	switch {
	case typeN == nil:
		r.fail(outer[0].value, path+".type", "missing (one of: %s)", strings.Join(sortedKeys(types), ", "))
		return res, false
	case !known:
		r.fail(typeN, path+".type", "unknown resource type %q under `%s:` (one of: %s)", res.Type, section, strings.Join(sortedKeys(types), ", "))
		return res, false
	}
	if confN != nil && !isNull(confN) {
		conf, ok := r.mapping(confN, path+".configuration", keys...)
		if ok {
			res.Configuration = map[string]string{}
			for _, c := range conf {
				cp := path + ".configuration." + c.key
				if c.key == "policy" { // the original examples put policy here too
					if res.Policy != nil {
						r.fail(c.keyN, cp, "policy given twice (inside and beside configuration)")
						continue
					}
					res.Policy = r.policy(c.value, cp)
					continue
				}
				v, ok := r.str(c.value, cp)
				if !ok {
					continue
				}
				if msg := checkConfig(res.Type, c.key, v); msg != "" {
					r.fail(c.value, cp, "%s", msg)
					continue
				}
				res.Configuration[c.key] = v
			}
		}
	}
	return res, true
}

func checkConfig(typ, key, v string) string {
	switch key {
	case "engine":
		if v != "mysql" && v != "postgres" {
			return fmt.Sprintf("engine must be mysql or postgres, got %q", v)
		}
	case "dbname", "username":
		if !identRE.MatchString(v) {
			return fmt.Sprintf("%q is not a valid name: letters, digits and _ only, starting with a letter, at most 32", v)
		}
	case "storage":
		var n int
		if _, err := fmt.Sscanf(v, "%d", &n); err != nil || n < 5 || n > 65536 {
			return fmt.Sprintf("storage is a size in GiB between 5 and 65536, got %q", v)
		}
	case "connect":
		if v != "proxy" && v != "direct" {
			return fmt.Sprintf("connect must be proxy or direct, got %q", v)
		}
	case "image", "version", "flavor", "tier", "region":
		if strings.TrimSpace(v) == "" || strings.ContainsAny(v, " \t\n") {
			return fmt.Sprintf("%q is not a valid %s", v, key)
		}
	}
	return ""
}

var identRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,31}$`)

func (r *reader) policy(n ast.Node, path string) *Policy {
	fields, ok := r.mapping(n, path, "access")
	if !ok {
		return nil
	}
	p := &Policy{}
	for _, f := range fields {
		v, ok := r.str(f.value, path+".access")
		if !ok {
			return nil
		}
		if v != "open" {
			if _, _, err := net.ParseCIDR(v); err != nil {
				r.fail(f.value, path+".access", "must be `open` or a CIDR such as 203.0.113.0/24, got %q", v)
				return nil
			}
		}
		p.Access = v
	}
	if p.Access == "" {
		r.fail(n, path+".access", "missing")
		return nil
	}
	return p
}

func (r *reader) appDeployment(n ast.Node, path string) *AppDeployment {
	fields, ok := r.mapping(n, path, deploymentKeys...)
	if !ok {
		return nil
	}
	d := &AppDeployment{Pos: r.pos(n)}
	var targetN, typeN ast.Node
	for _, f := range fields {
		p := path + "." + f.key
		switch f.key {
		case "cluster_size":
			d.ClusterSize, _ = r.integer(f.value, p, 1, 100)
		case "subnets":
			items, ok := r.sequence(f.value, p)
			if ok {
				for i, it := range items {
					if s, ok := r.str(it, fmt.Sprintf("%s[%d]", p, i)); ok {
						d.Subnets = append(d.Subnets, s)
					}
				}
			}
		default:
			s, ok := r.str(f.value, p)
			if !ok {
				continue
			}
			switch f.key {
			case "target":
				d.Target, targetN = s, f.value
			case "type":
				d.Type, typeN = s, f.value
			case "instance_type":
				d.InstanceType = s
			case "launch_type":
				if s != "ec2" && s != "fargate" {
					r.fail(f.value, p, "must be ec2 or fargate, got %q", s)
				}
				d.LaunchType = s
			case "network":
				d.Network = s
			case "vpc":
				d.VPC = s
			case "project":
				d.Project = s
			case "region":
				d.Region = s
			case "zone":
				d.Zone = s
			case "context":
				d.Context = s
			case "kubeconfig":
				d.Kubeconfig = s
			case "namespace":
				if !dnsLabelRE.MatchString(s) {
					r.fail(f.value, p, "%q is not a DNS label", s)
				}
				d.Namespace = s
			case "service_type":
				if s != "LoadBalancer" && s != "NodePort" && s != "ClusterIP" {
					r.fail(f.value, p, "must be LoadBalancer, NodePort or ClusterIP, got %q", s)
				}
				d.ServiceType = s
			}
		}
	}
	types, known := deploymentTypes[d.Target]
	switch {
	case targetN == nil:
		r.fail(n, path+".target", "missing (one of: local, aws, gcloud, kubernetes)")
		return d
	case !known:
		r.fail(targetN, path+".target", "unknown target %q (one of: local, aws, gcloud, kubernetes)", d.Target)
		return d
	}
	if d.Type == "" {
		d.Type = types[0]
	} else if !contains(types, d.Type) {
		r.fail(typeN, path+".type", "target %s takes type %s, got %q", d.Target, strings.Join(types, " or "), d.Type)
	}
	if d.ClusterSize == 0 {
		d.ClusterSize = 1
	}
	return d
}

// DNS label: what Docker, Kubernetes and the clouds all accept as a name part.
var dnsLabelRE = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)

// CheckName validates an environment, container or app name. Names become parts of
// cloud resource names, so they are DNS labels short enough to take a timestamp.
func CheckName(kind, name string) error {
	if len(name) > 40 || !dnsLabelRE.MatchString(name) {
		return fmt.Errorf("%s name %q is not valid: use lower-case letters, digits and '-', starting with a letter, at most 40 characters", kind, name)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
