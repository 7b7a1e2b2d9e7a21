package state

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/cloudark/cld/internal/provider"
)

func openTest(t *testing.T) (*SQLite, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "data", "cld.sqlite")
	s, err := OpenSQLite(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, p
}

func TestObjectsElementsOperations(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("database mode: %v %v", fi.Mode(), err)
	}
	env := &Object{Kind: KindEnv, Name: "dev", Base: "dev-1", Target: "local", Status: StatusCreating, Source: []byte("environment: {}")}
	if err := s.CreateObject(ctx, env); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateObject(ctx, env); !errors.Is(err, ErrExists) {
		t.Fatalf("second create: %v", err)
	}
	if err := s.UpdateObject(ctx, KindEnv, "dev", func(o *Object) { o.Status = StatusAvailable }); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetObject(ctx, KindEnv, "dev")
	if err != nil || got.Status != StatusAvailable || string(got.Source) != "environment: {}" {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := s.GetObject(ctx, KindEnv, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}

	el := &Element{Element: provider.Element{Key: "database/mysql", Kind: "docker-database", Target: "local", Name: "dev-1-mysql",
		Deps: []string{"network"}, Labels: map[string]string{provider.LabelEnv: "dev"}, Inputs: map[string]string{"password": "x"}}, Status: StatusPending}
	if err := s.PutElements(ctx, Owner(KindEnv, "dev"), []*Element{el}); err != nil {
		t.Fatal(err)
	}
	el.Status, el.Ref = StatusAvailable, "abc"
	el.Outputs = map[string]string{"DBHOST": "dev-1-mysql"}
	el.Secrets = map[string]string{"Password": "x"}
	if err := s.UpdateElement(ctx, el); err != nil {
		t.Fatal(err)
	}
	els, err := s.EnvElements(ctx, "dev")
	if err != nil || len(els) != 1 {
		t.Fatalf("%v %v", els, err)
	}
	e := els[0]
	if e.Ref != "abc" || e.Outputs["DBHOST"] != "dev-1-mysql" || e.Secrets["Password"] != "x" || e.Inputs["password"] != "x" || e.Deps[0] != "network" {
		t.Fatalf("round trip: %+v", e)
	}

	op := &Operation{ID: "op1", Kind: "env create", Owner: "env/dev", Env: "dev"}
	if err := s.CreateOperation(ctx, op); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"one", "two", "three"} {
		if err := s.AddEvent(ctx, "op1", m); err != nil {
			t.Fatal(err)
		}
	}
	evs, _ := s.Events(ctx, "op1", 1)
	if len(evs) != 2 || evs[0].Message != "two" || evs[1].Seq != 3 {
		t.Fatalf("events: %+v", evs)
	}
	running, _ := s.RunningOperations(ctx)
	if len(running) != 1 {
		t.Fatalf("running: %v", running)
	}
	if err := s.FinishOperation(ctx, "op1", OpFailed, "boom"); err != nil {
		t.Fatal(err)
	}
	hist, _ := s.Operations(ctx, "dev")
	if len(hist) != 1 || hist[0].Status != OpFailed || hist[0].Error != "boom" || hist[0].EndedAt == nil {
		t.Fatalf("history: %+v", hist[0])
	}
	if err := s.DeleteObject(ctx, KindEnv, "dev"); err != nil {
		t.Fatal(err)
	}
	if els, _ := s.Elements(ctx, "env/dev"); len(els) != 0 {
		t.Fatalf("elements left: %v", els)
	}
	if hist, _ := s.Operations(ctx, "dev"); len(hist) != 1 {
		t.Fatal("history must outlive the environment")
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "cld.sqlite")
	s, err := OpenSQLite(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateObject(ctx, &Object{Kind: KindApp, Name: "web", Env: "dev", Base: "web-1", Status: StatusAvailable}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = OpenSQLite(p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	apps, err := s.ListObjects(ctx, KindApp, "dev")
	if err != nil || len(apps) != 1 || apps[0].Name != "web" {
		t.Fatalf("%v %v", apps, err)
	}
}

func TestCachedListFollowsWrites(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	if err := s.CreateObject(ctx, &Object{Kind: KindApp, Name: "old", Env: "dev", Base: "old-1", Status: StatusAvailable}); err != nil {
		t.Fatal(err)
	}
	c := NewCached(s)
	if err := c.CreateObject(ctx, &Object{Kind: KindApp, Name: "b", Env: "dev", Base: "b-1", Status: StatusCreating, Source: []byte("app: {}")}); err != nil {
		t.Fatal(err)
	}
	c.CreateObject(ctx, &Object{Kind: KindApp, Name: "a", Env: "prod", Base: "a-1", Status: StatusCreating})
	c.UpdateObject(ctx, KindApp, "b", func(o *Object) { o.Status = StatusAvailable })
	list, err := c.ListObjects(ctx, KindApp, "")
	if err != nil || len(list) != 3 || list[0].Name != "a" || list[1].Name != "b" || list[1].Status != StatusAvailable || list[2].Name != "old" {
		t.Fatalf("%v %v", list, err)
	}
	if list[1].Source != nil {
		t.Fatal("lists carry no definitions")
	}
	dev, _ := c.ListObjects(ctx, KindApp, "dev")
	if len(dev) != 2 {
		t.Fatalf("env filter: %d", len(dev))
	}
	c.DeleteObject(ctx, KindApp, "b")
	if list, _ := c.ListObjects(ctx, KindApp, ""); len(list) != 2 {
		t.Fatalf("after delete: %d", len(list))
	}
	if o, _ := c.GetObject(ctx, KindApp, "a"); o == nil {
		t.Fatal("GetObject goes to the store")
	}
}
