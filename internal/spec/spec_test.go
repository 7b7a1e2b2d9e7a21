package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every definition users already have must parse and validate.
func TestCaastleExamples(t *testing.T) {
	files, _ := filepath.Glob("testdata/caastle-examples/*/*.yaml")
	if len(files) < 18 {
		t.Fatalf("expected the 18 reference examples, found %d", len(files))
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(filepath.Base(f), "environment") {
			env, err := ParseEnvironment(f, src)
			if err != nil {
				t.Errorf("%s: %v", f, err)
				continue
			}
			if env.AppDeployment == nil && len(env.Resources) == 0 {
				t.Errorf("%s: parsed to an empty environment", f)
			}
			continue
		}
		app, err := ParseApp(f, src)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if app.Format == "" {
			t.Errorf("%s: no format detected", f)
		}
	}
}

func TestEnvironmentFields(t *testing.T) {
	env, err := ParseEnvironment("e.yaml", []byte(`
environment:
  resources:
    aws:
      - resource:
          type: rds
          configuration:
            engine: postgres
            flavor: db.t3.micro
            policy:
              access: 203.0.113.0/24
  app_deployment:
    target: aws
    type: ecs
    cluster_size: 2
    instance_type: t3.small
`))
	if err != nil {
		t.Fatal(err)
	}
	r := env.Resources[0]
	if r.Type != "rds" || r.Configuration["engine"] != "postgres" || r.Policy == nil || r.Policy.Access != "203.0.113.0/24" {
		t.Fatalf("resource: %+v", r)
	}
	d := env.AppDeployment
	if d.ClusterSize != 2 || d.InstanceType != "t3.small" || d.Type != "ecs" {
		t.Fatalf("deployment: %+v", d)
	}
}

func TestEnvironmentErrorsNameFileLineField(t *testing.T) {
	cases := []struct{ src, want string }{
		{"environment:\n  app_deployment:\n    target: local\n    colour: red\n", "bad.yaml:4:5: environment.app_deployment.colour: unknown field"},
		{"environment:\n  app_deployment:\n    target: local\n    cluster_size: two\n", "bad.yaml:4:19: environment.app_deployment.cluster_size: expected an integer"},
		{"environment:\n  app_deployment:\n    target: azure\n", "bad.yaml:3:13: environment.app_deployment.target: unknown target \"azure\""},
		{"environment:\n  resources:\n    local:\n      - resource:\n          type: redis\n", "bad.yaml:5:17: environment.resources.local[0].resource.type: unknown resource type \"redis\""},
		{"environment:\n  resources:\n    aws:\n      - resource:\n          type: rds\n          policy:\n            access: everyone\n", "bad.yaml:7:21: environment.resources.aws[0].resource.policy.access: must be `open` or a CIDR"},
		{"environment:\n  app_deployment:\n    target: local\n   bad: [\n", "bad.yaml:"},
		{"environment:\n", "bad.yaml:1:1: environment: is empty"},
		{"environment:\n  app_deployment:\n    target: aws\n    type: gke\n", "bad.yaml:4:11: environment.app_deployment.type: target aws takes type ecs"},
	}
	for _, c := range cases {
		_, err := ParseEnvironment("bad.yaml", []byte(c.src))
		if err == nil {
			t.Errorf("%q: no error", c.src)
			continue
		}
		var es Errors
		if !errors.As(err, &es) {
			t.Errorf("%q: error %T is not Errors", c.src, err)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q:\n got %v\nwant %s", c.src, err, c.want)
		}
	}
}

func TestAppFormats(t *testing.T) {
	app, err := ParseApp("a.yaml", []byte("app:\n  image: greet:1\n  container_port: 5000\n  env:\n    PASSWORD: $CLOUDARK_MYSQL_Password\n"))
	if err != nil {
		t.Fatal(err)
	}
	if app.Format != FormatApp || app.Single.Image != "greet:1" || app.Single.ContainerPort != 5000 || app.Single.Env[0].Pos.Line != 5 {
		t.Fatalf("%+v", app.Single)
	}
	_, err = ParseApp("a.yaml", []byte("app:\n  container_port: 99999\n"))
	if err == nil || !strings.Contains(err.Error(), "a.yaml:2:19: app.container_port: must be between 1 and 65535") || !strings.Contains(err.Error(), "app.image: missing") {
		t.Fatalf("got %v", err)
	}
	_, err = ParseApp("p.yaml", []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers: []\n---\napiVersion: v1\nkind: CronJob\nmetadata:\n  name: x\n"))
	if err == nil || !strings.Contains(err.Error(), "at least one container") || !strings.Contains(err.Error(), `kind "CronJob" is not supported`) {
		t.Fatalf("got %v", err)
	}
	ecs, err := ParseApp("t.yaml", []byte("family: web\ncontainerDefinitions:\n  - name: web\n    image: nginx\n"))
	if err != nil || ecs.Format != FormatECS || ecs.ECS.Family != "web" {
		t.Fatalf("%v %+v", err, ecs)
	}
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"dev", "a", "my-env-2"} {
		if err := CheckName("environment", ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Dev", "-x", "x-", "a_b", "2env", strings.Repeat("a", 41)} {
		if err := CheckName("environment", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The parsers must never panic, whatever the input.
func FuzzParseEnvironment(f *testing.F) {
	files, _ := filepath.Glob("testdata/caastle-examples/*/*.yaml")
	for _, file := range files {
		src, _ := os.ReadFile(file)
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		env, err := ParseEnvironment("f.yaml", src)
		if err == nil && env == nil {
			t.Fatal("nil environment without error")
		}
	})
}

func FuzzParseApp(f *testing.F) {
	files, _ := filepath.Glob("testdata/caastle-examples/*/*.yaml")
	for _, file := range files {
		src, _ := os.ReadFile(file)
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		app, err := ParseApp("f.yaml", src)
		if err == nil && app == nil {
			t.Fatal("nil app without error")
		}
	})
}
