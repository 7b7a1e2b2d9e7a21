package gcloud

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	sqladmin "google.golang.org/api/sqladmin/v1"

	"github.com/cloudark/cld/internal/provider"
)

// sqlInstanceSpec is a Cloud SQL instance with a public address.
type sqlInstanceSpec struct {
	Settings  Settings `json:"gcloud"`
	Engine    string   `json:"engine"`  // mysql | postgres
	Version   string   `json:"version"` // MYSQL_8_0, POSTGRES_16...
	Tier      string   `json:"tier"`
	StorageGB int64    `json:"storage_gb,omitempty"`
	DBName    string   `json:"dbname"`
	Username  string   `json:"username"`
	// Connect "proxy": apps reach it through the Cloud SQL Auth Proxy
	// sidecar on 127.0.0.1:ProxyPort; "direct": on its public address.
	Connect   string `json:"connect"`
	ProxyPort int    `json:"proxy_port,omitempty"`
}

var engineVersions = map[string]string{"mysql": "MYSQL_8_0", "postgres": "POSTGRES_16"}
var enginePorts = map[string]int{"mysql": 3306, "postgres": 5432}

// databaseVersion turns "8", "8.0", "5.7", "16" or "MYSQL_8_4" into Cloud
// SQL's databaseVersion.
func databaseVersion(engine, v string) string {
	if v == "" {
		return engineVersions[engine]
	}
	if strings.Contains(v, "_") {
		return strings.ToUpper(v)
	}
	v = strings.ReplaceAll(v, ".", "_")
	if engine == "mysql" {
		if !strings.Contains(v, "_") {
			v += "_0"
		}
		return "MYSQL_" + v
	}
	return "POSTGRES_" + v
}

type sqlInstanceHandler struct{ t *Target }

var _ provider.Waiter = sqlInstanceHandler{}

// ReadyTimeout: Cloud SQL takes several minutes.
func (sqlInstanceHandler) ReadyTimeout(*provider.Element) time.Duration { return 30 * time.Minute }

func (h sqlInstanceHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var s sqlInstanceSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return provider.Observation{}, err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return provider.Observation{}, err
	}
	in, err := c.sql.Instances.Get(s.Settings.Project, req.Element.Name).Context(ctx).Do()
	if isNotFound(err) {
		return provider.Observation{}, nil
	}
	if err != nil {
		return provider.Observation{}, classify(err, "Cloud SQL instance %s", req.Element.Name)
	}
	public := ""
	for _, ip := range in.IpAddresses {
		if ip.Type == "PRIMARY" {
			public = ip.IpAddress
		}
	}
	address, port := public, enginePorts[s.Engine]
	if s.Connect == "proxy" {
		address, port = "127.0.0.1", s.ProxyPort
	}
	var userLabels map[string]string
	if in.Settings != nil {
		userLabels = in.Settings.UserLabels
	}
	obs := provider.Observation{Exists: true, Ref: in.Name, Labels: observedLabels(userLabels, req.Element.Labels),
		Outputs: map[string]string{
			"Username": s.Username, "DBName": s.DBName, "Address": address, "Port": strconv.Itoa(port),
			"ConnectionName": in.ConnectionName, "PublicAddress": public, "Engine": s.Engine,
			"DatabaseVersion": in.DatabaseVersion, "Tier": s.Tier, "Region": in.Region, "Instance": in.Name,
		},
		Secrets: map[string]string{"Password": req.Element.Inputs["password"]},
	}
	switch in.State {
	case "RUNNABLE":
		obs.Ready = true
	case "FAILED", "SUSPENDED":
		obs.Failed = fmt.Sprintf("Cloud SQL instance %s is %s", in.Name, in.State)
		if op := c.lastSQLOp(ctx, s.Settings.Project, in.Name, ""); op != nil && op.Error != nil {
			obs.Failed += ": " + sqlOpError(op)
		}
	default:
		obs.Progress = "Cloud SQL instance " + strings.ToLower(in.State)
	}
	return obs, nil
}

func (h sqlInstanceHandler) Create(ctx context.Context, req *provider.Request) error {
	var s sqlInstanceSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return err
	}
	in := &sqladmin.DatabaseInstance{
		Name:            req.Element.Name,
		DatabaseVersion: s.Version,
		Region:          s.Settings.Region,
		RootPassword:    req.Element.Inputs["root_password"],
		Settings: &sqladmin.Settings{
			Tier:            s.Tier,
			DataDiskSizeGb:  s.StorageGB,
			UserLabels:      googleLabels(req.Element.Labels),
			IpConfiguration: &sqladmin.IpConfiguration{Ipv4Enabled: true},
		},
	}
	_, err = c.sql.Instances.Insert(s.Settings.Project, in).Context(ctx).Do()
	if isConflict(err) {
		if _, gerr := c.sql.Instances.Get(s.Settings.Project, req.Element.Name).Context(ctx).Do(); gerr == nil {
			return nil // made by an earlier attempt: adopt it
		}
		return provider.Permanent(fmt.Errorf("Cloud SQL instance name %s is taken (names stay reserved for a week after deletion): %w", req.Element.Name, err))
	}
	return classify(err, "creating Cloud SQL instance %s", req.Element.Name)
}

func (h sqlInstanceHandler) Delete(ctx context.Context, req *provider.Request) error {
	var s sqlInstanceSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return err
	}
	return c.deleteSQLInstance(ctx, s.Settings.Project, req.Element.Name)
}

func (c *apiClients) deleteSQLInstance(ctx context.Context, project, name string) error {
	return untilSettled(ctx, func() error {
		in, err := c.sql.Instances.Get(project, name).Context(ctx).Do()
		if isNotFound(err) {
			return nil
		}
		if err == nil && in.State == "PENDING_DELETE" {
			return nil
		}
		_, err = c.sql.Instances.Delete(project, name).Context(ctx).Do()
		if isNotFound(err) {
			return nil
		}
		return classify(err, "deleting Cloud SQL instance %s", name)
	})
}

// lastSQLOp is the most recent operation on an instance (of a type, if given).
func (c *apiClients) lastSQLOp(ctx context.Context, project, instance, opType string) *sqladmin.Operation {
	l, err := c.sql.Operations.List(project).Instance(instance).MaxResults(20).Context(ctx).Do()
	if err != nil {
		return nil
	}
	var last *sqladmin.Operation
	for _, op := range l.Items {
		if opType != "" && op.OperationType != opType {
			continue
		}
		if last == nil || op.InsertTime > last.InsertTime {
			last = op
		}
	}
	return last
}

func sqlOpError(op *sqladmin.Operation) string {
	var msgs []string
	if op.Error != nil {
		for _, e := range op.Error.Errors {
			msgs = append(msgs, e.Code+": "+e.Message)
		}
	}
	return strings.Join(msgs, "; ")
}

// sqlOpObservation says whether a database or user missing from the instance
// is still being made (its operation runs), failed, or was never asked for.
func (c *apiClients) sqlOpObservation(ctx context.Context, project, instance, opType, what string) provider.Observation {
	op := c.lastSQLOp(ctx, project, instance, opType)
	switch {
	case op == nil:
		return provider.Observation{}
	case op.Status != "DONE":
		return provider.Observation{Exists: true, Progress: what + ": " + strings.ToLower(op.Status)}
	case op.Error != nil && len(op.Error.Errors) > 0:
		return provider.Observation{Failed: fmt.Sprintf("creating %s failed: %s", what, sqlOpError(op))}
	}
	return provider.Observation{}
}

// sqlChildSpec is a database or user of an instance.
type sqlChildSpec struct {
	Settings Settings `json:"gcloud"`
	Instance string   `json:"instance"`
	Engine   string   `json:"engine"`
}

type sqlDatabaseHandler struct{ t *Target }

func (h sqlDatabaseHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var s sqlChildSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return provider.Observation{}, err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return provider.Observation{}, err
	}
	db, err := c.sql.Databases.Get(s.Settings.Project, s.Instance, req.Element.Name).Context(ctx).Do()
	if isNotFound(err) {
		return c.sqlOpObservation(ctx, s.Settings.Project, s.Instance, "CREATE_DATABASE", "database "+req.Element.Name), nil
	}
	if err != nil {
		return provider.Observation{}, classify(err, "database %s of %s", req.Element.Name, s.Instance)
	}
	return provider.Observation{Exists: true, Ready: true, Ref: s.Instance + "/" + db.Name,
		Outputs: map[string]string{"DBName": db.Name, "Charset": db.Charset}}, nil
}

func (h sqlDatabaseHandler) Create(ctx context.Context, req *provider.Request) error {
	var s sqlChildSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return err
	}
	_, err = c.sql.Databases.Insert(s.Settings.Project, s.Instance, &sqladmin.Database{Name: req.Element.Name}).Context(ctx).Do()
	if err != nil && strings.Contains(err.Error(), "exists") {
		return nil
	}
	return classify(err, "creating database %s in %s", req.Element.Name, s.Instance)
}

func (h sqlDatabaseHandler) Delete(ctx context.Context, req *provider.Request) error {
	var s sqlChildSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return err
	}
	if gone, err := c.instanceGoing(ctx, s.Settings.Project, s.Instance); gone || err != nil {
		return err
	}
	return untilSettled(ctx, func() error {
		_, err := c.sql.Databases.Delete(s.Settings.Project, s.Instance, req.Element.Name).Context(ctx).Do()
		if isNotFound(err) {
			return c.notCreating(ctx, s.Settings.Project, s.Instance, "CREATE_DATABASE")
		}
		return classify(err, "deleting database %s of %s", req.Element.Name, s.Instance)
	})
}

// notCreating is nil when no create operation of opType still runs on the
// instance. A delete that comes while one does (a rollback cancelling the
// create) must wait for it, or the database or user appears after the
// delete and stays.
func (c *apiClients) notCreating(ctx context.Context, project, instance, opType string) error {
	if op := c.lastSQLOp(ctx, project, instance, opType); op != nil && op.Status != "DONE" {
		return errStillCreating
	}
	return nil
}

// instanceGoing reports an instance that is gone or being deleted: its
// databases, users and authorizations go with it.
func (c *apiClients) instanceGoing(ctx context.Context, project, name string) (bool, error) {
	in, err := c.sql.Instances.Get(project, name).Context(ctx).Do()
	if isNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, classify(err, "Cloud SQL instance %s", name)
	}
	return in.State == "PENDING_DELETE", nil
}

type sqlUserHandler struct{ t *Target }

func userHost(engine string) string {
	if engine == "mysql" {
		return "%"
	}
	return ""
}

func (h sqlUserHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var s sqlChildSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return provider.Observation{}, err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return provider.Observation{}, err
	}
	call := c.sql.Users.Get(s.Settings.Project, s.Instance, req.Element.Name)
	if host := userHost(s.Engine); host != "" {
		call = call.Host(host)
	}
	u, err := call.Context(ctx).Do()
	if isNotFound(err) {
		return c.sqlOpObservation(ctx, s.Settings.Project, s.Instance, "CREATE_USER", "user "+req.Element.Name), nil
	}
	if err != nil {
		return provider.Observation{}, classify(err, "user %s of %s", req.Element.Name, s.Instance)
	}
	return provider.Observation{Exists: true, Ready: true, Ref: s.Instance + "/" + u.Name,
		Outputs: map[string]string{"Username": u.Name}}, nil
}

func (h sqlUserHandler) Create(ctx context.Context, req *provider.Request) error {
	var s sqlChildSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return err
	}
	u := &sqladmin.User{Name: req.Element.Name, Password: req.Element.Inputs["password"], Host: userHost(s.Engine)}
	_, err = c.sql.Users.Insert(s.Settings.Project, s.Instance, u).Context(ctx).Do()
	if err != nil && strings.Contains(err.Error(), "already exists") {
		return nil
	}
	return classify(err, "creating user %s in %s", req.Element.Name, s.Instance)
}

func (h sqlUserHandler) Delete(ctx context.Context, req *provider.Request) error {
	var s sqlChildSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return err
	}
	if gone, err := c.instanceGoing(ctx, s.Settings.Project, s.Instance); gone || err != nil {
		return err
	}
	call := c.sql.Users.Delete(s.Settings.Project, s.Instance).Name(req.Element.Name)
	if host := userHost(s.Engine); host != "" {
		call = call.Host(host)
	}
	return untilSettled(ctx, func() error {
		_, err := call.Context(ctx).Do()
		if isNotFound(err) {
			return c.notCreating(ctx, s.Settings.Project, s.Instance, "CREATE_USER")
		}
		return classify(err, "deleting user %s of %s", req.Element.Name, s.Instance)
	})
}

// sqlAuthorizationSpec says who may reach an instance's public address:
// the nodes of the environment's GKE cluster, and what a policy opens on
// purpose ("open" or a CIDR).
type sqlAuthorizationSpec struct {
	Settings Settings `json:"gcloud"`
	Instance string   `json:"instance"`
	Cluster  string   `json:"cluster,omitempty"`
	Policy   string   `json:"policy,omitempty"`
}

// Entries cld manages in authorizedNetworks carry these names; others (a
// user's own) are left alone.
const (
	aclNode   = "cld-node"
	aclPolicy = "cld-policy"
)

func isCldACL(e *sqladmin.AclEntry) bool {
	return e != nil && (e.Name == aclNode || e.Name == aclPolicy)
}

type sqlAuthorizationHandler struct{ t *Target }

var _ provider.Waiter = sqlAuthorizationHandler{}

// ReadyTimeout: an instance update takes a minute or two.
func (sqlAuthorizationHandler) ReadyTimeout(*provider.Element) time.Duration { return 15 * time.Minute }

// desired returns the entries the element wants.
func (h sqlAuthorizationHandler) desired(ctx context.Context, c *apiClients, s sqlAuthorizationSpec) ([]*sqladmin.AclEntry, error) {
	var out []*sqladmin.AclEntry
	if s.Cluster != "" {
		ips, err := c.nodeAddresses(ctx, s.Settings, s.Cluster)
		if err != nil && !isNotFound(err) { // a cluster gone has no nodes to authorize
			return nil, err
		}
		for _, ip := range ips {
			out = append(out, &sqladmin.AclEntry{Kind: "sql#aclEntry", Name: aclNode, Value: ip + "/32"})
		}
	}
	switch s.Policy {
	case "":
	case "open":
		out = append(out, &sqladmin.AclEntry{Kind: "sql#aclEntry", Name: aclPolicy, Value: "0.0.0.0/0"})
	default:
		out = append(out, &sqladmin.AclEntry{Kind: "sql#aclEntry", Name: aclPolicy, Value: s.Policy})
	}
	return out, nil
}

func aclValues(l []*sqladmin.AclEntry, cld bool) []string {
	var out []string
	for _, e := range l {
		if e != nil && isCldACL(e) == cld {
			out = append(out, e.Value)
		}
	}
	slices.Sort(out)
	return out
}

func (h sqlAuthorizationHandler) Observe(ctx context.Context, req *provider.Request) (provider.Observation, error) {
	var s sqlAuthorizationSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return provider.Observation{}, err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return provider.Observation{}, err
	}
	in, err := c.sql.Instances.Get(s.Settings.Project, s.Instance).Context(ctx).Do()
	if isNotFound(err) {
		return provider.Observation{}, nil
	}
	if err != nil {
		return provider.Observation{}, classify(err, "Cloud SQL instance %s", s.Instance)
	}
	var current []*sqladmin.AclEntry
	if in.Settings != nil && in.Settings.IpConfiguration != nil {
		current = in.Settings.IpConfiguration.AuthorizedNetworks
	}
	have := aclValues(current, true)
	if in.State == "PENDING_DELETE" {
		return provider.Observation{}, nil
	}
	want, err := h.desired(ctx, c, s)
	if err != nil {
		return provider.Observation{}, err
	}
	wantV := aclValues(want, true)
	obs := provider.Observation{Ref: s.Instance, Outputs: map[string]string{"AuthorizedNetworks": strings.Join(have, ",")}}
	if op := c.lastSQLOp(ctx, s.Settings.Project, s.Instance, "UPDATE"); op != nil && op.Status != "DONE" {
		obs.Exists, obs.Progress = true, "updating the authorized networks of "+s.Instance
		return obs, nil
	} else if op != nil && op.Error != nil && !slices.Equal(have, wantV) {
		obs.Failed = "updating the authorized networks of " + s.Instance + " failed: " + sqlOpError(op)
		return obs, nil
	}
	switch {
	case slices.Equal(have, wantV):
		obs.Exists, obs.Ready = true, true
	case len(have) > 0:
		obs.Exists, obs.Incomplete = true, true // nodes changed: patch again
	}
	return obs, nil
}

func (h sqlAuthorizationHandler) patch(ctx context.Context, c *apiClients, s sqlAuthorizationSpec, want []*sqladmin.AclEntry) error {
	in, err := c.sql.Instances.Get(s.Settings.Project, s.Instance).Context(ctx).Do()
	if err != nil {
		return classify(err, "Cloud SQL instance %s", s.Instance)
	}
	var current, next []*sqladmin.AclEntry
	if in.Settings != nil && in.Settings.IpConfiguration != nil {
		current = in.Settings.IpConfiguration.AuthorizedNetworks
	}
	for _, e := range current {
		if e != nil && !isCldACL(e) {
			next = append(next, e)
		}
	}
	next = append(next, want...)
	if slices.Equal(aclValues(current, true), aclValues(want, true)) {
		return nil // nothing to change: an update would only keep the instance busy
	}
	ipc := &sqladmin.IpConfiguration{Ipv4Enabled: true, AuthorizedNetworks: next}
	if len(next) == 0 {
		ipc.AuthorizedNetworks = []*sqladmin.AclEntry{}
		ipc.ForceSendFields = []string{"AuthorizedNetworks"}
	}
	_, err = c.sql.Instances.Patch(s.Settings.Project, s.Instance, &sqladmin.DatabaseInstance{Settings: &sqladmin.Settings{IpConfiguration: ipc}}).Context(ctx).Do()
	return classify(err, "updating the authorized networks of %s", s.Instance)
}

func (h sqlAuthorizationHandler) Create(ctx context.Context, req *provider.Request) error {
	var s sqlAuthorizationSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return err
	}
	want, err := h.desired(ctx, c, s)
	if err != nil {
		return err
	}
	if len(want) == 0 {
		req.Say("no node has an external address: nothing to authorize (apps reach the database through the Cloud SQL Auth Proxy or private IP)")
	}
	return h.patch(ctx, c, s, want)
}

func (h sqlAuthorizationHandler) Delete(ctx context.Context, req *provider.Request) error {
	var s sqlAuthorizationSpec
	if err := req.Element.DecodeSpec(&s); err != nil {
		return err
	}
	c, err := h.t.api(s.Settings)
	if err != nil {
		return err
	}
	return untilSettled(ctx, func() error {
		if gone, err := c.instanceGoing(ctx, s.Settings.Project, s.Instance); gone || err != nil {
			return err
		}
		return h.patch(ctx, c, s, nil)
	})
}
