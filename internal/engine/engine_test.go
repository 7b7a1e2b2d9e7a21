package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudark/cld/internal/provider"
	"github.com/cloudark/cld/internal/spec"
	"github.com/cloudark/cld/internal/state"
)

// memTarget is an in-memory platform: it keeps what exists, takes time to
// create, and fails where told, so the engine's ordering, rollback and resume
// logic can be tested precisely. The real targets are tested end to end.
type memTarget struct {
	mu       sync.Mutex
	objects  map[string]bool // name -> exists
	creates  map[string]int  // name -> Create calls
	events   []string        // "create X", "delete X" in order
	delay    map[string]time.Duration
	failOn   map[string]error         // key -> error from Create
	block    map[string]chan struct{} // key -> Create waits until closed
	readyIn  int                      // Observe calls before ready
	observed map[string]int
	half     map[string]bool // name -> created but not finished (a crash inside Create)
	// name -> how many deletes the object survives (a create accepted
	// before the delete that lands after it)
	survive map[string]int
	deletes map[string]int // name -> Delete calls
	// key -> the platform carries the create out after this long even when
	// the caller gave up waiting (a cloud request cancelled in flight)
	lands map[string]time.Duration
}

func newMem() *memTarget {
	return &memTarget{objects: map[string]bool{}, creates: map[string]int{}, delay: map[string]time.Duration{},
		failOn: map[string]error{}, block: map[string]chan struct{}{}, observed: map[string]int{}, half: map[string]bool{},
		survive: map[string]int{}, deletes: map[string]int{}, lands: map[string]time.Duration{}}
}

func (m *memTarget) Name() string { return spec.TargetLocal }

func (m *memTarget) Handler(kind string) (provider.Handler, bool) {
	if kind == "mem-rolling" {
		return memRolling{memHandler{m}}, true
	}
	return memHandler{m}, true
}

// memRolling updates in place, like a Kubernetes Deployment.
type memRolling struct{ memHandler }

func (h memRolling) Update(ctx context.Context, req *provider.Request, old *provider.Element) error {
	h.m.mu.Lock()
	defer h.m.mu.Unlock()
	if err := h.m.failOn[req.Element.Name]; err != nil {
		return provider.Permanent(err)
	}
	delete(h.m.objects, old.Name)
	h.m.objects[req.Element.Name] = true
	h.m.events = append(h.m.events, "update "+old.Name+" -> "+req.Element.Name)
	return nil
}

func (m *memTarget) PlanCluster(p provider.EnvPlan) ([]*provider.Element, error) {
	return []*provider.Element{{Key: "cluster", Kind: "mem", Target: m.Name(), Name: p.Base}}, nil
}

func (m *memTarget) PlanResources(p provider.EnvPlan, res []spec.Resource, cluster []*provider.Element) ([]*provider.Element, error) {
	var out []*provider.Element
	for i, r := range res {
		key := fmt.Sprintf("db%d", i)
		out = append(out, &provider.Element{Key: key, Kind: "mem", Target: m.Name(), Name: p.Base + "-" + key,
			BindType: strings.ToUpper(r.Type), Inputs: map[string]string{"password": provider.GeneratePassword(24)}})
		// a rule that needs both, like a security-group rule
		if len(cluster) > 0 {
			out = append(out, &provider.Element{Key: key + "-rule", Kind: "mem", Target: m.Name(), Name: p.Base + "-" + key + "-rule", Deps: []string{"cluster", key}})
		}
	}
	return out, nil
}

func (m *memTarget) PlanApp(p provider.AppPlan) ([]*provider.Element, error) {
	kind := "mem"
	if strings.Contains(p.Spec.Single.Image, "rolling") {
		kind = "mem-rolling"
	}
	return []*provider.Element{{Key: "app", Kind: kind, Target: m.Name(), Name: p.Base}}, nil
}

type memHandler struct{ m *memTarget }

func (h memHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	h.m.mu.Lock()
	defer h.m.mu.Unlock()
	name := req.Element.Name
	if !h.m.objects[name] {
		return provider.Observation{}, nil
	}
	h.m.observed[name]++
	obs := provider.Observation{Exists: true, Ready: h.m.observed[name] > h.m.readyIn, Outputs: map[string]string{"Name": name}}
	if h.m.half[name] {
		return provider.Observation{Exists: true, Incomplete: true}, nil
	}
	if req.Element.BindType != "" {
		obs.Secrets = map[string]string{"Password": req.Element.Inputs["password"]}
	}
	return obs, nil
}

func (h memHandler) Create(ctx context.Context, req *provider.Request) error {
	key, name := req.Element.Key, req.Element.Name
	h.m.mu.Lock()
	d, block, fail := h.m.delay[key], h.m.block[key], h.m.failOn[key]
	if f, ok := h.m.failOn[name]; ok {
		fail = f
	}
	h.m.creates[name]++
	land := h.m.lands[key]
	h.m.mu.Unlock()
	if land > 0 {
		done := make(chan struct{})
		go func() {
			time.Sleep(land)
			h.m.mu.Lock()
			h.m.objects[name] = true
			h.m.events = append(h.m.events, "create "+key)
			h.m.mu.Unlock()
			close(done)
		}()
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return ctx.Err()
	}
	h.m.mu.Lock()
	defer h.m.mu.Unlock()
	if fail != nil {
		// half-made: the platform object exists although Create failed
		h.m.objects[name] = true
		h.m.events = append(h.m.events, "create "+key)
		return provider.Permanent(fail)
	}
	h.m.objects[name] = true
	delete(h.m.half, name)
	h.m.events = append(h.m.events, "create "+key)
	return nil
}

func (h memHandler) Delete(ctx context.Context, req *provider.Request) error {
	h.m.mu.Lock()
	defer h.m.mu.Unlock()
	name := req.Element.Name
	h.m.deletes[name]++
	if h.m.objects[name] {
		h.m.events = append(h.m.events, "delete "+req.Element.Key)
	}
	if h.m.survive[name] > 0 {
		h.m.survive[name]--
		return nil
	}
	delete(h.m.objects, name)
	return nil
}

func (m *memTarget) alive() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.objects)
}

type harness struct {
	t     *testing.T
	mem   *memTarget
	store *state.SQLite
	eng   *Engine
	home  string
}

func newHarness(t *testing.T, mem *memTarget) *harness {
	t.Helper()
	home := t.TempDir()
	h := &harness{t: t, mem: mem, home: home}
	h.open()
	return h
}

func (h *harness) open() {
	layout := state.Layout{Home: h.home}
	store, err := state.OpenSQLite(layout.Database())
	if err != nil {
		h.t.Fatal(err)
	}
	h.store = store
	h.eng = New(Options{Store: store, Targets: provider.NewRegistry(h.mem), Layout: layout, PollMin: time.Millisecond, PollMax: 10 * time.Millisecond})
	h.t.Cleanup(func() { h.eng.Shutdown(); store.Close() })
}

// crash stops the engine as a killed server would leave it: jobs abandoned
// mid-flight, state as it was.
func (h *harness) crash() {
	h.eng.Shutdown()
	h.store.Close()
}

func (h *harness) wait(op *state.Operation) *state.Operation {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done, err := h.eng.Wait(ctx, op.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	return done
}

const envYAML = `environment:
  resources:
    local:
      - resource:
          type: mysql
  app_deployment:
    target: local
`

func TestCreateRunsIndependentElementsConcurrently(t *testing.T) {
	mem := newMem()
	mem.delay["cluster"] = 300 * time.Millisecond
	mem.delay["db0"] = 400 * time.Millisecond
	h := newHarness(t, mem)
	start := time.Now()
	op, err := h.eng.CreateEnv(context.Background(), "dev", "env.yaml", []byte(envYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	done := h.wait(op)
	took := time.Since(start)
	if done.Status != state.OpSucceeded {
		t.Fatalf("operation %s: %s", done.Status, done.Error)
	}
	// cluster and db in parallel (max 400ms), then the rule: well under the 700ms sum
	if took >= 650*time.Millisecond {
		t.Fatalf("create took %s: cluster and database were not created concurrently", took)
	}
	// the rule waited for both
	last := mem.events[len(mem.events)-1]
	if last != "create db0-rule" {
		t.Fatalf("rule created before its dependencies: %v", mem.events)
	}
	env, _ := h.store.GetObject(context.Background(), state.KindEnv, "dev")
	if env.Status != state.StatusAvailable {
		t.Fatalf("env status %s", env.Status)
	}
	els, _ := h.store.Elements(context.Background(), "env/dev")
	for _, e := range els {
		if e.Status != state.StatusAvailable || e.Labels[provider.LabelManagedBy] != "cld" || e.Labels[provider.LabelEnv] != "dev" {
			t.Fatalf("element %s: status %s labels %v", e.Key, e.Status, e.Labels)
		}
	}
}

func TestFailedCreateRollsBackEverything(t *testing.T) {
	mem := newMem()
	mem.failOn["db0-rule"] = errors.New("quota exceeded")
	h := newHarness(t, mem)
	op, err := h.eng.CreateEnv(context.Background(), "dev", "env.yaml", []byte(envYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	done := h.wait(op)
	if done.Status != state.OpRolledBack || !strings.Contains(done.Error, "quota exceeded") {
		t.Fatalf("got %s: %s", done.Status, done.Error)
	}
	if n := mem.alive(); n != 0 {
		t.Fatalf("%d objects left after rollback: %v", n, mem.objects)
	}
	// dependents deleted before what they depend on
	var order []string
	for _, e := range mem.events {
		if strings.HasPrefix(e, "delete") {
			order = append(order, e)
		}
	}
	if order[0] != "delete db0-rule" {
		t.Fatalf("rollback order: %v", order)
	}
	env, _ := h.store.GetObject(context.Background(), state.KindEnv, "dev")
	if env.Status != state.StatusFailed || !strings.Contains(env.Error, "quota exceeded") {
		t.Fatalf("env: %s %s", env.Status, env.Error)
	}
	if els, _ := h.store.Elements(context.Background(), "env/dev"); len(els) != 0 {
		t.Fatalf("rows left: %d", len(els))
	}
	// the name can be used again once fixed
	delete(mem.failOn, "db0-rule")
	op, err = h.eng.CreateEnv(context.Background(), "dev", "env.yaml", []byte(envYAML), nil)
	if err != nil {
		t.Fatalf("create after a rolled-back create: %v", err)
	}
	if done := h.wait(op); done.Status != state.OpSucceeded {
		t.Fatalf("second create: %s %s", done.Status, done.Error)
	}
}

func TestBadInputCreatesNothing(t *testing.T) {
	mem := newMem()
	h := newHarness(t, mem)
	ctx := context.Background()
	for _, c := range []struct{ name, src, want string }{
		{"Dev", envYAML, "not valid"},
		{"dev", "environment:\n  app_deployment:\n    target: local\n    size: 3\n", "env.yaml:4:5: environment.app_deployment.size: unknown field"},
		{"dev", "environment:\n  app_deployment:\n    target: aws\n", "not available yet"},
	} {
		_, err := h.eng.CreateEnv(ctx, c.name, "env.yaml", []byte(c.src), nil)
		var in *InputError
		if !errors.As(err, &in) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want input error containing %q", c.src, err, c.want)
		}
	}
	envs, _ := h.store.ListObjects(ctx, state.KindEnv, "")
	if len(envs) != 0 || mem.alive() != 0 {
		t.Fatalf("bad input created %d envs, %d objects", len(envs), mem.alive())
	}
	ops, _ := h.store.RunningOperations(ctx)
	if len(ops) != 0 {
		t.Fatal("bad input started an operation")
	}
}

func TestNameTaken(t *testing.T) {
	h := newHarness(t, newMem())
	ctx := context.Background()
	op, err := h.eng.CreateEnv(ctx, "dev", "env.yaml", []byte(envYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	h.wait(op)
	_, err = h.eng.CreateEnv(ctx, "dev", "env.yaml", []byte(envYAML), nil)
	var c *ConflictError
	if !errors.As(err, &c) || !strings.Contains(err.Error(), `environment "dev" already exists`) {
		t.Fatalf("got %v", err)
	}
}

// A server killed in the middle of a create: the next one resumes, adopts
// what was made (no second Create), and finishes.
func TestResumeAfterCrashAdoptsInsteadOfRecreating(t *testing.T) {
	mem := newMem()
	mem.block["db0"] = make(chan struct{}) // the database create hangs
	h := newHarness(t, mem)
	op, err := h.eng.CreateEnv(context.Background(), "dev", "env.yaml", []byte(envYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for mem.alive() < 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	h.crash()
	if mem.alive() != 1 {
		t.Fatalf("expected only the cluster to exist at the crash, have %v", mem.objects)
	}
	close(mem.block["db0"])
	delete(mem.block, "db0")
	h.open()
	if err := h.eng.Resume(); err != nil {
		t.Fatal(err)
	}
	done := h.wait(op)
	if done.Status != state.OpSucceeded {
		t.Fatalf("resumed operation: %s %s", done.Status, done.Error)
	}
	for name, n := range mem.creates {
		if strings.HasSuffix(name, "-db0") {
			continue // interrupted inside Create: called again, which is the contract
		}
		if n != 1 {
			t.Errorf("%s created %d times", name, n)
		}
	}
	evs, _ := h.store.Events(context.Background(), op.ID, 0)
	var resumed bool
	for _, e := range evs {
		resumed = resumed || strings.Contains(e.Message, "resuming")
	}
	if !resumed {
		t.Fatal("no resume event recorded")
	}
}

func TestDeleteEnvRefusesWithAppsUnlessForced(t *testing.T) {
	mem := newMem()
	h := newHarness(t, mem)
	ctx := context.Background()
	h.wait(must(h.eng.CreateEnv(ctx, "dev", "env.yaml", []byte(envYAML), nil)))
	app := "app:\n  image: greet:1\n  env:\n    P: $CLOUDARK_MYSQL_Password\n"
	h.wait(must(h.eng.DeployApp(ctx, "web", "dev", "app.yaml", []byte(app), nil)))
	if _, err := h.eng.DeleteEnv(ctx, "dev", false); err == nil || !strings.Contains(err.Error(), "web") {
		t.Fatalf("delete with an app: %v", err)
	}
	done := h.wait(must(h.eng.DeleteEnv(ctx, "dev", true)))
	if done.Status != state.OpSucceeded {
		t.Fatalf("%s %s", done.Status, done.Error)
	}
	if mem.alive() != 0 {
		t.Fatalf("left: %v", mem.objects)
	}
	hist, _ := h.store.Operations(ctx, "dev")
	if len(hist) != 3 {
		t.Fatalf("history has %d operations, want create, deploy, delete", len(hist))
	}
}

func TestDeployBindingErrorsCreateNothing(t *testing.T) {
	mem := newMem()
	h := newHarness(t, mem)
	ctx := context.Background()
	h.wait(must(h.eng.CreateEnv(ctx, "dev", "env.yaml", []byte(envYAML), nil)))
	before := mem.alive()
	_, err := h.eng.DeployApp(ctx, "web", "dev", "app.yaml", []byte("app:\n  image: greet:1\n  env:\n    P: $CLOUDARK_RDS_MasterUserPassword\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "app.yaml:4:8: app.env.P: $CLOUDARK_RDS_MasterUserPassword: environment dev has no RDS resource") {
		t.Fatalf("got %v", err)
	}
	if _, err := h.store.GetObject(ctx, state.KindApp, "web"); err == nil {
		t.Fatal("app recorded despite a binding error")
	}
	if mem.alive() != before {
		t.Fatal("binding error created something")
	}
}

func TestRedeployRestoresPreviousVersionOnFailure(t *testing.T) {
	mem := newMem()
	h := newHarness(t, mem)
	ctx := context.Background()
	h.wait(must(h.eng.CreateEnv(ctx, "dev", "env.yaml", []byte(envYAML), nil)))
	h.wait(must(h.eng.DeployApp(ctx, "web", "dev", "app.yaml", []byte("app:\n  image: greet:1\n"), nil)))
	old, _ := h.store.Elements(ctx, "app/web")
	later := time.Now().Add(time.Hour)
	h.eng.now = func() time.Time { return later }
	mem.failOn[fmt.Sprintf("web-%d", later.Unix())] = errors.New("image greet:2 not found")
	done := h.wait(must(h.eng.RedeployApp(ctx, "web", "app.yaml", []byte("app:\n  image: greet:2\n"), nil)))
	if done.Status != state.OpRolledBack {
		t.Fatalf("%s %s", done.Status, done.Error)
	}
	now, _ := h.store.Elements(ctx, "app/web")
	if len(now) != 1 || now[0].Name != old[0].Name || now[0].Status != state.StatusAvailable {
		t.Fatalf("previous version not restored: %d %s %s %s (old %s)", len(now), now[0].Name, now[0].Status, now[0].Owner, old[0].Name)
	}
	if !mem.objects[old[0].Name] {
		t.Fatal("previous container not running again")
	}
	h.eng.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	done = h.wait(must(h.eng.RedeployApp(ctx, "web", "app.yaml", []byte("app:\n  image: greet:3\n"), nil)))
	if done.Status != state.OpSucceeded {
		t.Fatalf("%s %s", done.Status, done.Error)
	}
	now, _ = h.store.Elements(ctx, "app/web")
	if len(now) != 1 || now[0].Name == old[0].Name || mem.objects[old[0].Name] {
		t.Fatalf("old version still there: %+v %v", now, mem.objects)
	}
	if left, _ := h.store.Elements(ctx, retiredOwner("web")); len(left) != 0 {
		t.Fatal("retired rows left")
	}
}

func TestArtifactsKeepDefinitionAsGiven(t *testing.T) {
	h := newHarness(t, newMem())
	h.wait(must(h.eng.CreateEnv(context.Background(), "dev", "/some/where/env.yaml", []byte(envYAML), nil)))
	got, err := readFile(filepath.Join(h.eng.Layout().Folder(state.KindEnv, "dev"), "env.yaml"))
	if err != nil || got != envYAML {
		t.Fatalf("artifact: %q %v", got, err)
	}
}

func must(op *state.Operation, err error) *state.Operation {
	if err != nil {
		panic(err)
	}
	return op
}

func TestElementsArtifactHasNoSecrets(t *testing.T) {
	h := newHarness(t, newMem())
	h.wait(must(h.eng.CreateEnv(context.Background(), "dev", "env.yaml", []byte(envYAML), nil)))
	got, err := readFile(filepath.Join(h.eng.Layout().Folder(state.KindEnv, "dev"), "elements.json"))
	if err != nil || !strings.Contains(got, `"key": "db0"`) {
		t.Fatalf("elements.json: %v\n%s", err, got)
	}
	els, _ := h.store.Elements(context.Background(), "env/dev")
	for _, e := range els {
		if pw := e.Inputs["password"]; pw != "" && strings.Contains(got, pw) {
			t.Fatal("elements.json holds a generated password")
		}
	}
}

// An element left half-made by a crash inside Create is finished, not skipped.
func TestIncompleteElementIsFinished(t *testing.T) {
	mem := newMem()
	h := newHarness(t, mem)
	h.eng.now = func() time.Time { return time.Unix(1700000000, 0) }
	mem.objects["dev-1700000000"] = true
	mem.half["dev-1700000000"] = true
	done := h.wait(must(h.eng.CreateEnv(context.Background(), "dev", "env.yaml", []byte(envYAML), nil)))
	if done.Status != state.OpSucceeded {
		t.Fatalf("%s %s", done.Status, done.Error)
	}
	if mem.half["dev-1700000000"] || mem.creates["dev-1700000000"] != 1 {
		t.Fatalf("the half-made cluster was not finished: %v %v", mem.half, mem.creates)
	}
}

// Elements whose handler updates in place are rolled, not taken down; a
// failed roll goes back to the previous version the same way.
func TestRedeployUpdatesInPlace(t *testing.T) {
	mem := newMem()
	h := newHarness(t, mem)
	ctx := context.Background()
	h.wait(must(h.eng.CreateEnv(ctx, "dev", "env.yaml", []byte(envYAML), nil)))
	h.wait(must(h.eng.DeployApp(ctx, "web", "dev", "app.yaml", []byte("app:\n  image: rolling:1\n"), nil)))
	v1, _ := h.store.Elements(ctx, "app/web")
	t2 := time.Now().Add(time.Hour)
	h.eng.now = func() time.Time { return t2 }
	done := h.wait(must(h.eng.RedeployApp(ctx, "web", "app.yaml", []byte("app:\n  image: rolling:2\n"), nil)))
	if done.Status != state.OpSucceeded {
		t.Fatalf("%s %s", done.Status, done.Error)
	}
	v2 := fmt.Sprintf("web-%d", t2.Unix())
	want := "update " + v1[0].Name + " -> " + v2
	if last := mem.events[len(mem.events)-1]; last != want {
		t.Fatalf("last event %q, want %q (events %v)", last, want, mem.events)
	}
	for _, e := range mem.events {
		if strings.HasPrefix(e, "delete") {
			t.Fatalf("an in-place update deleted something: %v", mem.events)
		}
	}
	// a failed roll is rolled back in place
	t3 := t2.Add(time.Hour)
	h.eng.now = func() time.Time { return t3 }
	mem.failOn[fmt.Sprintf("web-%d", t3.Unix())] = errors.New("bad image")
	done = h.wait(must(h.eng.RedeployApp(ctx, "web", "app.yaml", []byte("app:\n  image: rolling:3\n"), nil)))
	if done.Status != state.OpRolledBack {
		t.Fatalf("%s %s", done.Status, done.Error)
	}
	now, _ := h.store.Elements(ctx, "app/web")
	if len(now) != 1 || now[0].Name != v2 || now[0].Status != state.StatusAvailable || !mem.objects[v2] {
		t.Fatalf("after a failed roll: %+v %v", now, mem.objects)
	}
}

// Concurrent creates of one name: exactly one wins, the others are told the
// name is taken, and only the winner's elements exist.
func TestConcurrentCreateSameName(t *testing.T) {
	mem := newMem()
	h := newHarness(t, mem)
	var wg sync.WaitGroup
	results := make(chan error, 5)
	ops := make(chan *state.Operation, 5)
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			op, err := h.eng.CreateEnv(context.Background(), "dev", "env.yaml", []byte(envYAML), nil)
			results <- err
			if err == nil {
				ops <- op
			}
		}()
	}
	wg.Wait()
	close(results)
	close(ops)
	wins := 0
	for err := range results {
		var c *ConflictError
		switch {
		case err == nil:
			wins++
		case !errors.As(err, &c):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d creates won", wins)
	}
	for op := range ops {
		if done := h.wait(op); done.Status != state.OpSucceeded {
			t.Fatalf("%s %s", done.Status, done.Error)
		}
	}
	if n := mem.alive(); n != 3 {
		t.Fatalf("%d objects, want the winner's 3", n)
	}
}

// An object that is whole again after its delete (a create the platform
// accepted before the delete, landing after it) is deleted again instead of
// being waited on until the timeout.
func TestDeleteAgainWhatReappears(t *testing.T) {
	mem := newMem()
	h := newHarness(t, mem)
	ctx := context.Background()
	if done := h.wait(must(h.eng.CreateEnv(ctx, "dev", "env.yaml", []byte(envYAML), nil))); done.Status != state.OpSucceeded {
		t.Fatalf("create: %s %s", done.Status, done.Error)
	}
	env, _ := h.store.GetObject(ctx, state.KindEnv, "dev")
	mem.mu.Lock()
	mem.survive[env.Base] = 1 // the cluster
	mem.mu.Unlock()
	start := time.Now()
	done := h.wait(must(h.eng.DeleteEnv(ctx, "dev", false)))
	if done.Status != state.OpSucceeded {
		t.Fatalf("delete: %s %s", done.Status, done.Error)
	}
	if n := mem.alive(); n != 0 {
		t.Fatalf("%d objects left: %v", n, mem.objects)
	}
	mem.mu.Lock()
	defer mem.mu.Unlock()
	if mem.deletes[env.Base] != 2 {
		t.Fatalf("the cluster was deleted %d times, want 2", mem.deletes[env.Base])
	}
	t.Logf("deleted in %s", time.Since(start).Round(time.Millisecond))
}

// A sibling's failure does not cancel a create call in flight: the platform
// may carry it out anyway, after the rollback looked. The rollback waits for
// the call and removes what it made.
func TestRollbackWaitsForCreateCallsInFlight(t *testing.T) {
	mem := newMem()
	mem.lands["cluster"] = 300 * time.Millisecond
	mem.failOn["db0"] = errors.New("no capacity")
	h := newHarness(t, mem)
	done := h.wait(must(h.eng.CreateEnv(context.Background(), "dev", "env.yaml", []byte(envYAML), nil)))
	if done.Status != state.OpRolledBack || !strings.Contains(done.Error, "no capacity") {
		t.Fatalf("got %s: %s", done.Status, done.Error)
	}
	time.Sleep(500 * time.Millisecond) // past the landing of anything still in flight
	if n := mem.alive(); n != 0 {
		t.Fatalf("%d objects left after the rollback: %v (events %v)", n, mem.objects, mem.events)
	}
}
