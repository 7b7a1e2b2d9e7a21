package bind

import (
	"strings"
	"testing"

	"github.com/cloudark/cld/internal/spec"
)

func testBinder() *Binder {
	return New("dev", []Resource{{
		Type:    "MYSQL",
		Name:    "dev-1-mysql",
		Outputs: map[string]string{"Username": "app", "DBName": "greetings", "DBHOST": "dev-1-mysql"},
		Secrets: map[string]string{"Password": "s3cret-value", "Root_Password": "r00t"},
	}})
}

func TestEnvResolvesAndMarksSecrets(t *testing.T) {
	vars, err := testBinder().Env([]spec.EnvVar{
		{Name: "PASSWORD", Value: "$CLOUDARK_MYSQL_Password"},
		{Name: "ROOT", Value: "$CLOUDARK_MYSQL_Root_Password"},
		{Name: "DSN", Value: "mysql://${CLOUDARK_MYSQL_Username}@$CLOUDARK_MYSQL_DBHOST/x"},
		{Name: "PLAIN", Value: "hello $HOME"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []Var{
		{"PASSWORD", "s3cret-value", true},
		{"ROOT", "r00t", true},
		{"DSN", "mysql://app@dev-1-mysql/x", false},
		{"PLAIN", "hello $HOME", false},
	}
	for i, w := range want {
		if vars[i] != w {
			t.Errorf("var %d: got %+v want %+v", i, vars[i], w)
		}
	}
}

func TestEnvErrorsNameLineAndAlternatives(t *testing.T) {
	_, err := testBinder().Env([]spec.EnvVar{
		{Name: "A", Value: "$CLOUDARK_RDS_Address", Pos: spec.Pos{File: "app.yaml", Line: 4, Column: 8}},
		{Name: "B", Value: "$CLOUDARK_MYSQL_Passwd", Pos: spec.Pos{File: "app.yaml", Line: 5, Column: 8}},
	})
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{
		"app.yaml:4:8: app.env.A: $CLOUDARK_RDS_Address: environment dev has no RDS resource (it has: MYSQL)",
		`app.yaml:5:8: app.env.B: $CLOUDARK_MYSQL_Passwd: MYSQL resource dev-1-mysql has no attribute "Passwd" (it has: DBHOST, DBName, Password, Root_Password, Username)`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in\n%s", want, msg)
		}
	}
}

func TestAmbiguousType(t *testing.T) {
	b := New("dev", []Resource{{Type: "MYSQL", Name: "a"}, {Type: "MYSQL", Name: "b"}})
	if _, _, err := b.Value("$CLOUDARK_MYSQL_DBName"); err == nil || !strings.Contains(err.Error(), "ambiguous") {
		t.Fatalf("got %v", err)
	}
}

func TestTree(t *testing.T) {
	doc := map[string]any{"spec": map[string]any{"containers": []any{map[string]any{
		"env": []any{map[string]any{"name": "P", "value": "$CLOUDARK_MYSQL_Password"}},
	}}}}
	out, secrets, err := testBinder().Tree(doc, spec.Pos{File: "pod.yaml"}, "document[0]")
	if err != nil {
		t.Fatal(err)
	}
	v := out["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["env"].([]any)[0].(map[string]any)["value"]
	if v != "s3cret-value" || len(secrets) != 1 || secrets[0] != "document[0].spec.containers[0].env[0].value" {
		t.Fatalf("got %v %v", v, secrets)
	}
	// the input is not modified
	if doc["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["env"].([]any)[0].(map[string]any)["value"] != "$CLOUDARK_MYSQL_Password" {
		t.Fatal("input modified")
	}
}
