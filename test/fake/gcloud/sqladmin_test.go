package gcloud

import (
	"strings"
	"testing"
	"time"

	sqladmin "google.golang.org/api/sqladmin/v1"
	sqlbeta "google.golang.org/api/sqladmin/v1beta4"
)

func TestCloudSQLLifecycle(t *testing.T) {
	s := newFake(t, Options{SQLCreateDuration: 300 * time.Millisecond, SQLUpdateDuration: 100 * time.Millisecond,
		SQLDeleteDuration: 200 * time.Millisecond, SQLOperationDuration: 30 * time.Millisecond})
	ctx := testCtx(t)
	svc := sqlClient(t, ctx, s.SQLAdminURL())

	in := &sqladmin.DatabaseInstance{
		Name:            "env1-db",
		DatabaseVersion: "POSTGRES_15",
		Region:          region,
		RootPassword:    "root-secret",
		Settings: &sqladmin.Settings{
			Tier:       "db-custom-1-3840",
			UserLabels: map[string]string{"managed-by": "cld", "cld-env": "env1"},
			IpConfiguration: &sqladmin.IpConfiguration{
				Ipv4Enabled:        true,
				AuthorizedNetworks: []*sqladmin.AclEntry{{Name: "node-1", Value: "203.0.113.1/32"}},
			},
		},
	}
	op, err := svc.Instances.Insert(project, in).Context(ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	if op.OperationType != "CREATE" || op.TargetId != "env1-db" || op.Status == "DONE" || op.Kind != "sql#operation" {
		t.Fatalf("insert op = %+v", op)
	}
	got, err := svc.Instances.Get(project, "env1-db").Do()
	if err != nil {
		t.Fatal(err)
	}
	if got.State != "PENDING_CREATE" || len(got.IpAddresses) != 0 {
		t.Fatalf("while creating: %s %v", got.State, got.IpAddresses)
	}
	// everything else waits for the create to finish
	_, err = svc.Databases.Insert(project, "env1-db", &sqladmin.Database{Name: "app"}).Do()
	gerr(t, err, 409, "operationInProgress")
	_, err = svc.Instances.Insert(project, in).Do()
	gerr(t, err, 409, "instanceAlreadyExists")

	waitSQL(t, svc, op)
	got, err = svc.Instances.Get(project, "env1-db").Do()
	if err != nil {
		t.Fatal(err)
	}
	primary := ""
	for _, ip := range got.IpAddresses {
		if ip.Type == "PRIMARY" {
			primary = ip.IpAddress
		}
	}
	if got.State != "RUNNABLE" || primary == "" || got.ConnectionName != "cld-test:us-central1:env1-db" ||
		got.Settings.UserLabels["cld-env"] != "env1" || got.Settings.SettingsVersion != 1 ||
		got.Settings.IpConfiguration.AuthorizedNetworks[0].Value != "203.0.113.1/32" || got.ServerCaCert == nil ||
		got.DatabaseVersion != "POSTGRES_15" || got.RootPassword != "" {
		t.Fatalf("instance = %+v primary %q", got, primary)
	}

	// authorized networks: replaced through PATCH (an UPDATE operation)
	op, err = svc.Instances.Patch(project, "env1-db", &sqladmin.DatabaseInstance{Settings: &sqladmin.Settings{
		IpConfiguration: &sqladmin.IpConfiguration{AuthorizedNetworks: []*sqladmin.AclEntry{
			{Name: "node-1", Value: "203.0.113.1"}, {Name: "node-2", Value: "203.0.113.2"}}},
	}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	if op.OperationType != "UPDATE" {
		t.Fatalf("patch op %+v", op)
	}
	_, err = svc.Instances.Patch(project, "env1-db", &sqladmin.DatabaseInstance{Settings: &sqladmin.Settings{Tier: "db-custom-2-7680"}}).Do()
	gerr(t, err, 409, "operationInProgress")
	waitSQL(t, svc, op)
	got, _ = svc.Instances.Get(project, "env1-db").Do()
	if an := got.Settings.IpConfiguration.AuthorizedNetworks; len(an) != 2 || an[1].Value != "203.0.113.2" ||
		got.Settings.SettingsVersion != 2 || got.Settings.Tier != "db-custom-1-3840" || !got.Settings.IpConfiguration.Ipv4Enabled ||
		got.Settings.UserLabels["managed-by"] != "cld" {
		t.Fatalf("after patch: %+v", got.Settings)
	}
	_, err = svc.Instances.Patch(project, "env1-db", &sqladmin.DatabaseInstance{Settings: &sqladmin.Settings{
		IpConfiguration: &sqladmin.IpConfiguration{AuthorizedNetworks: []*sqladmin.AclEntry{{Value: "10.0.0.0/8"}}}}}).Do()
	gerr(t, err, 400, "invalid")

	// databases
	op, err = svc.Databases.Insert(project, "env1-db", &sqladmin.Database{Name: "app"}).Do()
	if err != nil {
		t.Fatal(err)
	}
	waitSQL(t, svc, op)
	_, err = svc.Databases.Insert(project, "env1-db", &sqladmin.Database{Name: "app"}).Do()
	gerr(t, err, 400, "invalid")
	dbs, err := svc.Databases.List(project, "env1-db").Do()
	if err != nil || len(dbs.Items) != 2 || dbs.Items[0].Name != "app" || dbs.Items[1].Name != "postgres" || dbs.Items[0].Charset != "UTF8" {
		t.Fatalf("databases: %v %+v", err, dbs)
	}
	db, err := svc.Databases.Get(project, "env1-db", "app").Do()
	if err != nil || db.Instance != "env1-db" {
		t.Fatalf("database get: %v %+v", err, db)
	}
	_, err = svc.Databases.Get(project, "env1-db", "nope").Do()
	gerr(t, err, 404, "notFound")

	// users
	op, err = svc.Users.Insert(project, "env1-db", &sqladmin.User{Name: "app", Password: "s3cret"}).Do()
	if err != nil {
		t.Fatal(err)
	}
	waitSQL(t, svc, op)
	users, err := svc.Users.List(project, "env1-db").Do()
	if err != nil || len(users.Items) != 2 {
		t.Fatalf("users: %v %+v", err, users)
	}
	for _, u := range users.Items {
		if u.Password != "" {
			t.Fatal("password returned")
		}
	}
	if pw, ok := s.SQLUserPassword(project, "env1-db", "app"); !ok || pw != "s3cret" {
		t.Fatalf("password %q", pw)
	}
	if pw, _ := s.SQLUserPassword(project, "env1-db", "postgres"); pw != "root-secret" {
		t.Fatalf("root password %q", pw)
	}
	op, err = svc.Users.Update(project, "env1-db", &sqladmin.User{Password: "n3w"}).Name("app").Do()
	if err != nil {
		t.Fatal(err)
	}
	waitSQL(t, svc, op)
	if pw, _ := s.SQLUserPassword(project, "env1-db", "app"); pw != "n3w" {
		t.Fatalf("updated password %q", pw)
	}
	op, err = svc.Users.Delete(project, "env1-db").Name("app").Do()
	if err != nil {
		t.Fatal(err)
	}
	waitSQL(t, svc, op)
	_, err = svc.Users.Delete(project, "env1-db").Name("app").Do()
	gerr(t, err, 404, "notFound")
	op, err = svc.Databases.Delete(project, "env1-db", "app").Do()
	if err != nil {
		t.Fatal(err)
	}
	waitSQL(t, svc, op)

	// the v1beta4 client (path prefix /sql/v1beta4/) sees the same state
	beta, err := sqlbeta.NewService(ctx, clientOpts(s.SQLAdminURL())...)
	if err != nil {
		t.Fatal(err)
	}
	bi, err := beta.Instances.Get(project, "env1-db").Do()
	if err != nil || bi.State != "RUNNABLE" {
		t.Fatalf("v1beta4 get: %v %+v", err, bi)
	}
	ops, err := svc.Operations.List(project).Instance("env1-db").Do()
	if err != nil || len(ops.Items) < 5 {
		t.Fatalf("operations list: %v", err)
	}
	list, err := svc.Instances.List(project).Filter("settings.userLabels.cld-env:env1").Do()
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list with filter: %v %+v", err, list)
	}

	// delete: PENDING_DELETE, then gone
	op, err = svc.Instances.Delete(project, "env1-db").Do()
	if err != nil {
		t.Fatal(err)
	}
	got, _ = svc.Instances.Get(project, "env1-db").Do()
	if got.State != "PENDING_DELETE" {
		t.Fatalf("state while deleting %s", got.State)
	}
	waitSQL(t, svc, op)
	_, err = svc.Instances.Get(project, "env1-db").Do()
	ge := gerr(t, err, 404, "instanceDoesNotExist")
	if !strings.Contains(ge.Message, "does not exist") {
		t.Fatalf("message %q", ge.Message)
	}
	_, err = svc.Operations.Get(project, "nope").Do()
	gerr(t, err, 404, "")
	assertEmptyInventory(t, s)
}

func TestCloudSQLMySQLAndPrimaryIP(t *testing.T) {
	s := newFake(t, Options{SQLCreateDuration: -1, SQLDeleteDuration: -1, SQLOperationDuration: -1, SQLPrimaryIP: "127.0.0.1"})
	ctx := testCtx(t)
	svc := sqlClient(t, ctx, s.SQLAdminURL())
	op, err := svc.Instances.Insert(project, &sqladmin.DatabaseInstance{Name: "my", DatabaseVersion: "MYSQL_8_0",
		Settings: &sqladmin.Settings{Tier: "db-n1-standard-1"}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	if op.Status != "DONE" {
		t.Fatalf("zero-duration op %s", op.Status)
	}
	got, _ := svc.Instances.Get(project, "my").Do()
	if got.IpAddresses[0].Type != "PRIMARY" || got.IpAddresses[0].IpAddress != "127.0.0.1" || got.Region != "us-central1" {
		t.Fatalf("ips %+v region %s", got.IpAddresses[0], got.Region)
	}
	users, _ := svc.Users.List(project, "my").Do()
	if len(users.Items) != 1 || users.Items[0].Name != "root" || users.Items[0].Host != "%" {
		t.Fatalf("mysql users %+v", users.Items)
	}
	op, err = svc.Users.Insert(project, "my", &sqladmin.User{Name: "app", Password: "x"}).Do()
	if err != nil || op.Status != "DONE" {
		t.Fatalf("user insert %v", err)
	}
	op, err = svc.Users.Delete(project, "my").Name("app").Host("%").Do()
	if err != nil || op.Status != "DONE" {
		t.Fatalf("user delete %v", err)
	}
	_, err = svc.Instances.Insert(project, &sqladmin.DatabaseInstance{Name: "notier", DatabaseVersion: "MYSQL_8_0"}).Do()
	gerr(t, err, 400, "invalid")
	if _, err := svc.Instances.Delete(project, "my").Do(); err != nil {
		t.Fatal(err)
	}
	assertEmptyInventory(t, s)
}
