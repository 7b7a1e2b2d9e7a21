package gcloud

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// APIs whose endpoints cld calls, named as gcloud names them in
// CLOUDSDK_API_ENDPOINT_OVERRIDES_<API> and in the [api_endpoint_overrides]
// section of its configuration.
var APIs = []string{"compute", "container", "sqladmin", "artifactregistry"}

// Defaults when neither the definition, the environment nor gcloud's
// configuration says.
const (
	DefaultRegion       = "us-central1"
	DefaultZone         = "us-central1-a"
	DefaultInstanceType = "n1-standard-1"
	DefaultTier         = "db-n1-standard-1" // what the original hard-coded
)

// Settings say where and as whom cld talks to Google Cloud. They are
// resolved when an environment (or container) is planned, from the
// definition, the user's environment and gcloud's configuration, and stored
// in every element's spec: handlers never depend on the server's own
// environment.
type Settings struct {
	Project string `json:"project"`
	Region  string `json:"region,omitempty"`
	Zone    string `json:"zone,omitempty"`
	// Credentials is the application default credentials file; empty means
	// the metadata server (cld running on Google Cloud).
	Credentials string `json:"credentials,omitempty"`
	// Endpoints overrides API endpoints by API name (see APIs).
	Endpoints map[string]string `json:"endpoints,omitempty"`
	// CACertsFile adds trusted CAs for Google's endpoints (gcloud's
	// core/custom_ca_certs_file).
	CACertsFile string `json:"ca_certs_file,omitempty"`
}

func (s Settings) key() string {
	b, _ := json.Marshal(s)
	return string(b)
}

// env looks a variable up in the user's environment at command time, then in
// the server's.
type env map[string]string

func (e env) get(k string) string {
	if v := strings.TrimSpace(e[k]); v != "" {
		return v
	}
	return strings.TrimSpace(os.Getenv(k))
}

// Source tells where a resolved value came from, for `cld setup gcloud`.
type Source struct {
	Value string
	From  string
}

// Resolved is every setting with its origin.
type Resolved struct {
	Project, Region, Zone Source
	Credentials           Source // file path; empty Value: metadata server
	CredentialsType       string // service_account, authorized_user, ...
	Account               string // client_email of a service account, or gcloud's core/account
	Endpoints             map[string]Source
	CACertsFile           Source
	GcloudConfig          string // the gcloud configuration file read, if any
}

// Overrides are what a definition says.
type Overrides struct {
	Project, Region, Zone string
}

// Resolve finds project, location, credentials and endpoints: the
// definition first, then CLOUDSDK_* / GOOGLE_* variables (the user's, then
// the server's), then the credentials file and gcloud's configuration.
func Resolve(o Overrides, clientEnv map[string]string) Resolved {
	e := env(clientEnv)
	var r Resolved
	cfgDir := e.get("CLOUDSDK_CONFIG")
	if cfgDir == "" {
		if home, err := os.UserHomeDir(); err == nil {
			cfgDir = filepath.Join(home, ".config", "gcloud")
		}
	}
	cfg, cfgPath := readGcloudConfig(cfgDir, e.get("CLOUDSDK_ACTIVE_CONFIG_NAME"))
	r.GcloudConfig = cfgPath

	// credentials
	if p := e.get("GOOGLE_APPLICATION_CREDENTIALS"); p != "" {
		r.Credentials = Source{p, "GOOGLE_APPLICATION_CREDENTIALS"}
	} else if p := filepath.Join(cfgDir, "application_default_credentials.json"); cfgDir != "" && fileExists(p) {
		r.Credentials = Source{p, "gcloud auth application-default login"}
	} else {
		r.Credentials = Source{"", "metadata server"}
	}
	var adc struct {
		Type           string `json:"type"`
		ProjectID      string `json:"project_id"`
		QuotaProjectID string `json:"quota_project_id"`
		ClientEmail    string `json:"client_email"`
	}
	if r.Credentials.Value != "" {
		if b, err := os.ReadFile(r.Credentials.Value); err == nil {
			_ = json.Unmarshal(b, &adc)
		}
	}
	r.CredentialsType = adc.Type
	r.Account = adc.ClientEmail
	if r.Account == "" {
		r.Account = cfg["core/account"]
	}

	first := func(cands ...Source) Source {
		for _, c := range cands {
			if c.Value != "" {
				return c
			}
		}
		return Source{}
	}
	r.Project = first(
		Source{o.Project, "app_deployment.project"},
		Source{e.get("CLOUDSDK_CORE_PROJECT"), "CLOUDSDK_CORE_PROJECT"},
		Source{e.get("GOOGLE_CLOUD_PROJECT"), "GOOGLE_CLOUD_PROJECT"},
		Source{adc.ProjectID, "credentials file"},
		Source{cfg["core/project"], "gcloud config"},
		Source{adc.QuotaProjectID, "credentials file (quota project)"},
	)
	envZone := first(
		Source{e.get("CLOUDSDK_COMPUTE_ZONE"), "CLOUDSDK_COMPUTE_ZONE"},
		Source{cfg["compute/zone"], "gcloud config"},
	)
	zoneRegion := Source{}
	if envZone.Value != "" {
		zoneRegion = Source{regionOfZone(envZone.Value), envZone.From + " (zone)"}
	}
	defZoneRegion := Source{}
	if o.Zone != "" {
		defZoneRegion = Source{regionOfZone(o.Zone), "definition (zone)"}
	}
	r.Region = first(
		defZoneRegion,
		Source{o.Region, "definition"},
		Source{e.get("CLOUDSDK_COMPUTE_REGION"), "CLOUDSDK_COMPUTE_REGION"},
		Source{cfg["compute/region"], "gcloud config"},
		zoneRegion,
		Source{DefaultRegion, "default"},
	)
	switch {
	case o.Zone != "":
		r.Zone = Source{o.Zone, "definition"}
	case o.Region != "":
		// a region given on purpose: a regional cluster
	case envZone.Value != "" && regionOfZone(envZone.Value) == r.Region.Value:
		r.Zone = envZone
	case r.Region.Value == DefaultRegion:
		r.Zone = Source{DefaultZone, "default"}
	}
	r.Endpoints = map[string]Source{}
	for _, api := range APIs {
		v := "CLOUDSDK_API_ENDPOINT_OVERRIDES_" + strings.ToUpper(api)
		if u := e.get(v); u != "" {
			r.Endpoints[api] = Source{u, v}
		} else if u := cfg["api_endpoint_overrides/"+api]; u != "" {
			r.Endpoints[api] = Source{u, "gcloud config"}
		}
	}
	r.CACertsFile = first(
		Source{e.get("CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE"), "CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE"},
		Source{cfg["core/custom_ca_certs_file"], "gcloud config"},
	)
	return r
}

// Settings returns what handlers need, or an error saying what is missing.
func (r Resolved) Settings() (Settings, error) {
	s := Settings{Project: r.Project.Value, Region: r.Region.Value, Zone: r.Zone.Value,
		Credentials: r.Credentials.Value, CACertsFile: r.CACertsFile.Value}
	if len(r.Endpoints) > 0 {
		s.Endpoints = map[string]string{}
		for api, src := range r.Endpoints {
			s.Endpoints[api] = src.Value
		}
	}
	if s.Project == "" {
		return s, fmt.Errorf("no Google Cloud project: set app_deployment.project, CLOUDSDK_CORE_PROJECT or GOOGLE_CLOUD_PROJECT, or run `gcloud config set project <id>` (`cld setup gcloud` checks the setup)")
	}
	if s.Credentials != "" && !fileExists(s.Credentials) {
		return s, fmt.Errorf("credentials file %s (%s) does not exist (`cld setup gcloud` explains how to get one)", s.Credentials, r.Credentials.From)
	}
	return s, nil
}

// readGcloudConfig reads the active gcloud configuration as "section/key"
// -> value, and returns the file it read.
func readGcloudConfig(dir, name string) (map[string]string, string) {
	out := map[string]string{}
	if dir == "" {
		return out, ""
	}
	if name == "" {
		if b, err := os.ReadFile(filepath.Join(dir, "active_config")); err == nil {
			name = strings.TrimSpace(string(b))
		}
	}
	if name == "" {
		name = "default"
	}
	path := filepath.Join(dir, "configurations", "config_"+name)
	f, err := os.Open(path)
	if err != nil {
		return out, ""
	}
	defer f.Close()
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.TrimSpace(line[1 : len(line)-1])
		default:
			k, v, ok := strings.Cut(line, "=")
			if ok {
				out[section+"/"+strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
	}
	return out, path
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// regionOfZone turns us-central1-a into us-central1.
func regionOfZone(z string) string {
	if i := strings.LastIndex(z, "-"); i > 0 && strings.Count(z, "-") >= 2 {
		return z[:i]
	}
	return z
}

// location is where a cluster lives: its zone, else its region.
func (s Settings) location() string {
	if s.Zone != "" {
		return s.Zone
	}
	return s.Region
}

// endpointNames lists the overridden APIs in order, for messages.
func (s Settings) endpointNames() []string {
	var out []string
	for k := range s.Endpoints {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
