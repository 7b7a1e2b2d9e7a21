package fake

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// EC2 speaks ec2Query. In the SDK version used (service/ec2 v1.344.x) the EC2
// client is still generated with hand-written serializers, so the fake reads
// explicit query keys (e.g. TagSpecification.1.Tag.1.Key, Filter.1.Value.1,
// IpPermissions.1.IpRanges.1.CidrIp) and writes ec2 XML: <XxxResponse
// xmlns=...><requestId/>...fields...</XxxResponse>, lists as <item>, no
// <XxxResult> wrapper.

type ec2State struct {
	region    string
	vpcs      map[string]*vpc
	subnets   map[string]*subnet
	sgs       map[string]*secGroup
	keys      map[string]*keyPair // by name
	lts       map[string]*launchTemplate
	instances map[string]*instance
	amis      map[string]*amiImage
	defVPC    string
}

type vpc struct {
	id, cidr  string
	isDefault bool
	tags      map[string]string
}

type subnet struct {
	id, vpcID, cidr, az, azID string
	isDefault                 bool
	tags                      map[string]string
	ipSeq                     int
}

type secGroup struct {
	id, name, desc, vpcID string
	tags                  map[string]string
	ingress, egress       []*sgRule
	isDefault             bool
}

type sgRule struct {
	id          string
	proto       string
	from, to    int32
	cidr, cidr6 string
	srcGroup    string
	desc        string
}

type keyPair struct {
	id, name, fingerprint, keyType, publicKey string
	tags                                      map[string]string
	created                                   time.Time
}

type launchTemplate struct {
	id, name string
	created  time.Time
	data     ltData
	tags     map[string]string
	versions int64
}

type ltData struct {
	imageID, instanceType, keyName, userData string
	profileArn, profileName                  string
	sgIDs                                    []string
}

type instance struct {
	id, imageID, instanceType, subnetID, vpcID, az, privateIP string
	keyName, profileArn, userData, asg                        string
	sgIDs                                                     []string
	state                                                     string
	launched, stateSince                                      time.Time
	tags                                                      map[string]string
}

type amiImage struct {
	id, name, desc, arch string
	created              time.Time
}

func newEC2State(s *Server, region string) *ec2State {
	st := &ec2State{
		region:    region,
		vpcs:      map[string]*vpc{},
		subnets:   map[string]*subnet{},
		sgs:       map[string]*secGroup{},
		keys:      map[string]*keyPair{},
		lts:       map[string]*launchTemplate{},
		instances: map[string]*instance{},
		amis:      map[string]*amiImage{},
	}
	v := &vpc{id: "vpc-" + randHex(17), cidr: "172.31.0.0/16", isDefault: true}
	st.vpcs[v.id] = v
	st.defVPC = v.id
	for i, az := range []string{"a", "b", "c"} {
		sn := &subnet{id: "subnet-" + randHex(17), vpcID: v.id, cidr: fmt.Sprintf("172.31.%d.0/20", i*16), az: region + az, azID: fmt.Sprintf("%s-az%d", azIDPrefix(region), i+1), isDefault: true}
		st.subnets[sn.id] = sn
	}
	sg := &secGroup{id: "sg-" + randHex(17), name: "default", desc: "default VPC security group", vpcID: v.id, isDefault: true}
	sg.ingress = []*sgRule{{id: "sgr-" + randHex(17), proto: "-1", from: -1, to: -1, srcGroup: sg.id}}
	sg.egress = []*sgRule{{id: "sgr-" + randHex(17), proto: "-1", from: -1, to: -1, cidr: "0.0.0.0/0"}}
	st.sgs[sg.id] = sg
	for _, a := range []struct{ name, arch string }{
		{"al2023-ami-ecs-hvm-2023.0.20260101-kernel-6.1-x86_64", "x86_64"},
		{"al2023-ami-ecs-hvm-2023.0.20260101-kernel-6.1-arm64", "arm64"},
		{"amzn2-ami-ecs-hvm-2.0.20260101-x86_64-ebs", "x86_64"},
	} {
		im := &amiImage{id: "ami-" + randHex(17), name: a.name, desc: "Amazon Linux AMI amzn-ami ECS HVM EBS", arch: a.arch, created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		st.amis[im.id] = im
	}
	return st
}

// azIDPrefix turns us-east-1 into use1, eu-west-1 into euw1, ...
func azIDPrefix(region string) string {
	parts := strings.Split(region, "-")
	if len(parts) != 3 {
		return region
	}
	dir := map[string]string{"east": "e", "west": "w", "north": "n", "south": "s", "central": "c",
		"northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw"}[parts[1]]
	return parts[0] + dir + parts[2]
}

// ecsAMI returns the ECS-optimized AMI id for an SSM public parameter name.
func (st *ec2State) amiByName(prefix string) *amiImage {
	for _, im := range st.amis {
		if strings.HasPrefix(im.name, prefix) {
			return im
		}
	}
	return nil
}

func (st *ec2State) defaultSubnets() []*subnet {
	var out []*subnet
	for _, sn := range st.subnets {
		if sn.vpcID == st.defVPC {
			out = append(out, sn)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].az < out[j].az })
	return out
}

func (sn *subnet) nextIP() string {
	sn.ipSeq++
	parts := strings.Split(strings.TrimSuffix(sn.cidr, "/20"), ".")
	third, _ := strconv.Atoi(parts[2])
	n := 10 + sn.ipSeq
	return fmt.Sprintf("%s.%s.%d.%d", parts[0], parts[1], third+n/250, n%250+1)
}

// CreateVPC adds a non-default VPC with n subnets (in AZs a, b, c, ...) to a
// region, for tests of "given VPC/subnets". It returns the ids.
func (s *Server) CreateVPC(region, cidrPrefix string, n int) (vpcID string, subnetIDs []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.region(region).ec2
	if cidrPrefix == "" {
		cidrPrefix = "10.0"
	}
	v := &vpc{id: "vpc-" + randHex(17), cidr: cidrPrefix + ".0.0/16"}
	st.vpcs[v.id] = v
	for i := 0; i < n; i++ {
		sn := &subnet{id: "subnet-" + randHex(17), vpcID: v.id, cidr: fmt.Sprintf("%s.%d.0/20", cidrPrefix, i*16), az: region + string(rune('a'+i%6)), azID: fmt.Sprintf("%s-az%d", azIDPrefix(region), i%6+1)}
		st.subnets[sn.id] = sn
		subnetIDs = append(subnetIDs, sn.id)
	}
	sg := &secGroup{id: "sg-" + randHex(17), name: "default", desc: "default VPC security group", vpcID: v.id, isDefault: true}
	sg.ingress = []*sgRule{{id: "sgr-" + randHex(17), proto: "-1", from: -1, to: -1, srcGroup: sg.id}}
	sg.egress = []*sgRule{{id: "sgr-" + randHex(17), proto: "-1", from: -1, to: -1, cidr: "0.0.0.0/0"}}
	st.sgs[sg.id] = sg
	return v.id, subnetIDs
}

func (st *ec2State) inventory() []Resource {
	var out []Resource
	for _, sg := range st.sgs {
		if sg.isDefault {
			continue
		}
		out = append(out, Resource{Service: "ec2", Type: "security-group", ID: sg.id, Name: sg.name, Tags: copyTags(sg.tags)})
	}
	for _, k := range st.keys {
		out = append(out, Resource{Service: "ec2", Type: "key-pair", ID: k.id, Name: k.name, Tags: copyTags(k.tags)})
	}
	for _, lt := range st.lts {
		out = append(out, Resource{Service: "ec2", Type: "launch-template", ID: lt.id, Name: lt.name, Tags: copyTags(lt.tags)})
	}
	for _, in := range st.instances {
		if in.state == "terminated" {
			continue
		}
		out = append(out, Resource{Service: "ec2", Type: "instance", ID: in.id, Name: in.tags["Name"], Status: in.state, Tags: copyTags(in.tags)})
	}
	return out
}

func (s *Server) advanceEC2(rs *regionState, now time.Time) {
	for _, in := range rs.ec2.instances {
		switch in.state {
		case "pending":
			if !now.Before(in.stateSince.Add(s.opts.InstanceLaunchDuration)) {
				in.state = "running"
				in.stateSince = in.stateSince.Add(s.opts.InstanceLaunchDuration)
			}
		case "shutting-down":
			if !now.Before(in.stateSince.Add(s.opts.InstanceTerminateDuration)) {
				in.state = "terminated"
				in.stateSince = in.stateSince.Add(s.opts.InstanceTerminateDuration)
			}
		}
	}
}

// launchInstance starts an instance from a launch template in a subnet.
func (s *Server) launchInstance(rs *regionState, lt *launchTemplate, sn *subnet, asg string, tags map[string]string, now time.Time) *instance {
	in := &instance{
		id: "i-" + randHex(17), imageID: lt.data.imageID, instanceType: lt.data.instanceType,
		subnetID: sn.id, vpcID: sn.vpcID, az: sn.az, privateIP: sn.nextIP(), keyName: lt.data.keyName,
		profileArn: lt.data.profileArn, userData: lt.data.userData, asg: asg, sgIDs: append([]string(nil), lt.data.sgIDs...),
		state: "pending", launched: now, stateSince: now, tags: copyTags(tags),
	}
	if in.instanceType == "" {
		in.instanceType = "t3.micro"
	}
	if in.profileArn == "" && lt.data.profileName != "" {
		in.profileArn = fmt.Sprintf("arn:aws:iam::%s:instance-profile/%s", s.opts.AccountID, lt.data.profileName)
	}
	if len(in.sgIDs) == 0 {
		for _, sg := range rs.ec2.sgs {
			if sg.isDefault && sg.vpcID == sn.vpcID {
				in.sgIDs = []string{sg.id}
			}
		}
	}
	if in.tags == nil {
		in.tags = map[string]string{}
	}
	if asg != "" {
		in.tags["aws:autoscaling:groupName"] = asg
	}
	rs.ec2.instances[in.id] = in
	return in
}

func (s *Server) terminateInstance(rs *regionState, in *instance, now time.Time) {
	if in.state == "pending" || in.state == "running" {
		in.state = "shutting-down"
		in.stateSince = now
		s.ecsInstanceGone(rs, in.id, now)
	}
}

// ---------------------------------------------------------------------------
// query form helpers (EC2 keys are explicit, lists flattened: Name.N)

type qform url.Values

func (f qform) get(k string) string { return url.Values(f).Get(k) }

func (f qform) has(prefix string) bool {
	if _, ok := f[prefix]; ok {
		return true
	}
	for k := range f {
		if strings.HasPrefix(k, prefix+".") {
			return true
		}
	}
	return false
}

func (f qform) list(prefix string) []string {
	var out []string
	for i := 1; i < 1000; i++ {
		k := prefix + "." + strconv.Itoa(i)
		if _, ok := f[k]; !ok {
			break
		}
		out = append(out, f.get(k))
	}
	return out
}

func (f qform) count(prefix string) int {
	n := 0
	for i := 1; i < 1000; i++ {
		if !f.has(prefix + "." + strconv.Itoa(i)) {
			break
		}
		n++
	}
	return n
}

func (f qform) tags(prefix string) map[string]string {
	out := map[string]string{}
	for i := 1; i <= f.count(prefix); i++ {
		p := prefix + "." + strconv.Itoa(i)
		out[f.get(p+".Key")] = f.get(p + ".Value")
	}
	return out
}

// tagSpec returns the tags of TagSpecification.N with the given ResourceType.
func (f qform) tagSpec(resourceType string) map[string]string {
	out := map[string]string{}
	for i := 1; i <= f.count("TagSpecification"); i++ {
		p := "TagSpecification." + strconv.Itoa(i)
		if rt := f.get(p + ".ResourceType"); rt != "" && rt != resourceType {
			continue
		}
		for k, v := range f.tags(p + ".Tag") {
			out[k] = v
		}
	}
	return out
}

type ec2Filter struct {
	name   string
	values []string
}

func (f qform) filters() []ec2Filter {
	var out []ec2Filter
	for i := 1; i <= f.count("Filter"); i++ {
		p := "Filter." + strconv.Itoa(i)
		out = append(out, ec2Filter{name: f.get(p + ".Name"), values: f.list(p + ".Value")})
	}
	return out
}

// matchFilters applies EC2 filters; attr returns the values of a filter name
// for the resource (nil = unknown filter, which matches nothing).
func matchFilters(filters []ec2Filter, tags map[string]string, attr func(name string) []string) bool {
	for _, fl := range filters {
		var have []string
		switch {
		case strings.HasPrefix(fl.name, "tag:"):
			if v, ok := tags[strings.TrimPrefix(fl.name, "tag:")]; ok {
				have = []string{v}
			}
		case fl.name == "tag-key":
			for k := range tags {
				have = append(have, k)
			}
		case fl.name == "tag-value":
			for _, v := range tags {
				have = append(have, v)
			}
		default:
			have = attr(fl.name)
		}
		ok := false
		for _, want := range fl.values {
			for _, h := range have {
				if m, _ := path.Match(want, h); m || want == h {
					ok = true
				}
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------------------
// XML response shapes

func renderEC2Response(action, xmlns, requestID string, out any) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString("<" + action + "Response xmlns=\"" + xmlns + "\"><requestId>" + requestID + "</requestId>")
	if out != nil {
		var inner bytes.Buffer
		enc := xml.NewEncoder(&inner)
		if err := enc.EncodeElement(out, xml.StartElement{Name: xml.Name{Local: "x"}}); err == nil {
			_ = enc.Flush()
			s := inner.String()
			s = strings.TrimPrefix(s, "<x>")
			s = strings.TrimSuffix(s, "</x>")
			if s != "<x/>" {
				b.WriteString(s)
			}
		}
	}
	b.WriteString("</" + action + "Response>")
	return b.Bytes()
}

type xTag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

func xTags(m map[string]string) []xTag {
	var out []xTag
	for _, k := range sortedKeys(m) {
		out = append(out, xTag{k, m[k]})
	}
	return out
}

type xReturn struct {
	Return bool `xml:"return"`
}

type xVpc struct {
	VpcID           string   `xml:"vpcId"`
	OwnerID         string   `xml:"ownerId"`
	State           string   `xml:"state"`
	CidrBlock       string   `xml:"cidrBlock"`
	CidrAssoc       []xAssoc `xml:"cidrBlockAssociationSet>item"`
	DhcpOptionsID   string   `xml:"dhcpOptionsId"`
	InstanceTenancy string   `xml:"instanceTenancy"`
	IsDefault       bool     `xml:"isDefault"`
	Tags            []xTag   `xml:"tagSet>item"`
}

type xAssoc struct {
	AssociationID string `xml:"associationId"`
	CidrBlock     string `xml:"cidrBlock"`
	State         string `xml:"cidrBlockState>state"`
}

type xSubnet struct {
	SubnetID                string `xml:"subnetId"`
	SubnetArn               string `xml:"subnetArn"`
	State                   string `xml:"state"`
	VpcID                   string `xml:"vpcId"`
	OwnerID                 string `xml:"ownerId"`
	CidrBlock               string `xml:"cidrBlock"`
	AvailableIPAddressCount int    `xml:"availableIpAddressCount"`
	AvailabilityZone        string `xml:"availabilityZone"`
	AvailabilityZoneID      string `xml:"availabilityZoneId"`
	DefaultForAz            bool   `xml:"defaultForAz"`
	MapPublicIPOnLaunch     bool   `xml:"mapPublicIpOnLaunch"`
	Tags                    []xTag `xml:"tagSet>item"`
}

type xIPPerm struct {
	IPProtocol string     `xml:"ipProtocol"`
	FromPort   *int32     `xml:"fromPort,omitempty"`
	ToPort     *int32     `xml:"toPort,omitempty"`
	Groups     []xGroupID `xml:"groups>item"`
	IPRanges   []xIPRange `xml:"ipRanges>item"`
	IPv6Ranges []xIPv6    `xml:"ipv6Ranges>item"`
}

type xGroupID struct {
	UserID      string `xml:"userId"`
	GroupID     string `xml:"groupId"`
	Description string `xml:"description,omitempty"`
}

type xIPRange struct {
	CidrIP      string `xml:"cidrIp"`
	Description string `xml:"description,omitempty"`
}

type xIPv6 struct {
	CidrIPv6    string `xml:"cidrIpv6"`
	Description string `xml:"description,omitempty"`
}

type xSG struct {
	OwnerID          string    `xml:"ownerId"`
	GroupID          string    `xml:"groupId"`
	GroupName        string    `xml:"groupName"`
	GroupDescription string    `xml:"groupDescription"`
	VpcID            string    `xml:"vpcId"`
	SecurityGroupArn string    `xml:"securityGroupArn"`
	IngressPerms     []xIPPerm `xml:"ipPermissions>item"`
	EgressPerms      []xIPPerm `xml:"ipPermissionsEgress>item"`
	Tags             []xTag    `xml:"tagSet>item"`
}

type xSGRule struct {
	SecurityGroupRuleID  string `xml:"securityGroupRuleId"`
	GroupID              string `xml:"groupId"`
	GroupOwnerID         string `xml:"groupOwnerId"`
	IsEgress             bool   `xml:"isEgress"`
	IPProtocol           string `xml:"ipProtocol"`
	FromPort             int32  `xml:"fromPort"`
	ToPort               int32  `xml:"toPort"`
	CidrIPv4             string `xml:"cidrIpv4,omitempty"`
	CidrIPv6             string `xml:"cidrIpv6,omitempty"`
	RefGroupID           string `xml:"referencedGroupInfo>groupId,omitempty"`
	Description          string `xml:"description,omitempty"`
	SecurityGroupRuleArn string `xml:"securityGroupRuleArn"`
}

type xKeyPair struct {
	KeyPairID      string `xml:"keyPairId"`
	KeyFingerprint string `xml:"keyFingerprint"`
	KeyName        string `xml:"keyName"`
	KeyType        string `xml:"keyType"`
	Tags           []xTag `xml:"tagSet>item"`
	CreateTime     string `xml:"createTime"`
	PublicKey      string `xml:"publicKey,omitempty"`
}

type xLaunchTemplate struct {
	LaunchTemplateID     string `xml:"launchTemplateId"`
	LaunchTemplateName   string `xml:"launchTemplateName"`
	CreateTime           string `xml:"createTime"`
	CreatedBy            string `xml:"createdBy"`
	DefaultVersionNumber int64  `xml:"defaultVersionNumber"`
	LatestVersionNumber  int64  `xml:"latestVersionNumber"`
	Tags                 []xTag `xml:"tagSet>item"`
}

type xInstance struct {
	InstanceID         string     `xml:"instanceId"`
	ImageID            string     `xml:"imageId"`
	StateCode          int        `xml:"instanceState>code"`
	StateName          string     `xml:"instanceState>name"`
	PrivateDNSName     string     `xml:"privateDnsName"`
	KeyName            string     `xml:"keyName,omitempty"`
	AmiLaunchIndex     int        `xml:"amiLaunchIndex"`
	InstanceType       string     `xml:"instanceType"`
	LaunchTime         string     `xml:"launchTime"`
	AvailabilityZone   string     `xml:"placement>availabilityZone"`
	Tenancy            string     `xml:"placement>tenancy"`
	SubnetID           string     `xml:"subnetId"`
	VpcID              string     `xml:"vpcId"`
	PrivateIPAddress   string     `xml:"privateIpAddress"`
	Groups             []xGroupNm `xml:"groupSet>item"`
	Architecture       string     `xml:"architecture"`
	RootDeviceType     string     `xml:"rootDeviceType"`
	VirtualizationType string     `xml:"virtualizationType"`
	Hypervisor         string     `xml:"hypervisor"`
	ProfileArn         string     `xml:"iamInstanceProfile>arn,omitempty"`
	Tags               []xTag     `xml:"tagSet>item"`
}

type xGroupNm struct {
	GroupID   string `xml:"groupId"`
	GroupName string `xml:"groupName"`
}

type xReservation struct {
	ReservationID string      `xml:"reservationId"`
	OwnerID       string      `xml:"ownerId"`
	Instances     []xInstance `xml:"instancesSet>item"`
}

type xImage struct {
	ImageID            string `xml:"imageId"`
	ImageLocation      string `xml:"imageLocation"`
	ImageState         string `xml:"imageState"`
	ImageOwnerID       string `xml:"imageOwnerId"`
	CreationDate       string `xml:"creationDate"`
	IsPublic           bool   `xml:"isPublic"`
	Architecture       string `xml:"architecture"`
	ImageType          string `xml:"imageType"`
	Name               string `xml:"name"`
	Description        string `xml:"description"`
	RootDeviceType     string `xml:"rootDeviceType"`
	RootDeviceName     string `xml:"rootDeviceName"`
	VirtualizationType string `xml:"virtualizationType"`
	Hypervisor         string `xml:"hypervisor"`
	PlatformDetails    string `xml:"platformDetails"`
}

type xAZ struct {
	ZoneName   string `xml:"zoneName"`
	ZoneID     string `xml:"zoneId"`
	ZoneState  string `xml:"zoneState"`
	RegionName string `xml:"regionName"`
	ZoneType   string `xml:"zoneType"`
}

const ec2TimeFmt = "2006-01-02T15:04:05.000Z"

// ---------------------------------------------------------------------------
// handlers

func init() {
	register("ec2", map[string]handlerFunc{
		"DescribeVpcs":              (*Server).ec2DescribeVpcs,
		"DescribeSubnets":           (*Server).ec2DescribeSubnets,
		"DescribeAvailabilityZones": (*Server).ec2DescribeAZs,
		"CreateSecurityGroup":       (*Server).ec2CreateSecurityGroup,
		"DeleteSecurityGroup":       (*Server).ec2DeleteSecurityGroup,
		"DescribeSecurityGroups":    (*Server).ec2DescribeSecurityGroups,
		"AuthorizeSecurityGroupIngress": func(s *Server, c *reqCtx) (any, error) {
			return s.ec2Authorize(c, false)
		},
		"AuthorizeSecurityGroupEgress": func(s *Server, c *reqCtx) (any, error) {
			return s.ec2Authorize(c, true)
		},
		"RevokeSecurityGroupIngress": func(s *Server, c *reqCtx) (any, error) {
			return s.ec2Revoke(c, false)
		},
		"RevokeSecurityGroupEgress": func(s *Server, c *reqCtx) (any, error) {
			return s.ec2Revoke(c, true)
		},
		"CreateKeyPair":           (*Server).ec2CreateKeyPair,
		"DeleteKeyPair":           (*Server).ec2DeleteKeyPair,
		"DescribeKeyPairs":        (*Server).ec2DescribeKeyPairs,
		"CreateLaunchTemplate":    (*Server).ec2CreateLaunchTemplate,
		"DeleteLaunchTemplate":    (*Server).ec2DeleteLaunchTemplate,
		"DescribeLaunchTemplates": (*Server).ec2DescribeLaunchTemplates,
		"DescribeInstances":       (*Server).ec2DescribeInstances,
		"TerminateInstances":      (*Server).ec2TerminateInstances,
		"DescribeImages":          (*Server).ec2DescribeImages,
		"CreateTags":              (*Server).ec2CreateTags,
		"DeleteTags":              (*Server).ec2DeleteTags,
	})
}

func (s *Server) ec2DescribeVpcs(c *reqCtx) (any, error) {
	f := qform(c.form)
	st := c.rs.ec2
	ids := f.list("VpcId")
	for _, id := range ids {
		if st.vpcs[id] == nil {
			return nil, errorf("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", id)
		}
	}
	var out struct {
		Vpcs []xVpc `xml:"vpcSet>item"`
	}
	for _, id := range sortedKeys(st.vpcs) {
		v := st.vpcs[id]
		if len(ids) > 0 && !contains(ids, id) {
			continue
		}
		if !matchFilters(f.filters(), v.tags, func(n string) []string {
			switch n {
			case "vpc-id":
				return []string{v.id}
			case "is-default", "isDefault":
				return []string{strconv.FormatBool(v.isDefault)}
			case "cidr", "cidr-block-association.cidr-block", "cidrBlock":
				return []string{v.cidr}
			case "state":
				return []string{"available"}
			case "owner-id":
				return []string{c.account()}
			}
			return nil
		}) {
			continue
		}
		out.Vpcs = append(out.Vpcs, xVpc{VpcID: v.id, OwnerID: c.account(), State: "available", CidrBlock: v.cidr,
			CidrAssoc:     []xAssoc{{AssociationID: "vpc-cidr-assoc-" + v.id[4:], CidrBlock: v.cidr, State: "associated"}},
			DhcpOptionsID: "dopt-0123456789abcdef0", InstanceTenancy: "default", IsDefault: v.isDefault, Tags: xTags(v.tags)})
	}
	return out, nil
}

func (s *Server) ec2DescribeSubnets(c *reqCtx) (any, error) {
	f := qform(c.form)
	st := c.rs.ec2
	ids := f.list("SubnetId")
	for _, id := range ids {
		if st.subnets[id] == nil {
			return nil, errorf("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
		}
	}
	var out struct {
		Subnets []xSubnet `xml:"subnetSet>item"`
	}
	subs := make([]*subnet, 0, len(st.subnets))
	for _, sn := range st.subnets {
		subs = append(subs, sn)
	}
	sort.Slice(subs, func(i, j int) bool {
		if subs[i].vpcID != subs[j].vpcID {
			return subs[i].vpcID < subs[j].vpcID
		}
		return subs[i].az < subs[j].az
	})
	for _, sn := range subs {
		if len(ids) > 0 && !contains(ids, sn.id) {
			continue
		}
		if !matchFilters(f.filters(), sn.tags, func(n string) []string {
			switch n {
			case "vpc-id":
				return []string{sn.vpcID}
			case "subnet-id":
				return []string{sn.id}
			case "default-for-az", "defaultForAz":
				return []string{strconv.FormatBool(sn.isDefault)}
			case "availability-zone", "availabilityZone":
				return []string{sn.az}
			case "availability-zone-id":
				return []string{sn.azID}
			case "cidr-block", "cidr", "cidrBlock":
				return []string{sn.cidr}
			case "state":
				return []string{"available"}
			case "map-public-ip-on-launch":
				return []string{strconv.FormatBool(sn.isDefault)}
			}
			return nil
		}) {
			continue
		}
		out.Subnets = append(out.Subnets, xSubnet{SubnetID: sn.id, SubnetArn: fmt.Sprintf("arn:aws:ec2:%s:%s:subnet/%s", c.region, c.account(), sn.id),
			State: "available", VpcID: sn.vpcID, OwnerID: c.account(), CidrBlock: sn.cidr, AvailableIPAddressCount: 4091,
			AvailabilityZone: sn.az, AvailabilityZoneID: sn.azID, DefaultForAz: sn.isDefault, MapPublicIPOnLaunch: sn.isDefault, Tags: xTags(sn.tags)})
	}
	return out, nil
}

func (s *Server) ec2DescribeAZs(c *reqCtx) (any, error) {
	var out struct {
		AZs []xAZ `xml:"availabilityZoneInfo>item"`
	}
	for i, az := range []string{"a", "b", "c"} {
		out.AZs = append(out.AZs, xAZ{ZoneName: c.region + az, ZoneID: fmt.Sprintf("%s-az%d", azIDPrefix(c.region), i+1), ZoneState: "available", RegionName: c.region, ZoneType: "availability-zone"})
	}
	return out, nil
}

func (s *Server) ec2CreateSecurityGroup(c *reqCtx) (any, error) {
	f := qform(c.form)
	st := c.rs.ec2
	name := f.get("GroupName")
	desc := f.get("GroupDescription")
	if name == "" {
		return nil, errorf("MissingParameter", "The request must contain the parameter groupName")
	}
	if desc == "" {
		return nil, errorf("MissingParameter", "The request must contain the parameter groupDescription")
	}
	if strings.HasPrefix(name, "sg-") {
		return nil, errorf("InvalidParameterValue", "Group names may not be in the format sg-*")
	}
	vpcID := f.get("VpcId")
	if vpcID == "" {
		vpcID = st.defVPC
	}
	if st.vpcs[vpcID] == nil {
		return nil, errorf("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", vpcID)
	}
	for _, g := range st.sgs {
		if g.vpcID == vpcID && g.name == name {
			return nil, errorf("InvalidGroup.Duplicate", "The security group '%s' already exists for VPC '%s'", name, vpcID)
		}
	}
	sg := &secGroup{id: "sg-" + randHex(17), name: name, desc: desc, vpcID: vpcID, tags: f.tagSpec("security-group")}
	sg.egress = []*sgRule{{id: "sgr-" + randHex(17), proto: "-1", from: -1, to: -1, cidr: "0.0.0.0/0"}}
	st.sgs[sg.id] = sg
	return struct {
		GroupID string `xml:"groupId"`
		Arn     string `xml:"securityGroupArn"`
		Tags    []xTag `xml:"tagSet>item"`
	}{sg.id, s.sgArn(c, sg.id), xTags(sg.tags)}, nil
}

func (s *Server) sgArn(c *reqCtx, id string) string {
	return fmt.Sprintf("arn:aws:ec2:%s:%s:security-group/%s", c.region, c.account(), id)
}

// findSG resolves GroupId or GroupName (default VPC).
func (st *ec2State) findSG(id, name string) (*secGroup, error) {
	if id != "" {
		if sg := st.sgs[id]; sg != nil {
			return sg, nil
		}
		return nil, errorf("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
	}
	for _, sg := range st.sgs {
		if sg.name == name && sg.vpcID == st.defVPC {
			return sg, nil
		}
	}
	return nil, errorf("InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC '%s'", name, st.defVPC)
}

func (s *Server) ec2DeleteSecurityGroup(c *reqCtx) (any, error) {
	f := qform(c.form)
	st := c.rs.ec2
	sg, err := st.findSG(f.get("GroupId"), f.get("GroupName"))
	if err != nil {
		return nil, err
	}
	if sg.isDefault {
		return nil, errorf("CannotDelete", "the specified group: \"%s\" name: \"default\" cannot be deleted by a user", sg.id)
	}
	if dep := s.sgDependency(c.rs, sg.id); dep != "" {
		return nil, errorf("DependencyViolation", "resource %s has a dependent object", sg.id)
	}
	delete(st.sgs, sg.id)
	return struct {
		Return  bool   `xml:"return"`
		GroupID string `xml:"groupId"`
	}{true, sg.id}, nil
}

// sgDependency reports what still uses a security group ("" = nothing).
func (s *Server) sgDependency(rs *regionState, id string) string {
	for _, g := range rs.ec2.sgs {
		if g.id == id {
			continue
		}
		for _, r := range append(append([]*sgRule(nil), g.ingress...), g.egress...) {
			if r.srcGroup == id {
				return "security group " + g.id
			}
		}
	}
	for _, db := range rs.rds.instances {
		if contains(db.sgIDs, id) {
			return "db instance " + db.id
		}
	}
	for _, lb := range rs.elb.lbs {
		if contains(lb.sgs, id) {
			return "load balancer " + lb.name
		}
	}
	for _, lb := range rs.elb.deleted {
		if contains(lb.sgs, id) {
			return "network interface of deleted load balancer " + lb.name
		}
	}
	for _, in := range rs.ec2.instances {
		if in.state != "terminated" && contains(in.sgIDs, id) {
			return "instance " + in.id
		}
	}
	for _, t := range rs.ecs.allTasks() {
		if t.lastStatus != "STOPPED" && contains(t.sgIDs, id) {
			return "network interface of task " + t.id
		}
	}
	return ""
}

func (s *Server) ec2DescribeSecurityGroups(c *reqCtx) (any, error) {
	f := qform(c.form)
	st := c.rs.ec2
	ids := f.list("GroupId")
	names := f.list("GroupName")
	for _, id := range ids {
		if st.sgs[id] == nil {
			return nil, errorf("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
		}
	}
	for _, n := range names {
		if _, err := st.findSG("", n); err != nil {
			return nil, err
		}
	}
	var out struct {
		SGs []xSG `xml:"securityGroupInfo>item"`
	}
	for _, id := range sortedKeys(st.sgs) {
		sg := st.sgs[id]
		if len(ids) > 0 && !contains(ids, id) {
			continue
		}
		if len(names) > 0 && !(contains(names, sg.name) && sg.vpcID == st.defVPC) {
			continue
		}
		if !matchFilters(f.filters(), sg.tags, func(n string) []string {
			switch n {
			case "group-id":
				return []string{sg.id}
			case "group-name":
				return []string{sg.name}
			case "vpc-id":
				return []string{sg.vpcID}
			case "description":
				return []string{sg.desc}
			case "owner-id":
				return []string{c.account()}
			}
			return nil
		}) {
			continue
		}
		out.SGs = append(out.SGs, s.sgXML(c, sg))
	}
	return out, nil
}

func (s *Server) sgXML(c *reqCtx, sg *secGroup) xSG {
	return xSG{OwnerID: c.account(), GroupID: sg.id, GroupName: sg.name, GroupDescription: sg.desc, VpcID: sg.vpcID,
		SecurityGroupArn: s.sgArn(c, sg.id), IngressPerms: permsXML(c, sg.ingress), EgressPerms: permsXML(c, sg.egress), Tags: xTags(sg.tags)}
}

func permsXML(c *reqCtx, rules []*sgRule) []xIPPerm {
	var out []xIPPerm
	idx := map[string]int{}
	for _, r := range rules {
		k := fmt.Sprintf("%s/%d/%d", r.proto, r.from, r.to)
		i, ok := idx[k]
		if !ok {
			p := xIPPerm{IPProtocol: r.proto}
			if r.proto != "-1" {
				p.FromPort, p.ToPort = ptr(r.from), ptr(r.to)
			}
			out = append(out, p)
			i = len(out) - 1
			idx[k] = i
		}
		switch {
		case r.srcGroup != "":
			out[i].Groups = append(out[i].Groups, xGroupID{UserID: c.account(), GroupID: r.srcGroup, Description: r.desc})
		case r.cidr6 != "":
			out[i].IPv6Ranges = append(out[i].IPv6Ranges, xIPv6{r.cidr6, r.desc})
		default:
			out[i].IPRanges = append(out[i].IPRanges, xIPRange{r.cidr, r.desc})
		}
	}
	return out
}

func normProto(p string) string {
	switch strings.ToLower(p) {
	case "6", "tcp":
		return "tcp"
	case "17", "udp":
		return "udp"
	case "1", "icmp":
		return "icmp"
	case "-1", "all", "":
		return "-1"
	}
	return strings.ToLower(p)
}

// parsePerms reads IpPermissions.N (or the legacy top-level fields) into
// single-source rules.
func parsePerms(f qform, st *ec2State) ([]*sgRule, error) {
	var out []*sgRule
	n := f.count("IpPermissions")
	if n == 0 && (f.get("CidrIp") != "" || f.get("IpProtocol") != "" || f.get("SourceSecurityGroupName") != "") {
		r := &sgRule{proto: normProto(f.get("IpProtocol")), from: atoi32(f.get("FromPort"), -1), to: atoi32(f.get("ToPort"), -1), cidr: f.get("CidrIp")}
		if g := f.get("SourceSecurityGroupName"); g != "" {
			sg, err := st.findSG("", g)
			if err != nil {
				return nil, err
			}
			r.srcGroup, r.cidr = sg.id, ""
		}
		return []*sgRule{r}, nil
	}
	for i := 1; i <= n; i++ {
		p := "IpPermissions." + strconv.Itoa(i)
		proto := normProto(f.get(p + ".IpProtocol"))
		from, to := atoi32(f.get(p+".FromPort"), -1), atoi32(f.get(p+".ToPort"), -1)
		if proto == "-1" {
			from, to = -1, -1
		}
		base := sgRule{proto: proto, from: from, to: to}
		for j := 1; j <= f.count(p+".IpRanges"); j++ {
			q := p + ".IpRanges." + strconv.Itoa(j)
			r := base
			r.cidr, r.desc = f.get(q+".CidrIp"), f.get(q+".Description")
			out = append(out, &r)
		}
		for j := 1; j <= f.count(p+".Ipv6Ranges"); j++ {
			q := p + ".Ipv6Ranges." + strconv.Itoa(j)
			r := base
			r.cidr6, r.desc = f.get(q+".CidrIpv6"), f.get(q+".Description")
			out = append(out, &r)
		}
		for j := 1; j <= f.count(p+".Groups"); j++ {
			q := p + ".Groups." + strconv.Itoa(j)
			r := base
			r.srcGroup, r.desc = f.get(q+".GroupId"), f.get(q+".Description")
			if r.srcGroup == "" && f.get(q+".GroupName") != "" {
				sg, err := st.findSG("", f.get(q+".GroupName"))
				if err != nil {
					return nil, err
				}
				r.srcGroup = sg.id
			}
			if st.sgs[r.srcGroup] == nil {
				return nil, errorf("InvalidGroup.NotFound", "The security group '%s' does not exist", r.srcGroup)
			}
			out = append(out, &r)
		}
		if f.count(p+".IpRanges")+f.count(p+".Ipv6Ranges")+f.count(p+".Groups") == 0 {
			return nil, errorf("InvalidParameterValue", "The request must contain at least one source (IpRanges, Ipv6Ranges, Groups or PrefixListIds)")
		}
	}
	for _, r := range out {
		if r.proto == "tcp" || r.proto == "udp" {
			if r.from < 0 || r.to > 65535 || r.from > r.to {
				return nil, errorf("InvalidParameterValue", "Invalid port range %d-%d", r.from, r.to)
			}
		}
	}
	return out, nil
}

func atoi32(s string, def int32) int32 {
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return int32(n)
}

func (r *sgRule) same(o *sgRule) bool {
	return r.proto == o.proto && r.from == o.from && r.to == o.to && r.cidr == o.cidr && r.cidr6 == o.cidr6 && r.srcGroup == o.srcGroup
}

func (r *sgRule) describe() string {
	peer := r.cidr
	if r.srcGroup != "" {
		peer = r.srcGroup
	} else if r.cidr6 != "" {
		peer = r.cidr6
	}
	proto := strings.ToUpper(r.proto)
	if r.proto == "-1" {
		proto = "ALL"
	}
	return fmt.Sprintf("peer: %s, %s, from port: %d, to port: %d, ALLOW", peer, proto, r.from, r.to)
}

func (s *Server) ec2Authorize(c *reqCtx, egress bool) (any, error) {
	f := qform(c.form)
	st := c.rs.ec2
	sg, err := st.findSG(f.get("GroupId"), f.get("GroupName"))
	if err != nil {
		return nil, err
	}
	rules, err := parsePerms(f, st)
	if err != nil {
		return nil, err
	}
	existing := &sg.ingress
	if egress {
		existing = &sg.egress
	}
	for i, r := range rules {
		for _, e := range *existing {
			if e.same(r) {
				return nil, errorf("InvalidPermission.Duplicate", "the specified rule \"%s\" already exists", r.describe())
			}
		}
		for _, e := range rules[:i] {
			if e.same(r) {
				return nil, errorf("InvalidPermission.Duplicate", "the specified rule \"%s\" already exists", r.describe())
			}
		}
	}
	type result struct {
		Return bool      `xml:"return"`
		Rules  []xSGRule `xml:"securityGroupRuleSet>item"`
	}
	var out result
	out.Return = true
	for _, r := range rules {
		r.id = "sgr-" + randHex(17)
		*existing = append(*existing, r)
		out.Rules = append(out.Rules, xSGRule{SecurityGroupRuleID: r.id, GroupID: sg.id, GroupOwnerID: c.account(), IsEgress: egress,
			IPProtocol: r.proto, FromPort: r.from, ToPort: r.to, CidrIPv4: r.cidr, CidrIPv6: r.cidr6, RefGroupID: r.srcGroup, Description: r.desc,
			SecurityGroupRuleArn: fmt.Sprintf("arn:aws:ec2:%s:%s:security-group-rule/%s", c.region, c.account(), r.id)})
	}
	return out, nil
}

func (s *Server) ec2Revoke(c *reqCtx, egress bool) (any, error) {
	f := qform(c.form)
	st := c.rs.ec2
	sg, err := st.findSG(f.get("GroupId"), f.get("GroupName"))
	if err != nil {
		return nil, err
	}
	existing := &sg.ingress
	if egress {
		existing = &sg.egress
	}
	if ids := f.list("SecurityGroupRuleId"); len(ids) > 0 {
		for _, id := range ids {
			found := false
			for i, e := range *existing {
				if e.id == id {
					*existing = append((*existing)[:i], (*existing)[i+1:]...)
					found = true
					break
				}
			}
			if !found {
				return nil, errorf("InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '%s' does not exist", id)
			}
		}
		return xReturn{true}, nil
	}
	rules, err := parsePerms(f, st)
	if err != nil {
		return nil, err
	}
	for _, r := range rules {
		found := false
		for _, e := range *existing {
			if e.same(r) {
				found = true
			}
		}
		if !found {
			return nil, errorf("InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
		}
	}
	for _, r := range rules {
		for i, e := range *existing {
			if e.same(r) {
				*existing = append((*existing)[:i], (*existing)[i+1:]...)
				break
			}
		}
	}
	return xReturn{true}, nil
}

// --- key pairs

func (s *Server) ec2CreateKeyPair(c *reqCtx) (any, error) {
	f := qform(c.form)
	st := c.rs.ec2
	name := f.get("KeyName")
	if name == "" {
		return nil, errorf("MissingParameter", "The request must contain the parameter KeyName")
	}
	if st.keys[name] != nil {
		return nil, errorf("InvalidKeyPair.Duplicate", "The keypair '%s' already exists.", name)
	}
	kt := f.get("KeyType")
	if kt == "" {
		kt = "rsa"
	}
	var material, fp, pub string
	switch kt {
	case "rsa":
		key, err := rsa.GenerateKey(randReader{}, 2048)
		if err != nil {
			return nil, err
		}
		der := x509.MarshalPKCS1PrivateKey(key)
		material = strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der})))
		pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
		sum := sha1.Sum(pkcs8)
		fp = colonHex(sum[:])
		pub = sshRSAPublicKey(&key.PublicKey) + " " + name
	case "ed25519":
		pk, sk, err := ed25519.GenerateKey(randReader{})
		if err != nil {
			return nil, err
		}
		der, _ := x509.MarshalPKCS8PrivateKey(sk)
		material = strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
		blob := sshString([]byte("ssh-ed25519"))
		blob = append(blob, sshString(pk)...)
		sum := sha256sum(blob)
		fp = base64.RawStdEncoding.EncodeToString(sum[:]) + "="
		pub = "ssh-ed25519 " + base64.StdEncoding.EncodeToString(blob) + " " + name
	default:
		return nil, errorf("InvalidParameterValue", "Invalid value '%s' for keyType.", kt)
	}
	k := &keyPair{id: "key-" + randHex(17), name: name, fingerprint: fp, keyType: kt, publicKey: pub, tags: f.tagSpec("key-pair"), created: c.now}
	st.keys[name] = k
	return struct {
		KeyName        string `xml:"keyName"`
		KeyFingerprint string `xml:"keyFingerprint"`
		KeyMaterial    string `xml:"keyMaterial"`
		KeyPairID      string `xml:"keyPairId"`
		Tags           []xTag `xml:"tagSet>item"`
	}{name, fp, material, k.id, xTags(k.tags)}, nil
}

func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02x", x)
	}
	return strings.Join(parts, ":")
}

func (s *Server) ec2DeleteKeyPair(c *reqCtx) (any, error) {
	f := qform(c.form)
	st := c.rs.ec2
	name, id := f.get("KeyName"), f.get("KeyPairId")
	var k *keyPair
	if name != "" {
		k = st.keys[name]
	} else {
		for _, kk := range st.keys {
			if kk.id == id {
				k = kk
			}
		}
		if k == nil && id != "" {
			return nil, errorf("InvalidKeyPair.NotFound", "The key pair '%s' does not exist", id)
		}
	}
	out := struct {
		Return    bool   `xml:"return"`
		KeyPairID string `xml:"keyPairId,omitempty"`
	}{Return: true}
	if k != nil {
		delete(st.keys, k.name)
		out.KeyPairID = k.id
	}
	return out, nil
}

func (s *Server) ec2DescribeKeyPairs(c *reqCtx) (any, error) {
	f := qform(c.form)
	st := c.rs.ec2
	names, ids := f.list("KeyName"), f.list("KeyPairId")
	for _, n := range names {
		if st.keys[n] == nil {
			return nil, errorf("InvalidKeyPair.NotFound", "The key pair '%s' does not exist", n)
		}
	}
	for _, id := range ids {
		found := false
		for _, k := range st.keys {
			found = found || k.id == id
		}
		if !found {
			return nil, errorf("InvalidKeyPair.NotFound", "The key pair '%s' does not exist", id)
		}
	}
	includePub := f.get("IncludePublicKey") == "true"
	var out struct {
		Keys []xKeyPair `xml:"keySet>item"`
	}
	for _, n := range sortedKeys(st.keys) {
		k := st.keys[n]
		if len(names) > 0 && !contains(names, n) || len(ids) > 0 && !contains(ids, k.id) {
			continue
		}
		if !matchFilters(f.filters(), k.tags, func(fn string) []string {
			switch fn {
			case "key-name":
				return []string{k.name}
			case "key-pair-id":
				return []string{k.id}
			case "fingerprint":
				return []string{k.fingerprint}
			}
			return nil
		}) {
			continue
		}
		x := xKeyPair{KeyPairID: k.id, KeyFingerprint: k.fingerprint, KeyName: k.name, KeyType: k.keyType, Tags: xTags(k.tags), CreateTime: k.created.UTC().Format(ec2TimeFmt)}
		if includePub {
			x.PublicKey = k.publicKey
		}
		out.Keys = append(out.Keys, x)
	}
	return out, nil
}

// --- launch templates

func (s *Server) ec2CreateLaunchTemplate(c *reqCtx) (any, error) {
	f := qform(c.form)
	st := c.rs.ec2
	name := f.get("LaunchTemplateName")
	if name == "" {
		return nil, errorf("MissingParameter", "The request must contain the parameter LaunchTemplateName")
	}
	for _, lt := range st.lts {
		if lt.name == name {
			return nil, errorf("InvalidLaunchTemplateName.AlreadyExistsException", "Launch template name already in use.")
		}
	}
	d := "LaunchTemplateData."
	data := ltData{imageID: f.get(d + "ImageId"), instanceType: f.get(d + "InstanceType"), keyName: f.get(d + "KeyName"),
		userData: f.get(d + "UserData"), profileArn: f.get(d + "IamInstanceProfile.Arn"), profileName: f.get(d + "IamInstanceProfile.Name"),
		sgIDs: f.list(d + "SecurityGroupId")}
	for i := 1; i <= f.count(d+"NetworkInterface"); i++ {
		data.sgIDs = append(data.sgIDs, f.list(fmt.Sprintf("%sNetworkInterface.%d.SecurityGroupId", d, i))...)
	}
	for _, id := range data.sgIDs {
		if st.sgs[id] == nil {
			return nil, errorf("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
		}
	}
	if data.imageID != "" && !strings.HasPrefix(data.imageID, "resolve:ssm:") && st.amis[data.imageID] == nil {
		return nil, errorf("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", data.imageID)
	}
	if data.keyName != "" && st.keys[data.keyName] == nil {
		return nil, errorf("InvalidKeyPair.NotFound", "The key pair '%s' does not exist", data.keyName)
	}
	if data.userData != "" {
		if _, err := base64.StdEncoding.DecodeString(data.userData); err != nil {
			return nil, errorf("InvalidUserData.Malformed", "Invalid BASE64 encoding of user data.")
		}
	}
	lt := &launchTemplate{id: "lt-" + randHex(17), name: name, created: c.now, data: data, tags: f.tagSpec("launch-template"), versions: 1}
	st.lts[lt.id] = lt
	return struct {
		LT xLaunchTemplate `xml:"launchTemplate"`
	}{s.ltXML(c, lt)}, nil
}

func (s *Server) ltXML(c *reqCtx, lt *launchTemplate) xLaunchTemplate {
	return xLaunchTemplate{LaunchTemplateID: lt.id, LaunchTemplateName: lt.name, CreateTime: lt.created.UTC().Format(ec2TimeFmt),
		CreatedBy: fmt.Sprintf("arn:aws:iam::%s:root", c.account()), DefaultVersionNumber: 1, LatestVersionNumber: lt.versions, Tags: xTags(lt.tags)}
}

func (st *ec2State) findLT(id, name string) (*launchTemplate, error) {
	if id != "" {
		if lt := st.lts[id]; lt != nil {
			return lt, nil
		}
		return nil, errorf("InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID %s, does not exist.", id)
	}
	for _, lt := range st.lts {
		if lt.name == name {
			return lt, nil
		}
	}
	return nil, errorf("InvalidLaunchTemplateName.NotFoundException", "The specified launch template, with template name %s, does not exist.", name)
}

func (s *Server) ec2DeleteLaunchTemplate(c *reqCtx) (any, error) {
	f := qform(c.form)
	lt, err := c.rs.ec2.findLT(f.get("LaunchTemplateId"), f.get("LaunchTemplateName"))
	if err != nil {
		return nil, err
	}
	delete(c.rs.ec2.lts, lt.id)
	return struct {
		LT xLaunchTemplate `xml:"launchTemplate"`
	}{s.ltXML(c, lt)}, nil
}

func (s *Server) ec2DescribeLaunchTemplates(c *reqCtx) (any, error) {
	f := qform(c.form)
	st := c.rs.ec2
	ids, names := f.list("LaunchTemplateId"), f.list("LaunchTemplateName")
	for _, id := range ids {
		if _, err := st.findLT(id, ""); err != nil {
			return nil, err
		}
	}
	for _, n := range names {
		if _, err := st.findLT("", n); err != nil {
			return nil, err
		}
	}
	var out struct {
		LTs []xLaunchTemplate `xml:"launchTemplates>item"`
	}
	for _, id := range sortedKeys(st.lts) {
		lt := st.lts[id]
		if len(ids) > 0 && !contains(ids, id) || len(names) > 0 && !contains(names, lt.name) {
			continue
		}
		if !matchFilters(f.filters(), lt.tags, func(n string) []string {
			if n == "launch-template-name" {
				return []string{lt.name}
			}
			return nil
		}) {
			continue
		}
		out.LTs = append(out.LTs, s.ltXML(c, lt))
	}
	return out, nil
}

// --- instances

var stateCodes = map[string]int{"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}

func (s *Server) ec2DescribeInstances(c *reqCtx) (any, error) {
	f := qform(c.form)
	st := c.rs.ec2
	ids := f.list("InstanceId")
	for _, id := range ids {
		if st.instances[id] == nil {
			return nil, errorf("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
		}
	}
	var out struct {
		Res []xReservation `xml:"reservationSet>item"`
	}
	for _, id := range sortedKeys(st.instances) {
		in := st.instances[id]
		if len(ids) > 0 && !contains(ids, id) {
			continue
		}
		if !matchFilters(f.filters(), in.tags, func(n string) []string {
			switch n {
			case "instance-id":
				return []string{in.id}
			case "instance-state-name":
				return []string{in.state}
			case "vpc-id":
				return []string{in.vpcID}
			case "subnet-id":
				return []string{in.subnetID}
			case "image-id":
				return []string{in.imageID}
			case "instance-type":
				return []string{in.instanceType}
			case "availability-zone":
				return []string{in.az}
			case "key-name":
				return []string{in.keyName}
			case "instance.group-id", "group-id":
				return in.sgIDs
			case "private-ip-address":
				return []string{in.privateIP}
			}
			return nil
		}) {
			continue
		}
		x := xInstance{InstanceID: in.id, ImageID: in.imageID, StateCode: stateCodes[in.state], StateName: in.state,
			PrivateDNSName: "ip-" + strings.ReplaceAll(in.privateIP, ".", "-") + ".ec2.internal", KeyName: in.keyName, InstanceType: in.instanceType,
			LaunchTime: in.launched.UTC().Format(ec2TimeFmt), AvailabilityZone: in.az, Tenancy: "default", SubnetID: in.subnetID, VpcID: in.vpcID,
			PrivateIPAddress: in.privateIP, Architecture: "x86_64", RootDeviceType: "ebs", VirtualizationType: "hvm", Hypervisor: "xen",
			ProfileArn: in.profileArn, Tags: xTags(in.tags)}
		for _, g := range in.sgIDs {
			name := ""
			if sg := st.sgs[g]; sg != nil {
				name = sg.name
			}
			x.Groups = append(x.Groups, xGroupNm{g, name})
		}
		out.Res = append(out.Res, xReservation{ReservationID: "r-" + in.id[2:], OwnerID: c.account(), Instances: []xInstance{x}})
	}
	return out, nil
}

func (s *Server) ec2TerminateInstances(c *reqCtx) (any, error) {
	f := qform(c.form)
	st := c.rs.ec2
	ids := f.list("InstanceId")
	for _, id := range ids {
		if st.instances[id] == nil {
			return nil, errorf("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
		}
	}
	type change struct {
		InstanceID string `xml:"instanceId"`
		CurCode    int    `xml:"currentState>code"`
		CurName    string `xml:"currentState>name"`
		PrevCode   int    `xml:"previousState>code"`
		PrevName   string `xml:"previousState>name"`
	}
	var out struct {
		Changes []change `xml:"instancesSet>item"`
	}
	for _, id := range ids {
		in := st.instances[id]
		prev := in.state
		s.terminateInstance(c.rs, in, c.now)
		if in.asg != "" {
			if g := c.rs.asg.groups[in.asg]; g != nil {
				g.removeInstance(in.id)
			}
		}
		out.Changes = append(out.Changes, change{id, stateCodes[in.state], in.state, stateCodes[prev], prev})
	}
	return out, nil
}

func (s *Server) ec2DescribeImages(c *reqCtx) (any, error) {
	f := qform(c.form)
	st := c.rs.ec2
	ids := f.list("ImageId")
	for _, id := range ids {
		if st.amis[id] == nil {
			return nil, errorf("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", id)
		}
	}
	var out struct {
		Images []xImage `xml:"imagesSet>item"`
	}
	for _, id := range sortedKeys(st.amis) {
		im := st.amis[id]
		if len(ids) > 0 && !contains(ids, id) {
			continue
		}
		if !matchFilters(f.filters(), nil, func(n string) []string {
			switch n {
			case "name":
				return []string{im.name}
			case "image-id":
				return []string{im.id}
			case "architecture":
				return []string{im.arch}
			case "state":
				return []string{"available"}
			}
			return nil
		}) {
			continue
		}
		out.Images = append(out.Images, xImage{ImageID: im.id, ImageLocation: "amazon/" + im.name, ImageState: "available", ImageOwnerID: "591542846629",
			CreationDate: im.created.Format(ec2TimeFmt), IsPublic: true, Architecture: im.arch, ImageType: "machine", Name: im.name, Description: im.desc,
			RootDeviceType: "ebs", RootDeviceName: "/dev/xvda", VirtualizationType: "hvm", Hypervisor: "xen", PlatformDetails: "Linux/UNIX"})
	}
	return out, nil
}

// --- tags

func (st *ec2State) tagsOf(id string) (*map[string]string, error) {
	switch {
	case strings.HasPrefix(id, "sg-"):
		if sg := st.sgs[id]; sg != nil {
			return &sg.tags, nil
		}
		return nil, errorf("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
	case strings.HasPrefix(id, "vpc-"):
		if v := st.vpcs[id]; v != nil {
			return &v.tags, nil
		}
		return nil, errorf("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", id)
	case strings.HasPrefix(id, "subnet-"):
		if v := st.subnets[id]; v != nil {
			return &v.tags, nil
		}
		return nil, errorf("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
	case strings.HasPrefix(id, "i-"):
		if v := st.instances[id]; v != nil {
			return &v.tags, nil
		}
		return nil, errorf("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
	case strings.HasPrefix(id, "key-"):
		for _, k := range st.keys {
			if k.id == id {
				return &k.tags, nil
			}
		}
		return nil, errorf("InvalidKeyPairId.NotFound", "The key pair ID '%s' does not exist", id)
	case strings.HasPrefix(id, "lt-"):
		if v := st.lts[id]; v != nil {
			return &v.tags, nil
		}
		return nil, errorf("InvalidLaunchTemplateId.NotFound", "The launch template ID '%s' does not exist", id)
	}
	return nil, errorf("InvalidID", "The ID '%s' is not valid", id)
}

func (s *Server) ec2CreateTags(c *reqCtx) (any, error) {
	f := qform(c.form)
	ids := f.list("ResourceId")
	tags := f.tags("Tag")
	for _, id := range ids {
		if _, err := c.rs.ec2.tagsOf(id); err != nil {
			return nil, err
		}
	}
	for _, id := range ids {
		tp, _ := c.rs.ec2.tagsOf(id)
		if *tp == nil {
			*tp = map[string]string{}
		}
		for k, v := range tags {
			(*tp)[k] = v
		}
	}
	return xReturn{true}, nil
}

func (s *Server) ec2DeleteTags(c *reqCtx) (any, error) {
	f := qform(c.form)
	ids := f.list("ResourceId")
	for _, id := range ids {
		if _, err := c.rs.ec2.tagsOf(id); err != nil {
			return nil, err
		}
	}
	n := f.count("Tag")
	for _, id := range ids {
		tp, _ := c.rs.ec2.tagsOf(id)
		if n == 0 {
			*tp = nil
			continue
		}
		for i := 1; i <= n; i++ {
			p := "Tag." + strconv.Itoa(i)
			k := f.get(p + ".Key")
			if _, hasV := c.form[p+".Value"]; hasV && (*tp)[k] != f.get(p+".Value") {
				continue
			}
			delete(*tp, k)
		}
	}
	return xReturn{true}, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
