package gcloud

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"
	"time"

	sqladmin "google.golang.org/api/sqladmin/v1"
)

const sqlHost = "https://sqladmin.googleapis.com/"

var sqlNameRe = regexp.MustCompile(`^[a-z](?:[-a-z0-9]{0,96}[a-z0-9])?$`)

type sqlInstance struct {
	project, name string
	d             *sqladmin.DatabaseInstance
	dbs           map[string]*sqlDatabase
	users         map[string]*sqlUser // name|host
	busy          *op
	deleting      bool
}

type sqlDatabase struct {
	db     *sqladmin.Database
	system bool
}

type sqlUser struct {
	u        *sqladmin.User
	password string
	system   bool
}

func (in *sqlInstance) fullName() string { return "projects/" + in.project + "/instances/" + in.name }

func (in *sqlInstance) engine() string {
	v := in.d.DatabaseVersion
	switch {
	case strings.HasPrefix(v, "POSTGRES"):
		return "postgres"
	case strings.HasPrefix(v, "SQLSERVER"):
		return "sqlserver"
	}
	return "mysql"
}

func init() {
	inst := "projects/{project}/instances"
	register(SQLAdmin, map[string]handler{
		"POST " + inst + " instances.insert":              (*call).sqlInstancesInsert,
		"GET " + inst + " instances.list":                 (*call).sqlInstancesList,
		"GET " + inst + "/{instance} instances.get":       (*call).sqlInstancesGet,
		"PATCH " + inst + "/{instance} instances.patch":   (*call).sqlInstancesPatch,
		"PUT " + inst + "/{instance} instances.update":    (*call).sqlInstancesUpdate,
		"DELETE " + inst + "/{instance} instances.delete": (*call).sqlInstancesDelete,

		"POST " + inst + "/{instance}/databases databases.insert":              (*call).sqlDatabasesInsert,
		"GET " + inst + "/{instance}/databases databases.list":                 (*call).sqlDatabasesList,
		"GET " + inst + "/{instance}/databases/{database} databases.get":       (*call).sqlDatabasesGet,
		"PATCH " + inst + "/{instance}/databases/{database} databases.patch":   (*call).sqlDatabasesPatch,
		"DELETE " + inst + "/{instance}/databases/{database} databases.delete": (*call).sqlDatabasesDelete,

		"POST " + inst + "/{instance}/users users.insert":    (*call).sqlUsersInsert,
		"GET " + inst + "/{instance}/users users.list":       (*call).sqlUsersList,
		"GET " + inst + "/{instance}/users/{name} users.get": (*call).sqlUsersGet,
		"PUT " + inst + "/{instance}/users users.update":     (*call).sqlUsersUpdate,
		"DELETE " + inst + "/{instance}/users users.delete":  (*call).sqlUsersDelete,

		"GET projects/{project}/operations/{operation} operations.get":            (*call).sqlOpGet,
		"GET projects/{project}/operations operations.list":                       (*call).sqlOpList,
		"POST projects/{project}/operations/{operation}/cancel operations.cancel": (*call).sqlOpCancel,
	})
}

func (c *call) sqlLink(rest string) string {
	prefix := c.prefix
	if prefix == "" {
		prefix = "v1"
	}
	return sqlHost + prefix + "/projects/" + c.v("project") + "/" + rest
}

// ---------------------------------------------------------------------------
// operations

func (c *call) sqlOp(kind string, in *sqlInstance, d time.Duration) *op {
	o := c.s.newOp(c, kind, d)
	o.project = c.v("project")
	o.name = newUUID()
	o.target = in.name
	o.targetLink = c.sqlLink("instances/" + in.name)
	if o.failMsg != "" {
		o.failCode = "INTERNAL_ERROR"
	}
	return o
}

func (s *Server) renderSQLOp(o *op, now time.Time) *sqladmin.Operation {
	prefix := o.prefix
	if prefix == "" {
		prefix = "v1"
	}
	st := o.status(now)
	so := &sqladmin.Operation{
		Kind:          "sql#operation",
		Name:          o.name,
		OperationType: o.kind,
		Status:        st,
		TargetId:      o.target,
		TargetProject: o.project,
		TargetLink:    o.targetLink,
		SelfLink:      sqlHost + prefix + "/projects/" + o.project + "/operations/" + o.name,
		InsertTime:    rfc3339(o.start),
		User:          "fake-user@example.com",
	}
	if st != "PENDING" {
		so.StartTime = rfc3339(o.runAt)
	}
	if o.done {
		so.EndTime = rfc3339(o.doneAt)
	}
	if o.failed() {
		so.Error = &sqladmin.OperationErrors{Kind: "sql#operationErrors",
			Errors: []*sqladmin.OperationError{{Kind: "sql#operationError", Code: o.failCode, Message: o.failMsg}}}
	}
	return so
}

func (c *call) findSQLOp() (*op, error) {
	o := c.s.lookupOp(SQLAdmin, c.v("operation"))
	if o == nil || o.project != c.v("project") {
		return nil, errf(404, "operationDoesNotExist", "The Cloud SQL operation does not exist.")
	}
	return o, nil
}

func (c *call) sqlOpGet() (any, error) {
	o, err := c.findSQLOp()
	if err != nil {
		return nil, err
	}
	return c.s.renderSQLOp(o, c.now), nil
}

func (c *call) sqlOpList() (any, error) {
	out := &sqladmin.OperationsListResponse{Kind: "sql#operationsList", Items: []*sqladmin.Operation{}}
	for _, o := range c.s.ops {
		if o.api == SQLAdmin && o.project == c.v("project") && (c.query.Get("instance") == "" || o.target == c.query.Get("instance")) {
			out.Items = append(out.Items, c.s.renderSQLOp(o, c.now))
		}
	}
	sort.Slice(out.Items, func(i, j int) bool { return out.Items[i].InsertTime > out.Items[j].InsertTime })
	return out, nil
}

func (c *call) sqlOpCancel() (any, error) {
	if _, err := c.findSQLOp(); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

// ---------------------------------------------------------------------------
// instances

func sqlInstanceNotFound() error {
	return errf(404, "instanceDoesNotExist", "The Cloud SQL instance does not exist.")
}

func operationInProgress() error {
	return errf(409, "operationInProgress", "Operation failed because another operation was already in progress. Try your request after the current operation is complete.")
}

func (c *call) findSQLInstance() (*sqlInstance, error) {
	in := c.s.st.sqlInstances[c.v("project")+"/"+c.v("instance")]
	if in == nil {
		return nil, sqlInstanceNotFound()
	}
	return in, nil
}

// sqlReady refuses a change while another operation runs or the instance
// is not RUNNABLE.
func (c *call) sqlReady(in *sqlInstance) error {
	if in.deleting || (in.busy != nil && !in.busy.done) {
		return operationInProgress()
	}
	if in.d.State != "RUNNABLE" {
		return errf(400, "invalid", "Invalid request: Invalid request since instance is not running.")
	}
	return nil
}

func installedVersion(v string) string {
	switch {
	case strings.HasPrefix(v, "POSTGRES_"):
		return v + "_8"
	case strings.HasPrefix(v, "MYSQL_"):
		return v + "_41"
	}
	return v
}

func rawPath(m map[string]any, path ...string) (any, bool) {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = mm[p]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

func checkAuthorizedNetworks(ip *sqladmin.IpConfiguration) error {
	if ip == nil {
		return nil
	}
	for _, an := range ip.AuthorizedNetworks {
		if an == nil {
			continue
		}
		pf, err := netip.ParsePrefix(an.Value)
		if err != nil {
			a, err2 := netip.ParseAddr(an.Value)
			if err2 != nil || !a.Is4() {
				return errf(400, "invalid", "Invalid request: Invalid IP address or range (%s).", an.Value)
			}
			pf = netip.PrefixFrom(a, 32)
		}
		if pf.Addr().IsPrivate() || pf.Addr().IsLoopback() || pf.Addr().IsLinkLocalUnicast() {
			return errf(400, "invalid", "Invalid request: Non-routable or private authorized network (%s).", an.Value)
		}
		if an.Kind == "" {
			an.Kind = "sql#aclEntry"
		}
	}
	return nil
}

func (c *call) sqlInstancesInsert() (any, error) {
	var in sqladmin.DatabaseInstance
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	raw := c.rawBody()
	p := c.v("project")
	if !sqlNameRe.MatchString(in.Name) {
		return nil, errf(400, "invalid", "Invalid request: instance name (%s).", in.Name)
	}
	if c.s.st.sqlInstances[p+"/"+in.Name] != nil {
		return nil, errf(409, "instanceAlreadyExists", "The Cloud SQL instance already exists.")
	}
	if in.DatabaseVersion == "" {
		in.DatabaseVersion = "MYSQL_8_0"
	}
	if !strings.HasPrefix(in.DatabaseVersion, "MYSQL_") && !strings.HasPrefix(in.DatabaseVersion, "POSTGRES_") && !strings.HasPrefix(in.DatabaseVersion, "SQLSERVER_") {
		return nil, errf(400, "invalid", "Invalid request: Invalid database version %s.", in.DatabaseVersion)
	}
	if in.Settings == nil || in.Settings.Tier == "" {
		return nil, errf(400, "invalid", "Invalid request: Missing tier in settings.")
	}
	if err := checkAuthorizedNetworks(in.Settings.IpConfiguration); err != nil {
		return nil, err
	}
	if in.Region == "" {
		in.Region = "us-central1"
	}
	if !regionRe.MatchString(in.Region) {
		return nil, errf(400, "invalid", "Invalid request: Invalid region %s.", in.Region)
	}
	st := in.Settings
	st.Kind = "sql#settings"
	st.SettingsVersion = 1
	st.ActivationPolicy = orDefault(st.ActivationPolicy, "ALWAYS")
	st.AvailabilityType = orDefault(st.AvailabilityType, "ZONAL")
	st.PricingPlan = orDefault(st.PricingPlan, "PER_USE")
	st.DataDiskType = orDefault(st.DataDiskType, "PD_SSD")
	st.Edition = orDefault(st.Edition, "ENTERPRISE")
	if st.DataDiskSizeGb == 0 {
		st.DataDiskSizeGb = 10
	}
	if st.StorageAutoResize == nil {
		t := true
		st.StorageAutoResize = &t
	}
	if st.IpConfiguration == nil {
		st.IpConfiguration = &sqladmin.IpConfiguration{}
	}
	if v, ok := rawPath(raw, "settings", "ipConfiguration", "ipv4Enabled"); !ok || v != false {
		st.IpConfiguration.Ipv4Enabled = true
	}
	st.IpConfiguration.SslMode = orDefault(st.IpConfiguration.SslMode, "ALLOW_UNENCRYPTED_AND_ENCRYPTED")
	if st.BackupConfiguration == nil {
		st.BackupConfiguration = &sqladmin.BackupConfiguration{Kind: "sql#backupConfiguration", StartTime: "04:00"}
	}
	zone := zonesOf(in.Region)[0]
	if st.LocationPreference != nil && st.LocationPreference.Zone != "" {
		zone = st.LocationPreference.Zone
	} else {
		st.LocationPreference = &sqladmin.LocationPreference{Kind: "sql#locationPreference", Zone: zone}
	}
	if !st.IpConfiguration.Ipv4Enabled && st.IpConfiguration.PrivateNetwork == "" {
		return nil, errf(400, "invalid", "Invalid request: At least one of Public IP or Private IP or PSC connectivity must be enabled.")
	}
	d := &sqladmin.DatabaseInstance{
		Kind:                       "sql#instance",
		Name:                       in.Name,
		Project:                    p,
		Region:                     in.Region,
		GceZone:                    zone,
		DatabaseVersion:            in.DatabaseVersion,
		DatabaseInstalledVersion:   installedVersion(in.DatabaseVersion),
		Settings:                   st,
		State:                      "PENDING_CREATE",
		BackendType:                "SECOND_GEN",
		InstanceType:               "CLOUD_SQL_INSTANCE",
		ConnectionName:             p + ":" + in.Region + ":" + in.Name,
		SelfLink:                   c.sqlLink("instances/" + in.Name),
		CreateTime:                 rfc3339(c.now),
		ServiceAccountEmailAddress: fmt.Sprintf("p%s-%s@gcp-sa-cloud-sql.iam.gserviceaccount.com", c.s.opts.ProjectNumber, randLower(6)),
		Etag:                       randHex(32),
		ServerCaCert: &sqladmin.SslCert{Kind: "sql#sslCert", Cert: string(c.s.ca.certPEM),
			CertSerialNumber: c.s.ca.serial, CommonName: "C=US,O=Google\\, Inc,CN=Google Cloud SQL Server CA",
			CreateTime: rfc3339(c.s.ca.created), ExpirationTime: rfc3339(c.s.ca.notAfter),
			Instance: in.Name, Sha1Fingerprint: c.s.ca.sha1},
		MaintenanceVersion: installedVersion(in.DatabaseVersion) + ".R20250101.00_00",
	}
	inst := &sqlInstance{project: p, name: in.Name, d: d, dbs: map[string]*sqlDatabase{}, users: map[string]*sqlUser{}}
	key := p + "/" + in.Name
	c.s.st.sqlInstances[key] = inst
	o := c.sqlOp("CREATE", inst, c.s.opts.SQLCreateDuration)
	inst.busy = o
	rootPassword := in.RootPassword
	o.onDone = func(failed bool) {
		inst.busy = nil
		if failed {
			d.State = "FAILED"
			return
		}
		d.State = "RUNNABLE"
		c.s.assignSQLAddresses(inst)
		c.s.addDefaultDatabases(inst, rootPassword)
	}
	c.s.startOp(o)
	return c.s.renderSQLOp(o, c.now), nil
}

func (s *Server) assignSQLAddresses(inst *sqlInstance) {
	ipc := inst.d.Settings.IpConfiguration
	inst.d.IpAddresses = nil
	if ipc.Ipv4Enabled {
		s.st.sqlIPSeq++
		primary := s.opts.SQLPrimaryIP
		if primary == "" {
			primary = fmt.Sprintf("198.51.100.%d", (s.st.sqlIPSeq-1)%254+1)
		}
		inst.d.IpAddresses = append(inst.d.IpAddresses,
			&sqladmin.IpMapping{Type: "PRIMARY", IpAddress: primary},
			&sqladmin.IpMapping{Type: "OUTGOING", IpAddress: fmt.Sprintf("198.51.100.%d", 255-(s.st.sqlIPSeq-1)%254-1)})
	}
	if ipc.PrivateNetwork != "" {
		s.st.sqlIPSeq++
		inst.d.IpAddresses = append(inst.d.IpAddresses,
			&sqladmin.IpMapping{Type: "PRIVATE", IpAddress: fmt.Sprintf("10.%d.0.%d", 60+(s.st.sqlIPSeq/250)%100, s.st.sqlIPSeq%250+3)})
	}
}

func (s *Server) addDefaultDatabases(inst *sqlInstance, rootPassword string) {
	var dbs []string
	var user, host string
	switch inst.engine() {
	case "postgres":
		dbs, user = []string{"postgres"}, "postgres"
	case "sqlserver":
		dbs, user = []string{"master", "model", "msdb", "tempdb"}, "sqlserver"
	default:
		dbs, user, host = []string{"information_schema", "mysql", "performance_schema", "sys"}, "root", "%"
	}
	for _, name := range dbs {
		inst.dbs[name] = &sqlDatabase{db: s.newSQLDatabase(inst, name, "", ""), system: true}
	}
	inst.users[user+"|"+host] = &sqlUser{u: s.newSQLUser(inst, user, host), password: rootPassword, system: true}
}

func (s *Server) newSQLDatabase(inst *sqlInstance, name, charset, collation string) *sqladmin.Database {
	if inst.engine() == "postgres" {
		charset, collation = orDefault(charset, "UTF8"), orDefault(collation, "en_US.UTF8")
	} else if inst.engine() == "mysql" {
		charset, collation = orDefault(charset, "utf8mb4"), orDefault(collation, "utf8mb4_0900_ai_ci")
	}
	return &sqladmin.Database{Kind: "sql#database", Name: name, Instance: inst.name, Project: inst.project,
		Charset: charset, Collation: collation, Etag: randHex(32),
		SelfLink: strings.TrimSuffix(inst.d.SelfLink, "/") + "/databases/" + name}
}

func (s *Server) newSQLUser(inst *sqlInstance, name, host string) *sqladmin.User {
	u := &sqladmin.User{Kind: "sql#user", Name: name, Host: host, Instance: inst.name, Project: inst.project, Etag: randHex(32)}
	if inst.engine() == "postgres" {
		u.Host = ""
	}
	return u
}

func (c *call) sqlInstancesGet() (any, error) {
	in, err := c.findSQLInstance()
	if err != nil {
		return nil, err
	}
	return in.d, nil
}

func (c *call) sqlInstancesList() (any, error) {
	terms, err := parseFilter(c.query.Get("filter"))
	if err != nil {
		return nil, filterError(c.query.Get("filter"), err)
	}
	out := &sqladmin.InstancesListResponse{Kind: "sql#instancesList", Items: []*sqladmin.DatabaseInstance{}}
	for _, k := range sortedKeys(c.s.st.sqlInstances) {
		in := c.s.st.sqlInstances[k]
		if in.project == c.v("project") && matchFilter(terms, in.d) {
			out.Items = append(out.Items, in.d)
		}
	}
	return out, nil
}

func cloneSQLInstance(d *sqladmin.DatabaseInstance) *sqladmin.DatabaseInstance {
	b, _ := json.Marshal(d)
	var out sqladmin.DatabaseInstance
	_ = json.Unmarshal(b, &out)
	return &out
}

func (c *call) sqlInstancesPatch() (any, error)  { return c.sqlInstancesModify(true) }
func (c *call) sqlInstancesUpdate() (any, error) { return c.sqlInstancesModify(false) }

func (c *call) sqlInstancesModify(patch bool) (any, error) {
	in, err := c.findSQLInstance()
	if err != nil {
		return nil, err
	}
	var body sqladmin.DatabaseInstance
	if err := c.decode(&body); err != nil {
		return nil, err
	}
	if err := c.sqlReady(in); err != nil {
		return nil, err
	}
	if body.Settings != nil && body.Settings.SettingsVersion != 0 && body.Settings.SettingsVersion != in.d.Settings.SettingsVersion {
		return nil, errf(412, "staleData", "Precondition check failed.")
	}
	cur := in.d
	next := cloneSQLInstance(cur)
	if patch {
		if err := json.Unmarshal(c.body, next); err != nil {
			return nil, errf(400, "parseError", "Invalid JSON payload received. %v", err)
		}
		if next.Settings != nil {
			for k, v := range next.Settings.UserLabels {
				if v == "" {
					delete(next.Settings.UserLabels, k)
				}
			}
		}
	} else {
		if body.Settings == nil || body.Settings.Tier == "" {
			return nil, errf(400, "invalid", "Invalid request: Missing tier in settings.")
		}
		next.Settings = body.Settings
		next.Settings.Kind = "sql#settings"
		if next.Settings.IpConfiguration == nil {
			next.Settings.IpConfiguration = &sqladmin.IpConfiguration{}
		}
		if v, ok := rawPath(c.rawBody(), "settings", "ipConfiguration", "ipv4Enabled"); !ok || v != false {
			next.Settings.IpConfiguration.Ipv4Enabled = true
		}
	}
	if next.Settings == nil || next.Settings.IpConfiguration == nil {
		return nil, errf(400, "invalid", "Invalid request: settings are required.")
	}
	if err := checkAuthorizedNetworks(next.Settings.IpConfiguration); err != nil {
		return nil, err
	}
	// what a patch cannot change
	next.Name, next.Project, next.Region, next.DatabaseVersion = cur.Name, cur.Project, cur.Region, cur.DatabaseVersion
	next.Kind, next.State, next.SelfLink, next.ConnectionName = cur.Kind, cur.State, cur.SelfLink, cur.ConnectionName
	next.IpAddresses, next.ServerCaCert, next.CreateTime, next.GceZone = cur.IpAddresses, cur.ServerCaCert, cur.CreateTime, cur.GceZone
	next.BackendType, next.InstanceType, next.DatabaseInstalledVersion = cur.BackendType, cur.InstanceType, cur.DatabaseInstalledVersion
	next.ServiceAccountEmailAddress, next.RootPassword = cur.ServiceAccountEmailAddress, ""
	next.Settings.SettingsVersion = cur.Settings.SettingsVersion + 1
	if next.Settings.StorageAutoResize == nil {
		next.Settings.StorageAutoResize = cur.Settings.StorageAutoResize
	}
	o := c.sqlOp("UPDATE", in, c.s.opts.SQLUpdateDuration)
	in.busy = o
	o.onDone = func(failed bool) {
		in.busy = nil
		if failed {
			return
		}
		ipChanged := next.Settings.IpConfiguration.Ipv4Enabled != in.d.Settings.IpConfiguration.Ipv4Enabled ||
			next.Settings.IpConfiguration.PrivateNetwork != in.d.Settings.IpConfiguration.PrivateNetwork
		next.Etag = randHex(32)
		in.d = next
		if ipChanged {
			c.s.assignSQLAddresses(in)
		}
	}
	c.s.startOp(o)
	return c.s.renderSQLOp(o, c.now), nil
}

func (c *call) sqlInstancesDelete() (any, error) {
	in, err := c.findSQLInstance()
	if err != nil {
		return nil, err
	}
	if in.deleting || (in.busy != nil && !in.busy.done) {
		return nil, operationInProgress()
	}
	if in.d.Settings != nil && in.d.Settings.DeletionProtectionEnabled {
		return nil, errf(400, "invalid", "Invalid request: The instance is protected from deletion. Disable deletion protection and try again.")
	}
	in.deleting = true
	prev := in.d.State
	in.d.State = "PENDING_DELETE"
	o := c.sqlOp("DELETE", in, c.s.opts.SQLDeleteDuration)
	in.busy = o
	key := in.project + "/" + in.name
	o.onDone = func(failed bool) {
		in.busy = nil
		in.deleting = false
		if failed {
			in.d.State = prev
			return
		}
		delete(c.s.st.sqlInstances, key)
	}
	c.s.startOp(o)
	return c.s.renderSQLOp(o, c.now), nil
}

// ---------------------------------------------------------------------------
// databases

func (c *call) sqlDatabasesInsert() (any, error) {
	in, err := c.findSQLInstance()
	if err != nil {
		return nil, err
	}
	var body sqladmin.Database
	if err := c.decode(&body); err != nil {
		return nil, err
	}
	if body.Name == "" {
		return nil, errf(400, "invalid", "Invalid request: database name is empty.")
	}
	if err := c.sqlReady(in); err != nil {
		return nil, err
	}
	if in.dbs[body.Name] != nil {
		if in.engine() == "postgres" {
			return nil, errf(400, "invalid", "Invalid request: failed to create database %s. Detail: pq: database %q already exists.", body.Name, body.Name)
		}
		return nil, errf(400, "invalid", "Invalid request: failed to create database %s. Detail: Error 1007: Can't create database '%s'; database exists.", body.Name, body.Name)
	}
	db := c.s.newSQLDatabase(in, body.Name, body.Charset, body.Collation)
	o := c.sqlOp("CREATE_DATABASE", in, c.s.opts.SQLOperationDuration)
	in.busy = o
	o.onDone = func(failed bool) {
		in.busy = nil
		if !failed {
			in.dbs[db.Name] = &sqlDatabase{db: db}
		}
	}
	c.s.startOp(o)
	return c.s.renderSQLOp(o, c.now), nil
}

func (c *call) findSQLDatabase() (*sqlInstance, *sqlDatabase, error) {
	in, err := c.findSQLInstance()
	if err != nil {
		return nil, nil, err
	}
	db := in.dbs[c.v("database")]
	if db == nil {
		return nil, nil, errf(404, "notFound", "The database %s does not exist in instance %s.", c.v("database"), in.name)
	}
	return in, db, nil
}

func (c *call) sqlDatabasesGet() (any, error) {
	_, db, err := c.findSQLDatabase()
	if err != nil {
		return nil, err
	}
	return db.db, nil
}

func (c *call) sqlDatabasesList() (any, error) {
	in, err := c.findSQLInstance()
	if err != nil {
		return nil, err
	}
	out := &sqladmin.DatabasesListResponse{Kind: "sql#databasesList", Items: []*sqladmin.Database{}}
	for _, name := range sortedKeys(in.dbs) {
		out.Items = append(out.Items, in.dbs[name].db)
	}
	return out, nil
}

func (c *call) sqlDatabasesPatch() (any, error) {
	in, db, err := c.findSQLDatabase()
	if err != nil {
		return nil, err
	}
	if err := c.sqlReady(in); err != nil {
		return nil, err
	}
	next := *db.db
	if err := c.decode(&next); err != nil {
		return nil, err
	}
	next.Name, next.Instance, next.Project, next.SelfLink, next.Kind = db.db.Name, db.db.Instance, db.db.Project, db.db.SelfLink, db.db.Kind
	o := c.sqlOp("UPDATE_DATABASE", in, c.s.opts.SQLOperationDuration)
	in.busy = o
	o.onDone = func(failed bool) {
		in.busy = nil
		if !failed {
			db.db = &next
		}
	}
	c.s.startOp(o)
	return c.s.renderSQLOp(o, c.now), nil
}

func (c *call) sqlDatabasesDelete() (any, error) {
	in, db, err := c.findSQLDatabase()
	if err != nil {
		return nil, err
	}
	if err := c.sqlReady(in); err != nil {
		return nil, err
	}
	o := c.sqlOp("DELETE_DATABASE", in, c.s.opts.SQLOperationDuration)
	in.busy = o
	o.onDone = func(failed bool) {
		in.busy = nil
		if !failed {
			delete(in.dbs, db.db.Name)
		}
	}
	c.s.startOp(o)
	return c.s.renderSQLOp(o, c.now), nil
}

// ---------------------------------------------------------------------------
// users

func (c *call) userKey(in *sqlInstance, name, host string) string {
	if in.engine() != "mysql" {
		host = ""
	}
	return name + "|" + host
}

func (c *call) sqlUsersInsert() (any, error) {
	in, err := c.findSQLInstance()
	if err != nil {
		return nil, err
	}
	var body sqladmin.User
	if err := c.decode(&body); err != nil {
		return nil, err
	}
	if body.Name == "" {
		return nil, errf(400, "invalid", "Invalid request: user name is empty.")
	}
	if err := c.sqlReady(in); err != nil {
		return nil, err
	}
	host := body.Host
	if in.engine() == "mysql" && host == "" {
		host = "%"
	}
	key := c.userKey(in, body.Name, host)
	if in.users[key] != nil {
		if in.engine() == "postgres" {
			return nil, errf(400, "invalid", "Invalid request: failed to create user %s. Detail: pq: role %q already exists.", body.Name, body.Name)
		}
		return nil, errf(400, "invalid", "Invalid request: failed to create user %s. Detail: Operation CREATE USER failed for '%s'@'%s'.", body.Name, body.Name, host)
	}
	u := c.s.newSQLUser(in, body.Name, host)
	u.Type = body.Type
	o := c.sqlOp("CREATE_USER", in, c.s.opts.SQLOperationDuration)
	in.busy = o
	o.onDone = func(failed bool) {
		in.busy = nil
		if !failed {
			in.users[key] = &sqlUser{u: u, password: body.Password}
		}
	}
	c.s.startOp(o)
	return c.s.renderSQLOp(o, c.now), nil
}

func (c *call) sqlUsersList() (any, error) {
	in, err := c.findSQLInstance()
	if err != nil {
		return nil, err
	}
	out := &sqladmin.UsersListResponse{Kind: "sql#usersList", Items: []*sqladmin.User{}}
	for _, k := range sortedKeys(in.users) {
		out.Items = append(out.Items, in.users[k].u)
	}
	return out, nil
}

func (c *call) findSQLUser(name string) (*sqlInstance, *sqlUser, string, error) {
	in, err := c.findSQLInstance()
	if err != nil {
		return nil, nil, "", err
	}
	host := c.query.Get("host")
	if in.engine() == "mysql" && host == "" {
		host = "%"
	}
	key := c.userKey(in, name, host)
	u := in.users[key]
	if u == nil {
		return nil, nil, "", errf(404, "notFound", "The user %s does not exist in instance %s.", name, in.name)
	}
	return in, u, key, nil
}

func (c *call) sqlUsersGet() (any, error) {
	_, u, _, err := c.findSQLUser(c.v("name"))
	if err != nil {
		return nil, err
	}
	return u.u, nil
}

func (c *call) sqlUsersUpdate() (any, error) {
	in, u, _, err := c.findSQLUser(c.query.Get("name"))
	if err != nil {
		return nil, err
	}
	var body sqladmin.User
	if err := c.decode(&body); err != nil {
		return nil, err
	}
	if err := c.sqlReady(in); err != nil {
		return nil, err
	}
	o := c.sqlOp("UPDATE_USER", in, c.s.opts.SQLOperationDuration)
	in.busy = o
	o.onDone = func(failed bool) {
		in.busy = nil
		if !failed && body.Password != "" {
			u.password = body.Password
		}
	}
	c.s.startOp(o)
	return c.s.renderSQLOp(o, c.now), nil
}

func (c *call) sqlUsersDelete() (any, error) {
	in, _, key, err := c.findSQLUser(c.query.Get("name"))
	if err != nil {
		return nil, err
	}
	if err := c.sqlReady(in); err != nil {
		return nil, err
	}
	o := c.sqlOp("DELETE_USER", in, c.s.opts.SQLOperationDuration)
	in.busy = o
	o.onDone = func(failed bool) {
		in.busy = nil
		if !failed {
			delete(in.users, key)
		}
	}
	c.s.startOp(o)
	return c.s.renderSQLOp(o, c.now), nil
}

// SQLUserPassword returns the password a Cloud SQL user was created (or
// last updated) with, for tests.
func (s *Server) SQLUserPassword(project, instance, user string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.st.sqlInstances[project+"/"+instance]
	if in == nil {
		return "", false
	}
	for _, u := range in.users {
		if u.u.Name == user {
			return u.password, true
		}
	}
	return "", false
}
