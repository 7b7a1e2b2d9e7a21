package kube

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/cloudark/cld/internal/provider"
)

// Logs writes deployment logs (the namespace's events and each pod's
// conditions and container states, as `kubectl describe` shows them) and
// runtime logs (every container of every pod).
func (t *Target) Logs(ctx context.Context, app provider.AppRef, opts provider.LogOptions, w io.Writer) error {
	var s workloadSpec
	found := false
	for _, el := range app.Elements {
		if el.Kind == KindWorkload {
			if err := el.DecodeSpec(&s); err != nil {
				return err
			}
			found = true
		}
	}
	if !found {
		return fmt.Errorf("app %s has no workload", app.App)
	}
	c, err := t.client(s.Access)
	if err != nil {
		return err
	}
	lw := &provider.LineWriter{W: w}
	sel := provider.LabelApp + "=" + labelValue(app.App)
	pods := &corev1.PodList{}
	if err := c.list(ctx, resPods, s.Namespace, metav1.ListOptions{LabelSelector: sel}, pods); err != nil {
		return ctxErr(ctx, err)
	}
	var wg sync.WaitGroup
	if opts.Deployment {
		evs := &corev1.EventList{}
		if err := c.list(ctx, resEvents, s.Namespace, metav1.ListOptions{}, evs); err != nil {
			return ctxErr(ctx, err)
		}
		items := evs.Items
		sort.SliceStable(items, func(i, j int) bool { return eventTime(items[i]).Before(eventTime(items[j])) })
		for _, e := range items {
			if !opts.Since.IsZero() && eventTime(e).Before(opts.Since) {
				continue
			}
			lw.Line("[deploy] " + describeEvent(e))
		}
		for _, p := range pods.Items {
			for _, l := range describePod(&p) {
				lw.Line("[deploy] " + l)
			}
		}
		if opts.Follow {
			wch, err := c.dynamic.Resource(resEvents).Namespace(s.Namespace).Watch(ctx, metav1.ListOptions{ResourceVersion: evs.ResourceVersion})
			if err == nil {
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer wch.Stop()
					for ev := range wch.ResultChan() {
						u, ok := ev.Object.(*unstructured.Unstructured)
						if !ok || ev.Type == watch.Deleted {
							continue
						}
						var e corev1.Event
						if runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &e) == nil {
							lw.Line("[deploy] " + describeEvent(e))
						}
					}
				}()
			}
		}
	}
	if opts.Runtime {
		for _, p := range pods.Items {
			for _, ctr := range p.Spec.Containers {
				q := url.Values{"container": {ctr.Name}}
				if opts.Follow {
					q.Set("follow", "true")
				}
				if opts.Tail > 0 {
					q.Set("tailLines", strconv.Itoa(opts.Tail))
				}
				if !opts.Since.IsZero() {
					q.Set("sinceTime", opts.Since.UTC().Format(time.RFC3339))
				}
				prefix := fmt.Sprintf("[%s/%s] ", p.Name, ctr.Name)
				rc, err := c.raw(ctx, "/api/v1/namespaces/"+s.Namespace+"/pods/"+p.Name+"/log", q)
				if err != nil {
					lw.Line(prefix + "no logs: " + err.Error())
					continue
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer rc.Close()
					sc := bufio.NewScanner(rc)
					sc.Buffer(make([]byte, 64<<10), 1<<20)
					for sc.Scan() {
						lw.Line(prefix + sc.Text())
					}
				}()
				if !opts.Follow {
					wg.Wait() // pod by pod, in order, when not following
				}
			}
		}
	}
	wg.Wait()
	return nil
}

func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	}
	return e.FirstTimestamp.Time
}

func describeEvent(e corev1.Event) string {
	count := ""
	if e.Count > 1 {
		count = fmt.Sprintf(" (x%d)", e.Count)
	}
	return fmt.Sprintf("%s %s %s/%s %s: %s%s", eventTime(e).UTC().Format(time.RFC3339), e.Type,
		strings.ToLower(e.InvolvedObject.Kind), e.InvolvedObject.Name, e.Reason, strings.TrimSpace(e.Message), count)
}

// describePod renders what `kubectl describe pod` says about state.
func describePod(p *corev1.Pod) []string {
	out := []string{fmt.Sprintf("pod %s on node %s: %s", p.Name, orDash(p.Spec.NodeName), p.Status.Phase)}
	for _, c := range p.Status.Conditions {
		line := fmt.Sprintf("pod %s condition %s=%s", p.Name, c.Type, c.Status)
		if c.Reason != "" {
			line += " (" + c.Reason + ": " + c.Message + ")"
		}
		out = append(out, line)
	}
	for _, cs := range p.Status.ContainerStatuses {
		state := "unknown"
		switch {
		case cs.State.Running != nil:
			state = "running since " + cs.State.Running.StartedAt.UTC().Format(time.RFC3339)
		case cs.State.Waiting != nil:
			state = "waiting: " + cs.State.Waiting.Reason + " " + cs.State.Waiting.Message
		case cs.State.Terminated != nil:
			state = fmt.Sprintf("terminated: %s (exit code %d)", cs.State.Terminated.Reason, cs.State.Terminated.ExitCode)
		}
		out = append(out, fmt.Sprintf("pod %s container %s image %s: %s, restarts %d", p.Name, cs.Name, cs.Image, state, cs.RestartCount))
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
