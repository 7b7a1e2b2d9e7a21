package local

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/errdefs"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/docker/go-connections/nat"
	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // postgres driver for readiness checks

	"github.com/cloudark/cld/internal/provider"
)

func init() {
	// The MySQL driver logs every refused attempt while a server starts; the
	// readiness loop reports progress itself.
	mysql.SetLogger(log.New(io.Discard, "", 0))
}

var engines = map[string]struct {
	port    string
	dataDir string
}{
	"mysql":    {"3306", "/var/lib/mysql"},
	"postgres": {"5432", "/var/lib/postgresql/data"},
}

// databaseHandler runs a database container with generated credentials and
// reports ready only once a real login succeeds.
type databaseHandler struct{ t *Target }

var _ provider.Waiter = databaseHandler{}

// ReadyTimeout: a first start initialises the data directory, which takes a while.
func (databaseHandler) ReadyTimeout(*provider.Element) time.Duration { return 5 * time.Minute }

func (h databaseHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var ds databaseSpec
	if err := req.Element.DecodeSpec(&ds); err != nil {
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
	eng := engines[ds.Engine]
	obs := provider.Observation{Exists: true, Ref: c.ID, Labels: known(c.Config.Labels),
		Outputs: map[string]string{
			"Username": ds.Username,
			"DBName":   ds.DBName,
			"DBHOST":   req.Element.Name,
			"Port":     eng.port,
			"Engine":   ds.Engine,
			"Image":    ds.Image,
		},
		Secrets: map[string]string{
			"Password":      req.Element.Inputs["password"],
			"Root_Password": req.Element.Inputs["root_password"],
		},
	}
	if ds.Engine == "postgres" {
		// POSTGRES_USER is the superuser: its password is the root password.
		obs.Secrets["Root_Password"] = req.Element.Inputs["password"]
	}
	if neverStarted(c) {
		obs.Incomplete = true
		return obs, nil
	}
	if reason := stopped(c); reason != "" {
		obs.Failed = fmt.Sprintf("database container %s %s%s", req.Element.Name, reason, lastLines(ctx, h.t, c.ID))
		return obs, nil
	}
	hostPort := publishedPort(c, eng.port)
	if hostPort == "" {
		obs.Progress = "starting"
		return obs, nil
	}
	obs.Outputs["Host_Port"] = hostPort
	obs.Outputs["Host_Address"] = net.JoinHostPort(h.t.HTTPHost, hostPort)
	if err := ping(ctx, ds, req.Element.Inputs["password"], net.JoinHostPort(h.t.HTTPHost, hostPort)); err != nil {
		obs.Progress = "starting: waiting until it accepts connections"
		return obs, nil
	}
	obs.Ready = true
	return obs, nil
}

// ping logs in with the generated credentials: the only proof a database is usable.
func ping(ctx context.Context, ds databaseSpec, password, addr string) error {
	var driver, dsn string
	switch ds.Engine {
	case "mysql":
		cfg := mysql.NewConfig()
		cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = ds.Username, password, "tcp", addr, ds.DBName
		cfg.Timeout = 2 * time.Second
		driver, dsn = "mysql", cfg.FormatDSN()
	case "postgres":
		host, port, _ := net.SplitHostPort(addr)
		driver = "pgx"
		dsn = fmt.Sprintf("host=%s port=%s user=%s password=%s dbname=%s sslmode=disable connect_timeout=2", host, port, ds.Username, password, ds.DBName)
	default:
		return fmt.Errorf("unknown engine %q", ds.Engine)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

func (h databaseHandler) Create(ctx context.Context, req *provider.Request) error {
	var ds databaseSpec
	if err := req.Element.DecodeSpec(&ds); err != nil {
		return err
	}
	eng, ok := engines[ds.Engine]
	if !ok {
		return provider.Permanent(fmt.Errorf("unknown database engine %q", ds.Engine))
	}
	pw, root := req.Element.Inputs["password"], req.Element.Inputs["root_password"]
	var env []string
	switch ds.Engine {
	case "mysql":
		env = []string{"MYSQL_ROOT_PASSWORD=" + root, "MYSQL_DATABASE=" + ds.DBName, "MYSQL_USER=" + ds.Username, "MYSQL_PASSWORD=" + pw}
	case "postgres":
		env = []string{"POSTGRES_USER=" + ds.Username, "POSTGRES_PASSWORD=" + pw, "POSTGRES_DB=" + ds.DBName}
	}
	port := nat.Port(eng.port + "/tcp")
	cfg := &container.Config{
		Image:        ds.Image,
		Env:          env,
		Labels:       req.Element.Labels,
		ExposedPorts: nat.PortSet{port: {}},
	}
	hc := &container.HostConfig{
		Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: ds.Volume, Target: eng.dataDir}},
		// Published on loopback only: reachable from the laptop, not the LAN.
		PortBindings:  nat.PortMap{port: {{HostIP: "127.0.0.1", HostPort: ""}}},
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped},
	}
	nc := &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
		ds.Network: {Aliases: []string{req.Element.Name}},
	}}
	req.Say("starting %s from image %s", ds.Engine, ds.Image)
	return h.t.createAndStart(ctx, req, cfg, hc, nc)
}

// createAndStart creates a container (pulling its image only if absent) and starts it.
func (t *Target) createAndStart(ctx context.Context, req *provider.Request, cfg *container.Config, hc *container.HostConfig, nc *network.NetworkingConfig) error {
	cli, err := t.docker()
	if err != nil {
		return err
	}
	name := req.Element.Name
	_, err = cli.ContainerCreate(ctx, cfg, hc, nc, nil, name)
	if errdefs.IsNotFound(err) {
		if perr := t.pull(ctx, req, cfg.Image); perr != nil {
			return provider.Permanent(fmt.Errorf("image %s is not on this machine and could not be pulled: %v", cfg.Image, perr))
		}
		_, err = cli.ContainerCreate(ctx, cfg, hc, nc, nil, name)
	}
	if err != nil && !errdefs.IsConflict(err) { // conflict: an earlier attempt made it
		return engineError(err)
	}
	if err := cli.ContainerStart(ctx, name, container.StartOptions{}); err != nil {
		return provider.Permanent(fmt.Errorf("start %s: %w", name, err))
	}
	return nil
}

func (t *Target) pull(ctx context.Context, req *provider.Request, ref string) error {
	cli, err := t.docker()
	if err != nil {
		return err
	}
	req.Say("pulling %s", ref)
	rc, err := cli.ImagePull(ctx, ref, image.PullOptions{})
	if err != nil {
		return err
	}
	defer rc.Close()
	return drainJSON(rc, req.Say)
}

func (h databaseHandler) Delete(ctx context.Context, req *provider.Request) error {
	return h.t.removeContainer(ctx, req.Element.Name)
}

func (t *Target) removeContainer(ctx context.Context, name string) error {
	cli, err := t.docker()
	if err != nil {
		return err
	}
	err = cli.ContainerRemove(ctx, name, container.RemoveOptions{Force: true})
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil && strings.Contains(err.Error(), "is already in progress") {
		return nil // the engine is removing it; Observe tells when it is gone
	}
	return engineError(err)
}

// neverStarted reports a container created by an interrupted Create.
func neverStarted(c container.InspectResponse) bool {
	return c.State != nil && c.State.Status == "created" && c.State.Error == "" && c.State.StartedAt == "0001-01-01T00:00:00Z"
}

// stopped says why a container is not running, or "" if it runs.
func stopped(c container.InspectResponse) string {
	s := c.State
	switch {
	case s == nil:
		return ""
	case s.OOMKilled:
		return fmt.Sprintf("was killed: out of memory (exit code %d)", s.ExitCode)
	case s.Restarting || (s.Status == "exited" || s.Status == "dead") || (c.RestartCount > 0 && !s.Running):
		msg := fmt.Sprintf("exited with code %d", s.ExitCode)
		if s.Error != "" {
			msg += ": " + s.Error
		}
		return msg
	case s.Status == "created" && s.Error != "":
		return "could not start: " + s.Error
	}
	return ""
}

// publishedPort returns the host port a container port is published on.
func publishedPort(c container.InspectResponse, port string) string {
	if c.NetworkSettings == nil {
		return ""
	}
	for _, b := range c.NetworkSettings.Ports[nat.Port(port+"/tcp")] {
		if b.HostPort != "" {
			return b.HostPort
		}
	}
	return ""
}

// lastLines returns the end of a container's output, to explain a failure.
func lastLines(ctx context.Context, t *Target, id string) string {
	cli, err := t.docker()
	if err != nil {
		return ""
	}
	rc, err := cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: "15"})
	if err != nil {
		return ""
	}
	defer rc.Close()
	var b strings.Builder
	stdcopy.StdCopy(&b, &b, io.LimitReader(rc, 16<<10))
	out := strings.TrimSpace(b.String())
	if out == "" {
		return ""
	}
	return "; its last output:\n" + out
}
