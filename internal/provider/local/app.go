package local

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/errdefs"
	"github.com/docker/go-connections/nat"
	"github.com/docker/go-units"

	"github.com/cloudark/cld/internal/provider"
)

// appHandler runs an app container on the environment's network and reports
// ready once it answers HTTP (or, without a port, once it stays running).
type appHandler struct{ t *Target }

var _ provider.Waiter = appHandler{}

// ReadyTimeout bounds how long an app may take to answer.
func (appHandler) ReadyTimeout(*provider.Element) time.Duration { return 3 * time.Minute }

// stayUp is how long a port-less app must keep running to count as started.
const stayUp = 2 * time.Second

// probe does not reuse connections: each check is a fresh TCP connect + request.
var probe = &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}

func (h appHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var as appSpec
	if err := req.Element.DecodeSpec(&as); err != nil {
		return provider.Observation{}, err
	}
	cli, err := h.t.docker()
	if err != nil {
		return provider.Observation{}, err
	}
	c, err := cli.ContainerInspect(ctx, req.Element.Name)
	if errdefs.IsNotFound(err) {
		return provider.Observation{}, nil
	}
	if err != nil {
		return provider.Observation{}, engineError(err)
	}
	obs := provider.Observation{Exists: true, Ref: c.ID, Outputs: map[string]string{"Container": req.Element.Name, "Image": as.Image}, Labels: known(c.Config.Labels)}
	if neverStarted(c) {
		obs.Incomplete = true
		return obs, nil
	}
	if reason := stopped(c); reason != "" {
		obs.Failed = fmt.Sprintf("app container %s %s%s", req.Element.Name, reason, lastLines(ctx, h.t, c.ID))
		return obs, nil
	}
	if as.ContainerPort == 0 {
		started, _ := time.Parse(time.RFC3339Nano, c.State.StartedAt)
		if c.State.Running && time.Since(started) >= stayUp {
			obs.Ready = true
		} else {
			obs.Progress = "started: checking it stays running"
		}
		return obs, nil
	}
	hostPort := publishedPort(c, strconv.Itoa(as.ContainerPort))
	if hostPort == "" {
		obs.Progress = "starting"
		return obs, nil
	}
	obs.Outputs["Host_Port"] = hostPort
	obs.Outputs["URL"] = "http://localhost:" + hostPort
	target := "http://" + net.JoinHostPort(h.t.HTTPHost, hostPort) + "/"
	hreq, _ := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	resp, err := probe.Do(hreq)
	if err != nil {
		obs.Progress = fmt.Sprintf("waiting for the app to answer HTTP on port %d", as.ContainerPort)
		return obs, nil
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		obs.Progress = fmt.Sprintf("the app answers %s; waiting for it to be healthy", resp.Status)
		return obs, nil
	}
	obs.Ready = true
	return obs, nil
}

func (h appHandler) Create(ctx context.Context, req *provider.Request) error {
	var as appSpec
	if err := req.Element.DecodeSpec(&as); err != nil {
		return err
	}
	env := make([]string, 0, len(as.Env))
	for _, v := range as.Env {
		val := v.Value
		if v.Secret {
			val = req.Element.Inputs[v.Name]
		}
		env = append(env, v.Name+"="+val)
	}
	cfg := &container.Config{Image: as.Image, Env: env, Labels: req.Element.Labels}
	if len(as.Command) > 0 {
		cfg.Cmd = as.Command
	}
	hc := &container.HostConfig{RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped}}
	if as.ContainerPort != 0 {
		port := nat.Port(fmt.Sprintf("%d/tcp", as.ContainerPort))
		cfg.ExposedPorts = nat.PortSet{port: {}}
		hp := ""
		if as.HostPort != 0 {
			hp = strconv.Itoa(as.HostPort)
		}
		hc.PortBindings = nat.PortMap{port: {{HostPort: hp}}}
	}
	if as.Memory != "" {
		hc.Memory, _ = parseMemory(as.Memory)
	}
	if as.CPU != "" {
		hc.NanoCPUs, _ = parseCPU(as.CPU)
	}
	nc := &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{as.Network: {}}}
	req.Say("starting container %s from %s", req.Element.Name, as.Image)
	err := h.t.createAndStart(ctx, req, cfg, hc, nc)
	if err != nil && strings.Contains(err.Error(), "port is already allocated") {
		return provider.Permanent(fmt.Errorf("host port %d is already in use on this machine: choose another host_port, or leave it out for a free one", as.HostPort))
	}
	return err
}

func (h appHandler) Delete(ctx context.Context, req *provider.Request) error {
	return h.t.removeContainer(ctx, req.Element.Name)
}

// parseMemory accepts "512m", "1g", "256MiB".
func parseMemory(s string) (int64, error) {
	n, err := units.RAMInBytes(s)
	if err != nil || n < 6<<20 {
		return 0, fmt.Errorf("memory %q: give a size of at least 6m such as 256m or 1g", s)
	}
	return n, nil
}

// parseCPU accepts a number of CPUs ("0.5", "2") or ECS-style units ("512" = 0.5).
func parseCPU(s string) (int64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("cpu %q: give a number of CPUs such as 0.5", s)
	}
	if f >= 64 { // ECS CPU units
		f /= 1024
	}
	return int64(f * 1e9), nil
}
