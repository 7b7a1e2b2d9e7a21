package fake

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
)

type rdsState struct {
	instances    map[string]*dbInstance
	subnetGroups map[string]*dbSubnetGroup
}

type dbInstance struct {
	id, class, engine, engineVersion, user, password, dbName string
	subnetGroup, storageType, az, arn, resourceID            string
	storage, port, backupRetention                           int32
	multiAZ, public, deletionProtection, encrypted           bool
	sgIDs                                                    []string
	tags                                                     map[string]string
	status                                                   string
	since                                                    time.Time
	available                                                time.Time
	created                                                  time.Time
}

type dbSubnetGroup struct {
	name, desc, vpcID, arn string
	subnetIDs              []string
	tags                   map[string]string
}

func (st *rdsState) inventory() []Resource {
	var out []Resource
	for _, db := range st.instances {
		out = append(out, Resource{Service: "rds", Type: "db-instance", ID: db.arn, Name: db.id, Status: db.status, Tags: copyTags(db.tags)})
	}
	for _, g := range st.subnetGroups {
		out = append(out, Resource{Service: "rds", Type: "db-subnet-group", ID: g.arn, Name: g.name, Tags: copyTags(g.tags)})
	}
	return out
}

func (s *Server) advanceRDS(rs *regionState, now time.Time) {
	for id, db := range rs.rds.instances {
		switch db.status {
		case "creating":
			if t := db.since.Add(s.opts.RDSCreateDuration); !now.Before(t) {
				db.status, db.since = "backing-up", t
			}
		case "backing-up":
			if t := db.since.Add(s.opts.RDSBackupDuration); !now.Before(t) {
				db.status, db.since = "available", t
				if db.available.IsZero() {
					db.available = t
				}
			}
		case "modifying", "resetting-master-credentials":
			if t := db.since.Add(s.opts.RDSModifyDuration); !now.Before(t) {
				db.status, db.since = "available", t
			}
		case "deleting":
			if t := db.since.Add(s.opts.RDSDeleteDuration); !now.Before(t) {
				delete(rs.rds.instances, id)
			}
		}
	}
}

// rdsHash is the per account+region label in RDS endpoint host names.
func (s *Server) rdsHash(region string) string {
	sum := sha256.Sum256([]byte(s.opts.AccountID + "/" + region))
	h := hex.EncodeToString(sum[:])
	var b strings.Builder
	for _, ch := range h {
		if b.Len() == 12 {
			break
		}
		if ch >= '0' && ch <= '9' {
			b.WriteByte(byte('a' + (ch - '0')))
		} else {
			b.WriteRune(ch)
		}
	}
	return b.String()
}

func init() {
	register("rds", map[string]handlerFunc{
		"CreateDBInstance":       (*Server).rdsCreateDBInstance,
		"DescribeDBInstances":    (*Server).rdsDescribeDBInstances,
		"DeleteDBInstance":       (*Server).rdsDeleteDBInstance,
		"ModifyDBInstance":       (*Server).rdsModifyDBInstance,
		"CreateDBSubnetGroup":    (*Server).rdsCreateDBSubnetGroup,
		"DeleteDBSubnetGroup":    (*Server).rdsDeleteDBSubnetGroup,
		"DescribeDBSubnetGroups": (*Server).rdsDescribeDBSubnetGroups,
		"AddTagsToResource":      (*Server).rdsAddTags,
		"RemoveTagsFromResource": (*Server).rdsRemoveTags,
		"ListTagsForResource":    (*Server).rdsListTags,
	})
}

func rdsTags(in []rdstypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range in {
		m[str(t.Key)] = str(t.Value)
	}
	return m
}

func rdsTagList(m map[string]string) []rdstypes.Tag {
	out := []rdstypes.Tag{}
	for _, k := range sortedKeys(m) {
		out = append(out, rdstypes.Tag{Key: ptr(k), Value: ptr(m[k])})
	}
	return out
}

var validEngines = map[string]struct {
	version string
	port    int32
}{
	"mysql":             {"8.0.40", 3306},
	"postgres":          {"16.4", 5432},
	"mariadb":           {"10.11.10", 3306},
	"aurora-mysql":      {"8.0.mysql_aurora.3.08.0", 3306},
	"aurora-postgresql": {"16.4", 5432},
}

func (s *Server) rdsCreateDBInstance(c *reqCtx) (any, error) {
	var in rds.CreateDBInstanceInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	st := c.rs.rds
	id := strings.ToLower(str(in.DBInstanceIdentifier))
	if id == "" {
		return nil, errorf("MissingParameter", "The request must contain the parameter DBInstanceIdentifier")
	}
	if !validDBIdentifier(id) {
		return nil, errorf("InvalidParameterValue", "The parameter DBInstanceIdentifier is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.")
	}
	if st.instances[id] != nil {
		return nil, errorf("DBInstanceAlreadyExists", "DB instance already exists")
	}
	eng, ok := validEngines[str(in.Engine)]
	if !ok {
		return nil, errorf("InvalidParameterValue", "Invalid DB engine: %s", str(in.Engine))
	}
	if str(in.DBInstanceClass) == "" {
		return nil, errorf("MissingParameter", "The request must contain the parameter DBInstanceClass")
	}
	if !strings.HasPrefix(str(in.DBInstanceClass), "db.") {
		return nil, errorf("InvalidParameterValue", "Invalid DB Instance class: %s", str(in.DBInstanceClass))
	}
	if str(in.MasterUsername) == "" {
		return nil, errorf("InvalidParameterValue", "The parameter MasterUsername must be provided and must not be blank.")
	}
	pw := str(in.MasterUserPassword)
	if !boolv(in.ManageMasterUserPassword) {
		if pw == "" {
			return nil, errorf("InvalidParameterValue", "The parameter MasterUserPassword must be provided and must not be blank.")
		}
		if len(pw) < 8 {
			return nil, errorf("InvalidParameterValue", "The parameter MasterUserPassword is not a valid password because it is shorter than 8 characters.")
		}
		if strings.ContainsAny(pw, "/@\" ") {
			return nil, errorf("InvalidParameterValue", "The parameter MasterUserPassword is not a valid password. Only printable ASCII characters besides '/', '@', '\"', ' ' may be used.")
		}
	}
	if in.AllocatedStorage == nil && !strings.HasPrefix(str(in.Engine), "aurora") {
		return nil, errorf("InvalidParameterValue", "Invalid storage size for engine name %s and storage type gp2: 0", str(in.Engine))
	}
	sgIDs := in.VpcSecurityGroupIds
	for _, sg := range sgIDs {
		if c.rs.ec2.sgs[sg] == nil {
			return nil, errorf("InvalidParameterValue", "Invalid security group , groupId= %s, groupName=.", sg)
		}
	}
	sgName := str(in.DBSubnetGroupName)
	if sgName != "" && st.subnetGroups[sgName] == nil && sgName != "default" {
		return nil, errorf("DBSubnetGroupNotFoundFault", "DBSubnetGroup '%s' not found.", sgName)
	}
	if sgName == "" {
		sgName = "default"
	}
	if len(sgIDs) == 0 {
		vpcID := c.rs.ec2.defVPC
		if g := st.subnetGroups[sgName]; g != nil {
			vpcID = g.vpcID
		}
		for _, sg := range c.rs.ec2.sgs {
			if sg.isDefault && sg.vpcID == vpcID {
				sgIDs = []string{sg.id}
			}
		}
	}
	port := eng.port
	if in.Port != nil {
		port = *in.Port
	}
	version := eng.version
	if in.EngineVersion != nil {
		version = *in.EngineVersion
	}
	tags := rdsTags(in.Tags)
	db := &dbInstance{
		id: id, class: str(in.DBInstanceClass), engine: str(in.Engine), engineVersion: version, user: str(in.MasterUsername),
		password: pw, dbName: str(in.DBName), subnetGroup: sgName, storageType: "gp2", az: c.region + "a",
		arn: c.arn("rds", "db:"+id), resourceID: "db-" + strings.ToUpper(randFrom("abcdefghijklmnopqrstuvwxyz234567", 26)),
		storage: i32(in.AllocatedStorage), port: port, backupRetention: 1, multiAZ: boolv(in.MultiAZ), public: boolv(in.PubliclyAccessible),
		deletionProtection: boolv(in.DeletionProtection), encrypted: boolv(in.StorageEncrypted),
		sgIDs: append([]string(nil), sgIDs...), tags: tags, status: "creating", since: c.now, created: c.now,
	}
	if in.StorageType != nil {
		db.storageType = *in.StorageType
	}
	if in.AvailabilityZone != nil {
		db.az = *in.AvailabilityZone
	}
	if in.BackupRetentionPeriod != nil {
		db.backupRetention = *in.BackupRetentionPeriod
	}
	st.instances[id] = db
	return &rds.CreateDBInstanceOutput{DBInstance: s.dbInstanceOut(c, db)}, nil
}

func validDBIdentifier(id string) bool {
	if id == "" || len(id) > 63 || !(id[0] >= 'a' && id[0] <= 'z') || strings.HasSuffix(id, "-") || strings.Contains(id, "--") {
		return false
	}
	for _, ch := range id {
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-') {
			return false
		}
	}
	return true
}

func (s *Server) dbInstanceOut(c *reqCtx, db *dbInstance) *rdstypes.DBInstance {
	out := &rdstypes.DBInstance{
		DBInstanceIdentifier: ptr(db.id), DBInstanceClass: ptr(db.class), Engine: ptr(db.engine), EngineVersion: ptr(db.engineVersion),
		DBInstanceStatus: ptr(db.status), MasterUsername: ptr(db.user), AllocatedStorage: ptr(db.storage),
		PreferredBackupWindow: ptr("03:00-03:30"), PreferredMaintenanceWindow: ptr("sun:05:00-sun:05:30"),
		BackupRetentionPeriod: ptr(db.backupRetention), MultiAZ: ptr(db.multiAZ), AutoMinorVersionUpgrade: ptr(true),
		PubliclyAccessible: ptr(db.public), StorageType: ptr(db.storageType), DbInstancePort: ptr(int32(0)),
		StorageEncrypted: ptr(db.encrypted), DbiResourceId: ptr(db.resourceID), DBInstanceArn: ptr(db.arn),
		DeletionProtection: ptr(db.deletionProtection), CopyTagsToSnapshot: ptr(false), LicenseModel: ptr("general-public-license"),
		TagList: rdsTagList(db.tags), NetworkType: ptr("IPV4"), CACertificateIdentifier: ptr("rds-ca-rsa2048-g1"),
		IAMDatabaseAuthenticationEnabled: ptr(false), PerformanceInsightsEnabled: ptr(false),
	}
	if db.dbName != "" {
		out.DBName = ptr(db.dbName)
	}
	if db.status != "creating" {
		out.AvailabilityZone = ptr(db.az)
		out.Endpoint = &rdstypes.Endpoint{
			Address:      ptr(fmt.Sprintf("%s.%s.%s.rds.amazonaws.com", db.id, s.rdsHash(c.region), c.region)),
			Port:         ptr(db.port),
			HostedZoneId: ptr("Z2R2ITUGPM61AM"),
		}
	}
	if !db.available.IsZero() {
		out.InstanceCreateTime = ptr(db.available)
	}
	for _, sg := range db.sgIDs {
		out.VpcSecurityGroups = append(out.VpcSecurityGroups, rdstypes.VpcSecurityGroupMembership{VpcSecurityGroupId: ptr(sg), Status: ptr("active")})
	}
	out.DBSubnetGroup = s.subnetGroupOut(c, db.subnetGroup)
	out.DBParameterGroups = []rdstypes.DBParameterGroupStatus{{DBParameterGroupName: ptr("default." + db.engine + majorVersion(db.engineVersion)), ParameterApplyStatus: ptr("in-sync")}}
	out.PendingModifiedValues = &rdstypes.PendingModifiedValues{}
	return out
}

func majorVersion(v string) string {
	parts := strings.Split(v, ".")
	if len(parts) >= 2 && parts[0] == "8" || len(parts) >= 2 && parts[0] == "5" || len(parts) >= 2 && parts[0] == "10" {
		return parts[0] + "." + parts[1]
	}
	return parts[0]
}

func (s *Server) subnetGroupOut(c *reqCtx, name string) *rdstypes.DBSubnetGroup {
	g := c.rs.rds.subnetGroups[name]
	if g == nil {
		// the implicit default group over the default VPC's subnets
		g = &dbSubnetGroup{name: "default", desc: "default", vpcID: c.rs.ec2.defVPC}
		for _, sn := range c.rs.ec2.defaultSubnets() {
			g.subnetIDs = append(g.subnetIDs, sn.id)
		}
	}
	out := &rdstypes.DBSubnetGroup{DBSubnetGroupName: ptr(g.name), DBSubnetGroupDescription: ptr(g.desc), VpcId: ptr(g.vpcID), SubnetGroupStatus: ptr("Complete")}
	if g.arn != "" {
		out.DBSubnetGroupArn = ptr(g.arn)
	}
	for _, id := range g.subnetIDs {
		az := ""
		if sn := c.rs.ec2.subnets[id]; sn != nil {
			az = sn.az
		}
		out.Subnets = append(out.Subnets, rdstypes.Subnet{SubnetIdentifier: ptr(id), SubnetAvailabilityZone: &rdstypes.AvailabilityZone{Name: ptr(az)}, SubnetStatus: ptr("Active")})
	}
	return out
}

func (st *rdsState) find(id string) (*dbInstance, error) {
	if db := st.instances[strings.ToLower(id)]; db != nil {
		return db, nil
	}
	return nil, errorf("DBInstanceNotFound", "DBInstance %s not found.", id)
}

func (s *Server) rdsDescribeDBInstances(c *reqCtx) (any, error) {
	var in rds.DescribeDBInstancesInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	st := c.rs.rds
	out := &rds.DescribeDBInstancesOutput{DBInstances: []rdstypes.DBInstance{}}
	if id := str(in.DBInstanceIdentifier); id != "" {
		if strings.HasPrefix(id, "arn:") {
			id = id[strings.LastIndex(id, ":")+1:]
		}
		db, err := st.find(id)
		if err != nil {
			return nil, err
		}
		out.DBInstances = append(out.DBInstances, *s.dbInstanceOut(c, db))
		return out, nil
	}
	for _, id := range sortedKeys(st.instances) {
		db := st.instances[id]
		ok := true
		for _, f := range in.Filters {
			var have string
			switch str(f.Name) {
			case "db-instance-id":
				have = db.id
				if len(f.Values) > 0 && strings.HasPrefix(f.Values[0], "arn:") {
					have = db.arn
				}
			case "engine":
				have = db.engine
			case "dbi-resource-id":
				have = db.resourceID
			default:
				continue
			}
			if !contains(f.Values, have) {
				ok = false
			}
		}
		if ok {
			out.DBInstances = append(out.DBInstances, *s.dbInstanceOut(c, db))
		}
	}
	return out, nil
}

func (s *Server) rdsDeleteDBInstance(c *reqCtx) (any, error) {
	var in rds.DeleteDBInstanceInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	db, err := c.rs.rds.find(str(in.DBInstanceIdentifier))
	if err != nil {
		return nil, err
	}
	if db.status == "deleting" {
		return nil, errorf("InvalidDBInstanceState", "Instance %s is already being deleted.", db.id)
	}
	if db.deletionProtection {
		return nil, errorf("InvalidParameterCombination", "Cannot delete protected DB Instance, please disable deletion protection and try again.")
	}
	if !boolv(in.SkipFinalSnapshot) {
		if str(in.FinalDBSnapshotIdentifier) == "" {
			return nil, errorf("InvalidParameterCombination", "FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.")
		}
		if db.status == "creating" || db.status == "backing-up" {
			return nil, errorf("InvalidDBInstanceState", "Instance is currently %s - a final snapshot cannot be taken.", db.status)
		}
	}
	db.status, db.since = "deleting", c.now
	return &rds.DeleteDBInstanceOutput{DBInstance: s.dbInstanceOut(c, db)}, nil
}

func (s *Server) rdsModifyDBInstance(c *reqCtx) (any, error) {
	var in rds.ModifyDBInstanceInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	db, err := c.rs.rds.find(str(in.DBInstanceIdentifier))
	if err != nil {
		return nil, err
	}
	if db.status != "available" {
		return nil, errorf("InvalidDBInstanceState", "Database instance is not in available state.")
	}
	for _, sg := range in.VpcSecurityGroupIds {
		if c.rs.ec2.sgs[sg] == nil {
			return nil, errorf("InvalidParameterValue", "Invalid security group , groupId= %s, groupName=.", sg)
		}
	}
	changed := false
	if in.DBInstanceClass != nil && *in.DBInstanceClass != db.class {
		db.class, changed = *in.DBInstanceClass, true
	}
	if in.AllocatedStorage != nil && *in.AllocatedStorage != db.storage {
		if *in.AllocatedStorage < db.storage {
			return nil, errorf("InvalidParameterCombination", "Invalid storage size for engine name %s and storage type %s: %d", db.engine, db.storageType, *in.AllocatedStorage)
		}
		db.storage, changed = *in.AllocatedStorage, true
	}
	if in.EngineVersion != nil && *in.EngineVersion != db.engineVersion {
		db.engineVersion, changed = *in.EngineVersion, true
	}
	if in.VpcSecurityGroupIds != nil {
		db.sgIDs = append([]string(nil), in.VpcSecurityGroupIds...)
	}
	if in.DeletionProtection != nil {
		db.deletionProtection = *in.DeletionProtection
	}
	if in.PubliclyAccessible != nil {
		db.public = *in.PubliclyAccessible
	}
	if in.BackupRetentionPeriod != nil {
		db.backupRetention = *in.BackupRetentionPeriod
	}
	if in.MultiAZ != nil && *in.MultiAZ != db.multiAZ {
		db.multiAZ, changed = *in.MultiAZ, true
	}
	if in.MasterUserPassword != nil {
		if len(*in.MasterUserPassword) < 8 {
			return nil, errorf("InvalidParameterValue", "The parameter MasterUserPassword is not a valid password because it is shorter than 8 characters.")
		}
		db.password = *in.MasterUserPassword
		db.status, db.since = "resetting-master-credentials", c.now
	}
	if changed {
		db.status, db.since = "modifying", c.now
	}
	return &rds.ModifyDBInstanceOutput{DBInstance: s.dbInstanceOut(c, db)}, nil
}

// DBPassword returns the master password a DB instance was created with
// (tests use it to check what cld stored in its secret).
func (s *Server) DBPassword(region, id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.regions[region]
	if rs == nil {
		return "", false
	}
	db := rs.rds.instances[id]
	if db == nil {
		return "", false
	}
	return db.password, true
}

func (s *Server) rdsCreateDBSubnetGroup(c *reqCtx) (any, error) {
	var in rds.CreateDBSubnetGroupInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	st := c.rs.rds
	name := strings.ToLower(str(in.DBSubnetGroupName))
	if st.subnetGroups[name] != nil || name == "default" {
		return nil, errorf("DBSubnetGroupAlreadyExists", "The DB subnet group '%s' already exists.", name)
	}
	azs := map[string]bool{}
	vpcID := ""
	for _, id := range in.SubnetIds {
		sn := c.rs.ec2.subnets[id]
		if sn == nil {
			return nil, errorf("InvalidSubnet", "Some input subnets in :[%s] are invalid.", strings.Join(in.SubnetIds, ", "))
		}
		if vpcID != "" && sn.vpcID != vpcID {
			return nil, errorf("InvalidParameterValue", "All subnets must be in the same VPC")
		}
		vpcID = sn.vpcID
		azs[sn.az] = true
	}
	if len(azs) < 2 {
		return nil, errorf("DBSubnetGroupDoesNotCoverEnoughAZs", "The DB subnet group doesn't meet Availability Zone (AZ) coverage requirement. Current AZ coverage: %d. Add subnets to cover at least 2 AZs.", len(azs))
	}
	g := &dbSubnetGroup{name: name, desc: str(in.DBSubnetGroupDescription), vpcID: vpcID, arn: c.arn("rds", "subgrp:"+name), subnetIDs: in.SubnetIds, tags: rdsTags(in.Tags)}
	st.subnetGroups[name] = g
	return &rds.CreateDBSubnetGroupOutput{DBSubnetGroup: s.subnetGroupOut(c, name)}, nil
}

func (s *Server) rdsDeleteDBSubnetGroup(c *reqCtx) (any, error) {
	var in rds.DeleteDBSubnetGroupInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	name := strings.ToLower(str(in.DBSubnetGroupName))
	if c.rs.rds.subnetGroups[name] == nil {
		return nil, errorf("DBSubnetGroupNotFoundFault", "DBSubnetGroup '%s' not found.", name)
	}
	for _, db := range c.rs.rds.instances {
		if db.subnetGroup == name {
			return nil, errorf("InvalidDBSubnetGroupStateFault", "Cannot delete the subnet group '%s' because at least one database instance: %s is still using it.", name, db.id)
		}
	}
	delete(c.rs.rds.subnetGroups, name)
	return &rds.DeleteDBSubnetGroupOutput{}, nil
}

func (s *Server) rdsDescribeDBSubnetGroups(c *reqCtx) (any, error) {
	var in rds.DescribeDBSubnetGroupsInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	out := &rds.DescribeDBSubnetGroupsOutput{DBSubnetGroups: []rdstypes.DBSubnetGroup{}}
	if n := strings.ToLower(str(in.DBSubnetGroupName)); n != "" {
		if c.rs.rds.subnetGroups[n] == nil && n != "default" {
			return nil, errorf("DBSubnetGroupNotFoundFault", "DBSubnetGroup '%s' not found.", n)
		}
		out.DBSubnetGroups = append(out.DBSubnetGroups, *s.subnetGroupOut(c, n))
		return out, nil
	}
	names := sortedKeys(c.rs.rds.subnetGroups)
	for _, n := range names {
		out.DBSubnetGroups = append(out.DBSubnetGroups, *s.subnetGroupOut(c, n))
	}
	return out, nil
}

func (s *Server) rdsTagTarget(c *reqCtx, arn string) (*map[string]string, error) {
	for _, db := range c.rs.rds.instances {
		if db.arn == arn {
			return &db.tags, nil
		}
	}
	for _, g := range c.rs.rds.subnetGroups {
		if g.arn == arn {
			return &g.tags, nil
		}
	}
	if strings.Contains(arn, ":db:") {
		return nil, errorf("DBInstanceNotFound", "DBInstance %s not found.", arn[strings.LastIndex(arn, ":")+1:])
	}
	return nil, errorf("DBSubnetGroupNotFoundFault", "Resource %s not found.", arn)
}

func (s *Server) rdsAddTags(c *reqCtx) (any, error) {
	var in rds.AddTagsToResourceInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	tp, err := s.rdsTagTarget(c, str(in.ResourceName))
	if err != nil {
		return nil, err
	}
	if *tp == nil {
		*tp = map[string]string{}
	}
	for k, v := range rdsTags(in.Tags) {
		(*tp)[k] = v
	}
	return &rds.AddTagsToResourceOutput{}, nil
}

func (s *Server) rdsRemoveTags(c *reqCtx) (any, error) {
	var in rds.RemoveTagsFromResourceInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	tp, err := s.rdsTagTarget(c, str(in.ResourceName))
	if err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		delete(*tp, k)
	}
	return &rds.RemoveTagsFromResourceOutput{}, nil
}

func (s *Server) rdsListTags(c *reqCtx) (any, error) {
	var in rds.ListTagsForResourceInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	tp, err := s.rdsTagTarget(c, str(in.ResourceName))
	if err != nil {
		return nil, err
	}
	return &rds.ListTagsForResourceOutput{TagList: rdsTagList(*tp)}, nil
}
