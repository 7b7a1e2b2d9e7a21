package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cloudark/cld/internal/bind"
	"github.com/cloudark/cld/internal/provider"
	"github.com/cloudark/cld/internal/spec"
	"github.com/cloudark/cld/internal/state"
)

// InputError is bad input: nothing was created. The server answers 400.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// ConflictError is a name already taken or an object busy. The server answers 409.
type ConflictError struct{ Msg string }

func (e *ConflictError) Error() string { return e.Msg }

func badInput(err error) error { return &InputError{Err: err} }

// Registries name where `container create` stores an image, mapped to targets.
var registries = map[string]string{"local": spec.TargetLocal, "ecr": spec.TargetAWS, "gcr": spec.TargetGCloud}

// CreateEnv validates an environment definition, records the intent for every
// element, and starts creating them. It returns once the operation runs.
func (e *Engine) CreateEnv(ctx context.Context, name, file string, src []byte, clientEnv map[string]string) (*state.Operation, error) {
	if err := spec.CheckName("environment", name); err != nil {
		return nil, badInput(err)
	}
	env, err := spec.ParseEnvironment(file, src)
	if err != nil {
		return nil, badInput(err)
	}
	if err := e.claim(ctx, state.KindEnv, name); err != nil {
		return nil, err
	}
	base := name + "-" + e.stamp()
	plan := provider.EnvPlan{Env: name, Base: base, Spec: env, ClientEnv: clientEnv, Folder: e.layout.Folder(state.KindEnv, name)}
	var els []*provider.Element
	var cluster []*provider.Element
	target := ""
	if d := env.AppDeployment; d != nil {
		target = d.Target
		t, err := e.targets.Target(d.Target)
		if err != nil {
			return nil, badInput(posError(d.Pos, "environment.app_deployment.target", err))
		}
		cp, ok := t.(provider.ClusterPlanner)
		if !ok {
			return nil, badInput(posError(d.Pos, "environment.app_deployment.target", fmt.Errorf("target %s cannot run apps", d.Target)))
		}
		if cluster, err = cp.PlanCluster(plan); err != nil {
			return nil, badInput(posError(d.Pos, "environment.app_deployment", err))
		}
		els = append(els, cluster...)
	}
	byTarget := map[string][]spec.Resource{}
	for _, r := range env.Resources {
		byTarget[r.Target] = append(byTarget[r.Target], r)
	}
	for _, tn := range slices.Sorted(maps.Keys(byTarget)) {
		res := byTarget[tn]
		t, err := e.targets.Target(tn)
		if err != nil {
			return nil, badInput(posError(res[0].Pos, "environment.resources."+tn, err))
		}
		dp, ok := t.(provider.DatabasePlanner)
		if !ok {
			return nil, badInput(posError(res[0].Pos, "environment.resources."+tn, fmt.Errorf("target %s has no resources", tn)))
		}
		var same []*provider.Element
		if tn == target {
			same = cluster
		}
		planned, err := dp.PlanResources(plan, res, same)
		if err != nil {
			return nil, badInput(posError(res[0].Pos, "environment.resources."+tn, err))
		}
		els = append(els, planned...)
	}
	if target == "" && len(env.Resources) > 0 {
		target = env.Resources[0].Target
	}
	specJSON, _ := json.Marshal(env)
	obj := &state.Object{Kind: state.KindEnv, Name: name, Base: base, Target: target, File: file, Source: src, Spec: specJSON, Status: state.StatusCreating}
	return e.begin(ctx, obj, name, els, map[string]string{provider.LabelEnv: name}, "env create")
}

func posError(p spec.Pos, field string, err error) error {
	return spec.Errors{{Pos: p, Field: field, Msg: err.Error()}}
}

// claim checks that a name is free. A failed object with nothing left is
// replaced, so a user can fix a definition and run the same command again.
func (e *Engine) claim(ctx context.Context, kind, name string) error {
	o, err := e.store.GetObject(ctx, kind, name)
	if errors.Is(err, state.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	els, err := e.store.Elements(ctx, state.Owner(kind, name))
	if err != nil {
		return err
	}
	if o.Status == state.StatusFailed && len(els) == 0 && !e.busy(state.Owner(kind, name)) {
		return e.store.DeleteObject(ctx, kind, name)
	}
	what := map[string]string{state.KindEnv: "environment", state.KindApp: "app", state.KindContainer: "container"}[kind]
	hint := ""
	if kind == state.KindApp {
		hint = fmt.Sprintf(": use `cld app redeploy %s <app.yaml>` to change it", name)
	}
	return &ConflictError{Msg: fmt.Sprintf("%s %q already exists (status %s)%s", what, name, o.Status, hint)}
}

// begin labels the plan, stores object, intent rows and operation, and starts the job.
func (e *Engine) begin(ctx context.Context, obj *state.Object, env string, plan []*provider.Element, labels map[string]string, opKind string) (*state.Operation, error) {
	owner := state.Owner(obj.Kind, obj.Name)
	seen := map[string]bool{}
	for _, el := range plan {
		if seen[el.Key] {
			return nil, fmt.Errorf("internal: plan has two elements with key %q", el.Key)
		}
		seen[el.Key] = true
		el.Labels = e.withLabels(el.Labels, labels, owner, el.Key)
	}
	if err := e.store.CreateObject(ctx, obj); err != nil {
		if errors.Is(err, state.ErrExists) {
			return nil, &ConflictError{Msg: err.Error()}
		}
		return nil, err
	}
	// Only the request that won the name writes into its folder.
	if len(obj.Source) > 0 {
		if _, err := e.layout.WriteArtifact(obj.Kind, obj.Name, definitionName(obj.File), obj.Source); err != nil {
			return nil, err
		}
	}
	if err := e.store.PutElements(ctx, owner, toRows(plan)); err != nil {
		return nil, err
	}
	op, err := e.start(opKind, owner, env, request{Action: "create", Kind: obj.Kind, Name: obj.Name}, e.createJob(obj.Kind, obj.Name))
	if err != nil {
		return nil, err
	}
	e.store.UpdateObject(ctx, obj.Kind, obj.Name, func(o *state.Object) { o.Op = op.ID })
	return op, nil
}

func definitionName(file string) string {
	if file == "" {
		return "definition.yaml"
	}
	return filepath.Base(file)
}

func (e *Engine) withLabels(own, common map[string]string, owner, key string) map[string]string {
	out := map[string]string{provider.LabelManagedBy: provider.ManagedByValue, provider.LabelElement: owner + "/" + key}
	if e.install != "" {
		out[provider.LabelInstall] = e.install
	}
	maps.Copy(out, common)
	maps.Copy(out, own)
	return out
}

// sweepLabels select what an owner left on the platform, in this
// installation only.
func (e *Engine) sweepLabels(kind, name string) map[string]string {
	l := map[string]string{labelFor(kind): name}
	if e.install != "" {
		l[provider.LabelInstall] = e.install
	}
	return l
}

// createJob applies an object's elements; on failure it rolls them back.
func (e *Engine) createJob(kind, name string) func(ctx context.Context, op *state.Operation, say reporter) error {
	return func(ctx context.Context, op *state.Operation, say reporter) error {
		owner := state.Owner(kind, name)
		els, err := e.store.Elements(ctx, owner)
		if err != nil {
			return err
		}
		say("%s %s: %d elements to create", kind, name, len(els))
		err = e.apply(ctx, els, say)
		if err != nil && e.ctx.Err() != nil {
			return err // server stopping: resume later, do not roll back
		}
		if err != nil {
			say("rolling back: %v", err)
			rbErr := e.destroy(context.WithoutCancel(ctx), els, say)
			if rbErr == nil {
				rbErr = e.sweep(context.WithoutCancel(ctx), e.sweepLabels(kind, name), say)
			}
			msg := err.Error()
			e.store.UpdateObject(context.WithoutCancel(ctx), kind, name, func(o *state.Object) {
				o.Status, o.Error = state.StatusFailed, msg
			})
			return &rolledBack{err: err, rollbackErr: rbErr}
		}
		e.writeElements(kind, name, els)
		return e.store.UpdateObject(ctx, kind, name, func(o *state.Object) {
			o.Status, o.Error = state.StatusAvailable, ""
			for _, el := range els {
				if v := el.Outputs["URL"]; v != "" && kind == state.KindApp {
					o.URL = v
				}
				if v := el.Outputs["Image"]; v != "" && kind == state.KindContainer {
					o.Image = v
				}
			}
		})
	}
}

// writeElements keeps what cld generated beside the definition: every
// element with its spec, labels and outputs. Secrets are not in it (their
// fields never serialise).
func (e *Engine) writeElements(kind, name string, els []*state.Element) {
	b, err := json.MarshalIndent(els, "", "  ")
	if err == nil {
		_, err = e.layout.WriteArtifact(kind, name, "elements.json", b)
	}
	if err != nil {
		e.log.Warn("artifact", "err", err)
	}
}

func labelFor(kind string) string {
	switch kind {
	case state.KindApp:
		return provider.LabelApp
	case state.KindContainer:
		return provider.LabelContainer
	}
	return provider.LabelEnv
}

// DeleteEnv deletes an environment. With apps deployed it refuses unless force.
func (e *Engine) DeleteEnv(ctx context.Context, name string, force bool) (*state.Operation, error) {
	if _, err := e.store.GetObject(ctx, state.KindEnv, name); err != nil {
		return nil, err
	}
	apps, err := e.store.ListObjects(ctx, state.KindApp, name)
	if err != nil {
		return nil, err
	}
	if len(apps) > 0 && !force {
		names := make([]string, len(apps))
		for i, a := range apps {
			names[i] = a.Name
		}
		return nil, &ConflictError{Msg: fmt.Sprintf("environment %q has %d app(s) deployed (%s): delete them first, or use --force to delete them too", name, len(apps), strings.Join(names, ", "))}
	}
	return e.startDelete(ctx, state.KindEnv, name, name, force, "env delete")
}

// DeleteApp deletes an app's elements.
func (e *Engine) DeleteApp(ctx context.Context, name string) (*state.Operation, error) {
	o, err := e.store.GetObject(ctx, state.KindApp, name)
	if err != nil {
		return nil, err
	}
	return e.startDelete(ctx, state.KindApp, name, o.Env, false, "app delete")
}

// DeleteContainer deletes a container's image and what was made to store it.
func (e *Engine) DeleteContainer(ctx context.Context, name string) (*state.Operation, error) {
	if _, err := e.store.GetObject(ctx, state.KindContainer, name); err != nil {
		return nil, err
	}
	return e.startDelete(ctx, state.KindContainer, name, "", false, "container delete")
}

func (e *Engine) startDelete(ctx context.Context, kind, name, env string, force bool, opKind string) (*state.Operation, error) {
	owner := state.Owner(kind, name)
	if e.busy(owner) {
		return nil, &ConflictError{Msg: fmt.Sprintf("%s %q is busy with another operation; wait for it (`cld %s show %s`)", kind, name, kind, name)}
	}
	if err := e.store.UpdateObject(ctx, kind, name, func(o *state.Object) { o.Status, o.Error = state.StatusDeleting, "" }); err != nil {
		return nil, err
	}
	op, err := e.start(opKind, owner, env, request{Action: "delete", Kind: kind, Name: name, Force: force}, e.deleteJob(kind, name))
	if err == nil {
		e.store.UpdateObject(ctx, kind, name, func(o *state.Object) { o.Op = op.ID })
	}
	return op, err
}

// deleteJob removes an object's elements (and, for an environment, its apps),
// sweeps by label for strays, then forgets the object.
func (e *Engine) deleteJob(kind, name string) func(ctx context.Context, op *state.Operation, say reporter) error {
	return func(ctx context.Context, op *state.Operation, say reporter) error {
		if kind == state.KindEnv {
			apps, err := e.store.ListObjects(ctx, state.KindApp, name)
			if err != nil {
				return err
			}
			for _, a := range apps {
				say("deleting app %s first", a.Name)
				if err := e.deleteObject(ctx, state.KindApp, a.Name, say); err != nil {
					return e.deleteFailed(ctx, kind, name, err)
				}
			}
		}
		if err := e.deleteObject(ctx, kind, name, say); err != nil {
			return e.deleteFailed(ctx, kind, name, err)
		}
		return nil
	}
}

func (e *Engine) deleteFailed(ctx context.Context, kind, name string, err error) error {
	if e.ctx.Err() != nil {
		return err
	}
	msg := fmt.Sprintf("delete failed: %v (run the delete again to retry)", err)
	e.store.UpdateObject(context.WithoutCancel(ctx), kind, name, func(o *state.Object) { o.Status, o.Error = state.StatusFailed, msg })
	return errors.New(msg)
}

func (e *Engine) deleteObject(ctx context.Context, kind, name string, say reporter) error {
	owner := state.Owner(kind, name)
	els, err := e.store.Elements(ctx, owner)
	if err != nil {
		return err
	}
	// Elements a redeploy had retired, if it was interrupted.
	if kind == state.KindApp {
		retired, err := e.store.Elements(ctx, retiredOwner(name))
		if err != nil {
			return err
		}
		els = append(els, retired...)
	}
	if err := e.destroy(ctx, els, say); err != nil {
		return err
	}
	if err := e.sweep(ctx, e.sweepLabels(kind, name), say); err != nil {
		return err
	}
	if err := e.store.DeleteObject(ctx, kind, name); err != nil {
		return err
	}
	return e.layout.RemoveFolder(kind, name)
}

func retiredOwner(app string) string { return state.Owner(state.KindApp, app) + "~previous" }

// CreateContainer builds and stores an image from a build context the server
// saved in the container's folder.
func (e *Engine) CreateContainer(ctx context.Context, name, registry, contextTar string, clientEnv map[string]string) (*state.Operation, error) {
	if err := spec.CheckName("container", name); err != nil {
		return nil, badInput(err)
	}
	tn, ok := registries[registry]
	if !ok {
		return nil, badInput(fmt.Errorf("unknown registry %q (one of: local, ecr, gcr)", registry))
	}
	if err := e.claim(ctx, state.KindContainer, name); err != nil {
		return nil, err
	}
	t, err := e.targets.Target(tn)
	if err != nil {
		return nil, badInput(err)
	}
	rp, ok := t.(provider.RegistryPlanner)
	if !ok {
		return nil, badInput(fmt.Errorf("target %s cannot store images", tn))
	}
	stamp := e.stamp()
	plan, err := rp.PlanContainer(provider.ContainerPlan{Name: name, Stamp: stamp, ContextTar: contextTar, ClientEnv: clientEnv})
	if err != nil {
		return nil, badInput(err)
	}
	obj := &state.Object{Kind: state.KindContainer, Name: name, Base: name + "-" + stamp, Target: registry, File: "", Status: state.StatusCreating}
	return e.begin(ctx, obj, "", plan, map[string]string{provider.LabelContainer: name}, "container create")
}

// DeployApp binds an app definition to its environment and deploys it.
func (e *Engine) DeployApp(ctx context.Context, name, envName, file string, src []byte, clientEnv map[string]string) (*state.Operation, error) {
	if err := spec.CheckName("app", name); err != nil {
		return nil, badInput(err)
	}
	app, err := spec.ParseApp(file, src)
	if err != nil {
		return nil, badInput(err)
	}
	if err := e.claim(ctx, state.KindApp, name); err != nil {
		return nil, err
	}
	base := name + "-" + e.stamp()
	plan, target, err := e.planApp(ctx, name, envName, base, app, clientEnv)
	if err != nil {
		return nil, err
	}
	specJSON, _ := json.Marshal(app)
	obj := &state.Object{Kind: state.KindApp, Name: name, Env: envName, Base: base, Target: target, File: file, Source: src, Spec: specJSON, Status: state.StatusCreating}
	return e.begin(ctx, obj, envName, plan, map[string]string{provider.LabelEnv: envName, provider.LabelApp: name}, "app deploy")
}

// planApp binds and plans an app for its environment. Every problem is an
// InputError: nothing has been created yet.
func (e *Engine) planApp(ctx context.Context, name, envName, base string, app *spec.App, clientEnv map[string]string) ([]*provider.Element, string, error) {
	envObj, err := e.store.GetObject(ctx, state.KindEnv, envName)
	if errors.Is(err, state.ErrNotFound) {
		return nil, "", badInput(fmt.Errorf("environment %q does not exist (`cld env list` shows them)", envName))
	}
	if err != nil {
		return nil, "", err
	}
	if envObj.Status != state.StatusAvailable {
		return nil, "", &ConflictError{Msg: fmt.Sprintf("environment %q is %s, not available: `cld env show %s` says why", envName, envObj.Status, envName)}
	}
	var envSpec spec.Environment
	if err := json.Unmarshal(envObj.Spec, &envSpec); err != nil {
		return nil, "", err
	}
	if envSpec.AppDeployment == nil {
		return nil, "", badInput(fmt.Errorf("environment %q has no app_deployment: it has resources only, nothing to run apps on", envName))
	}
	envEls, err := e.store.Elements(ctx, state.Owner(state.KindEnv, envName))
	if err != nil {
		return nil, "", err
	}
	var resources []bind.Resource
	for _, el := range envEls {
		if el.BindType != "" {
			resources = append(resources, bind.Resource{Type: el.BindType, Name: el.Name, Outputs: el.Outputs, Secrets: el.Secrets})
		}
	}
	binder := bind.New(envName, resources)
	bound := &provider.BoundApp{Secrets: map[string]string{}}
	switch app.Format {
	case spec.FormatApp:
		vars, err := binder.Env(app.Single.Env)
		if err != nil {
			return nil, "", badInput(err)
		}
		for _, v := range vars {
			bound.Env = append(bound.Env, provider.BoundVar{Name: v.Name, Value: v.Value, Secret: v.Secret})
			if v.Secret {
				bound.Secrets[v.Name] = v.Value
			}
		}
	case spec.FormatKubernetes:
		for i, d := range app.Docs {
			out, secretPaths, err := binder.Tree(d.Object, d.Pos, fmt.Sprintf("document[%d]", i))
			if err != nil {
				return nil, "", badInput(err)
			}
			bound.Docs = append(bound.Docs, out)
			bound.DocSecrets = append(bound.DocSecrets, secretPaths)
		}
	case spec.FormatECS:
		out, _, err := binder.Tree(app.ECS.Object, app.ECS.Pos, "")
		if err != nil {
			return nil, "", badInput(err)
		}
		bound.ECS = out
	}
	target := envSpec.AppDeployment.Target
	t, err := e.targets.Target(target)
	if err != nil {
		return nil, "", badInput(err)
	}
	rp, ok := t.(provider.RuntimePlanner)
	if !ok {
		return nil, "", badInput(fmt.Errorf("target %s cannot run apps", target))
	}
	cluster := make([]*provider.Element, len(envEls))
	for i, el := range envEls {
		cluster[i] = &el.Element
	}
	plan, err := rp.PlanApp(provider.AppPlan{App: name, Base: base, Env: envName, Spec: app, Bound: bound, Cluster: cluster, EnvSpec: &envSpec, ClientEnv: clientEnv})
	if err != nil {
		return nil, "", badInput(err)
	}
	return plan, target, nil
}

// RedeployApp replaces an app's elements with a new version (new image or
// settings) without touching its environment. If the new version fails, the
// previous one is brought back.
func (e *Engine) RedeployApp(ctx context.Context, name, file string, src []byte, clientEnv map[string]string) (*state.Operation, error) {
	o, err := e.store.GetObject(ctx, state.KindApp, name)
	if err != nil {
		return nil, err
	}
	owner := state.Owner(state.KindApp, name)
	if e.busy(owner) {
		return nil, &ConflictError{Msg: fmt.Sprintf("app %q is busy with another operation", name)}
	}
	app, err := spec.ParseApp(file, src)
	if err != nil {
		return nil, badInput(err)
	}
	base := name + "-" + e.stamp()
	if base == o.Base {
		base += "-b" // two versions within one second
	}
	plan, _, err := e.planApp(ctx, name, o.Env, base, app, clientEnv)
	if err != nil {
		return nil, err
	}
	labels := map[string]string{provider.LabelEnv: o.Env, provider.LabelApp: name}
	for _, el := range plan {
		el.Labels = e.withLabels(el.Labels, labels, owner, el.Key)
	}
	retired := retiredOwner(name)
	if old, _ := e.store.Elements(ctx, retired); len(old) > 0 {
		return nil, &ConflictError{Msg: fmt.Sprintf("app %q has an unfinished redeploy; run `cld app show %s`", name, name)}
	}
	if err := e.store.MoveElements(ctx, owner, retired); err != nil {
		return nil, err
	}
	if err := e.store.PutElements(ctx, owner, toRows(plan)); err != nil {
		return nil, err
	}
	e.layout.WriteArtifact(state.KindApp, name, definitionName(file), src)
	specJSON, _ := json.Marshal(app)
	if err := e.store.UpdateObject(ctx, state.KindApp, name, func(o *state.Object) {
		o.Status, o.Error, o.Base, o.File, o.Source, o.Spec = state.StatusUpdating, "", base, file, src, specJSON
	}); err != nil {
		return nil, err
	}
	op, err := e.start("app redeploy", owner, o.Env, request{Action: "redeploy", Kind: state.KindApp, Name: name, Retired: retired}, e.redeployJob(name, retired))
	if err == nil {
		e.store.UpdateObject(ctx, state.KindApp, name, func(o *state.Object) { o.Op = op.ID })
	}
	return op, err
}

// redeployJob brings up the new version of an app. Elements whose handler can
// update in place (a Kubernetes Deployment, an ECS service) are rolled from
// the previous version; the others are replaced: the previous ones go down
// (rows kept), the new ones come up. On failure the new version is removed
// and the previous one brought back the same way.
func (e *Engine) redeployJob(name, retired string) func(ctx context.Context, op *state.Operation, say reporter) error {
	return func(ctx context.Context, op *state.Operation, say reporter) error {
		owner := state.Owner(state.KindApp, name)
		old, err := e.store.Elements(ctx, retired)
		if err != nil {
			return err
		}
		cur, err := e.store.Elements(ctx, owner)
		if err != nil {
			return err
		}
		forward, backward := e.inPlace(old, cur)
		var replaced []*state.Element
		for _, el := range old {
			if _, ok := backward[el.Key]; !ok {
				replaced = append(replaced, el)
			}
		}
		if len(replaced) > 0 {
			say("stopping the previous version (%d elements)", len(replaced))
		}
		err = e.retire(ctx, replaced, say)
		if err == nil {
			err = e.applyUpdating(ctx, cur, forward, say)
		}
		if err != nil && e.ctx.Err() != nil {
			return err
		}
		bg := context.WithoutCancel(ctx)
		if err != nil {
			say("new version failed: %v; restoring the previous version", err)
			var fresh []*state.Element // the new version's own elements, not shared with the old
			for _, el := range cur {
				if _, ok := forward[el.Key]; !ok {
					fresh = append(fresh, el)
				}
			}
			rbErr := e.destroy(bg, fresh, say)
			for _, el := range cur {
				if _, ok := forward[el.Key]; ok {
					e.store.DeleteElement(bg, el.Owner, el.Key)
				}
			}
			if rbErr == nil {
				rbErr = e.store.MoveElements(bg, retired, owner)
			}
			if rbErr == nil {
				restored, _ := e.store.Elements(bg, owner)
				rbErr = e.applyUpdating(bg, restored, backward, say)
			}
			msg := err.Error()
			e.store.UpdateObject(bg, state.KindApp, name, func(o *state.Object) {
				o.Status, o.Error = state.StatusAvailable, "last redeploy failed: "+msg
				if rbErr != nil {
					o.Status, o.Error = state.StatusFailed, fmt.Sprintf("redeploy failed (%s) and the previous version could not be restored: %v", msg, rbErr)
				}
			})
			return &rolledBack{err: err, rollbackErr: rbErr}
		}
		for _, el := range old {
			e.store.DeleteElement(bg, el.Owner, el.Key)
		}
		e.writeElements(state.KindApp, name, cur)
		return e.store.UpdateObject(ctx, state.KindApp, name, func(o *state.Object) {
			o.Status, o.Error = state.StatusAvailable, ""
			for _, el := range cur {
				if v := el.Outputs["URL"]; v != "" {
					o.URL = v
				}
			}
		})
	}
}

// inPlace pairs new and previous elements that can be updated in place:
// same key and kind, a handler that implements Updater. forward maps a key to
// the previous element (to roll forward), backward to the new one (to roll back).
func (e *Engine) inPlace(old, cur []*state.Element) (forward, backward map[string]*state.Element) {
	forward, backward = map[string]*state.Element{}, map[string]*state.Element{}
	prev := map[string]*state.Element{}
	for _, el := range old {
		prev[el.Key] = el
	}
	for _, el := range cur {
		p, ok := prev[el.Key]
		if !ok || p.Kind != el.Kind || p.Status == state.StatusDeleted {
			continue
		}
		h, err := e.targets.Handler(&el.Element)
		if err != nil {
			continue
		}
		if _, ok := h.(provider.Updater); ok {
			forward[el.Key], backward[el.Key] = p, el
		}
	}
	return forward, backward
}

// retire deletes the platform objects of elements but keeps their rows
// (status deleted), so they can be created again from their stored spec.
func (e *Engine) retire(ctx context.Context, els []*state.Element, say reporter) error {
	if err := e.destroy(ctx, els, say); err != nil {
		return err
	}
	for _, el := range els {
		el.Status, el.Ref = state.StatusDeleted, ""
	}
	return e.store.PutElements(ctx, retiredOwnerOf(els), els)
}

func retiredOwnerOf(els []*state.Element) string {
	if len(els) == 0 {
		return ""
	}
	return els[0].Owner
}
