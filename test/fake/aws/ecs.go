package fake

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// ---------------------------------------------------------------------------
// state

type ecsState struct {
	clusters map[string]*ecsCluster   // by name
	taskDefs map[string][]*ecsTaskDef // family -> revisions (index = revision-1; nil = deleted)
	cps      map[string]*capProvider  // by name
}

type ecsCluster struct {
	name, arn, status string
	tags              map[string]string
	settings          []ecstypes.ClusterSetting
	config            *ecstypes.ClusterConfiguration
	cps               []string
	defaultStrategy   []ecstypes.CapacityProviderStrategyItem
	services          map[string]*ecsService
	tasks             map[string]*ecsTask
	instances         map[string]*containerInstance
	taskOrder         []string
}

type ecsTaskDef struct {
	td       ecstypes.TaskDefinition
	tags     map[string]string
	deleteAt time.Time
}

type capProvider struct {
	name, arn, asgArn, asgName string
	status, updateStatus       string
	updateReason               string
	tags                       map[string]string
	provider                   *ecstypes.AutoScalingGroupProvider
	since                      time.Time
}

type containerInstance struct {
	id, arn, ec2ID, cp, az string
	status                 string
	registered             time.Time
	cpu, mem               int32
	ip                     string
	tags                   map[string]string
}

type ecsService struct {
	name, arn, cluster, status string
	desired                    int32
	launchType                 ecstypes.LaunchType
	strategy                   []ecstypes.CapacityProviderStrategyItem
	netConfig                  *ecstypes.NetworkConfiguration
	lbs                        []ecstypes.LoadBalancer
	tags                       map[string]string
	deployments                []*ecsDeployment // [0] is PRIMARY
	events                     []ecstypes.ServiceEvent
	created                    time.Time
	deployCfg                  *ecstypes.DeploymentConfiguration
	grace                      *int32
	enableExec, managedTags    bool
	propagate                  ecstypes.PropagateTags
	scheduling                 ecstypes.SchedulingStrategy
	steady                     bool
	lastPlaceEvent             time.Time
	lastFailEvent              time.Time
	subnetRR                   int
	inactiveSince              time.Time
}

type ecsDeployment struct {
	id, status, taskDef string
	desired             int32
	created, updated    time.Time
	rollout             ecstypes.DeploymentRolloutState
	reason              string
	failed              int32
	launchType          ecstypes.LaunchType
	strategy            []ecstypes.CapacityProviderStrategyItem
	netConfig           *ecstypes.NetworkConfiguration
}

type ecsTask struct {
	id, arn, cluster, service, deployment, taskDefArn string
	lastStatus, desiredStatus                         string
	created, since                                    time.Time
	started, stopping, stopped, pullStart, pullStop   time.Time
	launchType                                        ecstypes.LaunchType
	cp                                                string
	containerInst, ec2ID                              string
	az, subnet, privateIP, eniID                      string
	sgIDs                                             []string
	hostPort                                          map[string]int32 // container name -> host port (bridge)
	failReason                                        string
	containerReason                                   string
	stoppedReason                                     string
	stopCode                                          ecstypes.TaskStopCode
	exitCode                                          *int32
	startedBy, group                                  string
	oneOff                                            bool
	tags                                              map[string]string
	targets                                           []targetRef
	cpu, mem                                          string
	overrides                                         *ecstypes.TaskOverride
	logStreams                                        []logRef
}

type targetRef struct {
	tgArn, id string
	port      int32
}

type logRef struct {
	region, group, stream string
}

type taskFailure struct {
	family, reason string
	times          int
}

func newECSState() *ecsState {
	return &ecsState{clusters: map[string]*ecsCluster{}, taskDefs: map[string][]*ecsTaskDef{}, cps: map[string]*capProvider{}}
}

func (st *ecsState) allTasks() []*ecsTask {
	var out []*ecsTask
	for _, cl := range st.clusters {
		for _, t := range cl.tasks {
			out = append(out, t)
		}
	}
	return out
}

func (st *ecsState) inventory() []Resource {
	var out []Resource
	for _, cl := range st.clusters {
		if cl.status != "ACTIVE" {
			continue
		}
		out = append(out, Resource{Service: "ecs", Type: "cluster", ID: cl.arn, Name: cl.name, Status: cl.status, Tags: copyTags(cl.tags)})
		for _, sv := range cl.services {
			if sv.status == "INACTIVE" {
				continue
			}
			out = append(out, Resource{Service: "ecs", Type: "service", ID: sv.arn, Name: sv.name, Status: sv.status, Tags: copyTags(sv.tags)})
		}
		for _, t := range cl.tasks {
			if t.lastStatus != "STOPPED" && t.service == "" {
				out = append(out, Resource{Service: "ecs", Type: "task", ID: t.arn, Name: t.id, Status: t.lastStatus, Tags: copyTags(t.tags)})
			}
		}
	}
	for fam, revs := range st.taskDefs {
		for _, td := range revs {
			if td != nil && td.td.Status == ecstypes.TaskDefinitionStatusActive {
				out = append(out, Resource{Service: "ecs", Type: "task-definition", ID: str(td.td.TaskDefinitionArn), Name: fmt.Sprintf("%s:%d", fam, td.td.Revision), Status: "ACTIVE", Tags: copyTags(td.tags)})
			}
		}
	}
	for _, cp := range st.cps {
		if cp.status == "ACTIVE" {
			out = append(out, Resource{Service: "ecs", Type: "capacity-provider", ID: cp.arn, Name: cp.name, Status: cp.status, Tags: copyTags(cp.tags)})
		}
	}
	return out
}

// FailImage makes every ECS task whose container image contains substr fail
// to start (STOPPED, stopCode TaskFailedToStart) with a
// CannotPullContainerError; reason overrides the stopped reason.
func (s *Server) FailImage(substr, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failImages[substr] = reason
}

// InjectTaskFailure makes the next `times` tasks of the task definition
// family (any family if "") stop right after starting with the given
// stoppedReason (times -1: always).
func (s *Server) InjectTaskFailure(family, reason string, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.taskFails = append(s.taskFails, &taskFailure{family: family, reason: reason, times: times})
}

// ---------------------------------------------------------------------------
// helpers

func (c *reqCtx) ecsArn(resource string) string { return c.arn("ecs", resource) }

func lastSegment(s string) string {
	if i := strings.LastIndex(s, "/"); i >= 0 {
		return s[i+1:]
	}
	return s
}

func (st *ecsState) cluster(ref string) (*ecsCluster, error) {
	name := ref
	if name == "" {
		name = "default"
	}
	if strings.HasPrefix(name, "arn:") {
		name = lastSegment(name)
	}
	cl := st.clusters[name]
	if cl == nil || cl.status != "ACTIVE" {
		return nil, errorf("ClusterNotFoundException", "Cluster not found.")
	}
	return cl, nil
}

func (cl *ecsCluster) service(ref string) *ecsService {
	return cl.services[lastSegment(ref)]
}

func (st *ecsState) taskDef(ref string) *ecsTaskDef {
	ref = strings.TrimPrefix(ref, "")
	if strings.HasPrefix(ref, "arn:") {
		ref = lastSegment(ref)
	}
	fam, rev, hasRev := strings.Cut(ref, ":")
	revs := st.taskDefs[fam]
	if !hasRev {
		for i := len(revs) - 1; i >= 0; i-- {
			if revs[i] != nil && revs[i].td.Status == ecstypes.TaskDefinitionStatusActive {
				return revs[i]
			}
		}
		return nil
	}
	n, err := strconv.Atoi(rev)
	if err != nil || n < 1 || n > len(revs) {
		return nil
	}
	return revs[n-1]
}

func ecsTags(in []ecstypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range in {
		m[str(t.Key)] = str(t.Value)
	}
	return m
}

func ecsTagList(m map[string]string) []ecstypes.Tag {
	out := []ecstypes.Tag{}
	for _, k := range sortedKeys(m) {
		out = append(out, ecstypes.Tag{Key: ptr(k), Value: ptr(m[k])})
	}
	return out
}

func includes[T ~string](list []T, v string) bool {
	for _, x := range list {
		if string(x) == v {
			return true
		}
	}
	return false
}

func (sv *ecsService) event(now time.Time, format string, args ...any) {
	msg := fmt.Sprintf("(service %s) ", sv.name) + fmt.Sprintf(format, args...)
	ev := ecstypes.ServiceEvent{Id: ptr(newUUID()), CreatedAt: ptr(now), Message: ptr(msg)}
	sv.events = append([]ecstypes.ServiceEvent{ev}, sv.events...)
	if len(sv.events) > 100 {
		sv.events = sv.events[:100]
	}
}

func newDeploymentID() string {
	return fmt.Sprintf("ecs-svc/%019d", rand.Int64N(9e18))
}

// ---------------------------------------------------------------------------
// output builders

func (s *Server) clusterOut(c *reqCtx, cl *ecsCluster, withTags bool) *ecstypes.Cluster {
	out := &ecstypes.Cluster{ClusterArn: ptr(cl.arn), ClusterName: ptr(cl.name), Status: ptr(cl.status),
		CapacityProviders: append([]string{}, cl.cps...), DefaultCapacityProviderStrategy: append([]ecstypes.CapacityProviderStrategyItem{}, cl.defaultStrategy...),
		Settings: cl.settings, Configuration: cl.config, Statistics: []ecstypes.KeyValuePair{}, Attachments: []ecstypes.Attachment{}}
	if cl.status == "ACTIVE" {
		out.AttachmentsStatus = ptr("UPDATE_COMPLETE")
		for _, ci := range cl.instances {
			if ci.status == "ACTIVE" || ci.status == "DRAINING" {
				out.RegisteredContainerInstancesCount++
			}
		}
		for _, t := range cl.tasks {
			switch t.lastStatus {
			case "RUNNING":
				out.RunningTasksCount++
			case "PROVISIONING", "PENDING", "ACTIVATING":
				out.PendingTasksCount++
			}
		}
		for _, sv := range cl.services {
			if sv.status == "ACTIVE" || sv.status == "DRAINING" {
				out.ActiveServicesCount++
			}
		}
	}
	if withTags {
		out.Tags = ecsTagList(cl.tags)
	}
	return out
}

func (s *Server) serviceOut(c *reqCtx, cl *ecsCluster, sv *ecsService, withTags bool) *ecstypes.Service {
	out := &ecstypes.Service{ServiceArn: ptr(sv.arn), ServiceName: ptr(sv.name), ClusterArn: ptr(cl.arn), Status: ptr(sv.status),
		DesiredCount: sv.desired, LaunchType: sv.launchType, CapacityProviderStrategy: sv.strategy, NetworkConfiguration: sv.netConfig,
		LoadBalancers: append([]ecstypes.LoadBalancer{}, sv.lbs...), CreatedAt: ptr(sv.created), CreatedBy: ptr(fmt.Sprintf("arn:aws:iam::%s:user/cld-fake", c.account())),
		DeploymentConfiguration: sv.deployCfg, HealthCheckGracePeriodSeconds: sv.grace, EnableExecuteCommand: sv.enableExec,
		EnableECSManagedTags: sv.managedTags, PropagateTags: sv.propagate, SchedulingStrategy: sv.scheduling,
		DeploymentController: &ecstypes.DeploymentController{Type: ecstypes.DeploymentControllerTypeEcs},
		Events:               append([]ecstypes.ServiceEvent{}, sv.events...), Deployments: []ecstypes.Deployment{}, ServiceRegistries: []ecstypes.ServiceRegistry{},
		PlacementConstraints: []ecstypes.PlacementConstraint{}, PlacementStrategy: []ecstypes.PlacementStrategy{}}
	if sv.launchType == ecstypes.LaunchTypeFargate {
		out.PlatformVersion = ptr("LATEST")
		out.PlatformFamily = ptr("Linux")
	}
	if len(sv.deployments) > 0 {
		out.TaskDefinition = ptr(sv.deployments[0].taskDef)
		out.CurrentServiceDeployment = ptr(fmt.Sprintf("arn:aws:ecs:%s:%s:service-deployment/%s/%s/%s", c.region, c.account(), cl.name, sv.name, strings.TrimPrefix(sv.deployments[0].id, "ecs-svc/")))
	}
	for _, d := range sv.deployments {
		run, pend := sv.counts(cl, d.id)
		out.RunningCount += run
		out.PendingCount += pend
		out.Deployments = append(out.Deployments, ecstypes.Deployment{Id: ptr(d.id), Status: ptr(d.status), TaskDefinition: ptr(d.taskDef),
			DesiredCount: d.desired, RunningCount: run, PendingCount: pend, FailedTasks: d.failed, CreatedAt: ptr(d.created), UpdatedAt: ptr(d.updated),
			LaunchType: d.launchType, CapacityProviderStrategy: d.strategy, NetworkConfiguration: d.netConfig, RolloutState: d.rollout, RolloutStateReason: nilIfEmpty(d.reason)})
	}
	if withTags {
		out.Tags = ecsTagList(sv.tags)
	}
	return out
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// counts returns RUNNING and pending (PROVISIONING/PENDING/ACTIVATING) tasks
// of one deployment that are meant to run.
func (sv *ecsService) counts(cl *ecsCluster, depID string) (running, pending int32) {
	for _, t := range cl.tasks {
		if t.service != sv.name || t.deployment != depID {
			continue
		}
		switch t.lastStatus {
		case "RUNNING":
			if t.desiredStatus == "RUNNING" {
				running++
			}
		case "PROVISIONING", "PENDING", "ACTIVATING":
			if t.desiredStatus == "RUNNING" {
				pending++
			}
		}
	}
	return
}

func (s *Server) taskOut(c *reqCtx, cl *ecsCluster, t *ecsTask, withTags bool) *ecstypes.Task {
	out := &ecstypes.Task{TaskArn: ptr(t.arn), ClusterArn: ptr(cl.arn), TaskDefinitionArn: ptr(t.taskDefArn), LastStatus: ptr(t.lastStatus),
		DesiredStatus: ptr(t.desiredStatus), CreatedAt: ptr(t.created), LaunchType: t.launchType, Group: nilIfEmpty(t.group),
		StartedBy: nilIfEmpty(t.startedBy), AvailabilityZone: nilIfEmpty(t.az), Cpu: nilIfEmpty(t.cpu), Memory: nilIfEmpty(t.mem),
		Version: 1, Overrides: t.overrides, Attachments: []ecstypes.Attachment{}, Attributes: []ecstypes.Attribute{}, HealthStatus: ecstypes.HealthStatusUnknown}
	if out.Overrides == nil {
		out.Overrides = &ecstypes.TaskOverride{ContainerOverrides: []ecstypes.ContainerOverride{}}
	}
	if t.cp != "" {
		out.CapacityProviderName = ptr(t.cp)
	}
	if t.containerInst != "" {
		out.ContainerInstanceArn = ptr(c.ecsArn("container-instance/" + cl.name + "/" + t.containerInst))
	}
	if t.launchType == ecstypes.LaunchTypeFargate {
		out.PlatformVersion = ptr("1.4.0")
		out.PlatformFamily = ptr("Linux")
	}
	setT := func(p **time.Time, v time.Time) {
		if !v.IsZero() {
			*p = ptr(v)
		}
	}
	setT(&out.PullStartedAt, t.pullStart)
	setT(&out.PullStoppedAt, t.pullStop)
	setT(&out.StartedAt, t.started)
	setT(&out.ConnectivityAt, t.started)
	setT(&out.StoppingAt, t.stopping)
	setT(&out.StoppedAt, t.stopped)
	setT(&out.ExecutionStoppedAt, t.stopped)
	if !t.started.IsZero() {
		out.Connectivity = ecstypes.ConnectivityConnected
	}
	if t.stoppedReason != "" {
		out.StoppedReason = ptr(t.stoppedReason)
		out.StopCode = t.stopCode
	}
	if t.eniID != "" {
		status := "ATTACHED"
		switch t.lastStatus {
		case "PROVISIONING":
			status = "PRECREATED"
		case "STOPPED":
			status = "DELETED"
		}
		out.Attachments = append(out.Attachments, ecstypes.Attachment{Id: ptr(newUUIDFrom(t.eniID)), Type: ptr("ElasticNetworkInterface"), Status: ptr(status),
			Details: []ecstypes.KeyValuePair{
				{Name: ptr("subnetId"), Value: ptr(t.subnet)},
				{Name: ptr("networkInterfaceId"), Value: ptr(t.eniID)},
				{Name: ptr("macAddress"), Value: ptr("0e:" + t.eniID[4:6] + ":" + t.eniID[6:8] + ":" + t.eniID[8:10] + ":" + t.eniID[10:12] + ":" + t.eniID[12:14])},
				{Name: ptr("privateDnsName"), Value: ptr("ip-" + strings.ReplaceAll(t.privateIP, ".", "-") + ".ec2.internal")},
				{Name: ptr("privateIPv4Address"), Value: ptr(t.privateIP)},
			}})
	}
	rs := c.rs
	if td := rs.ecs.taskDef(t.taskDefArn); td != nil {
		for _, cd := range td.td.ContainerDefinitions {
			ct := ecstypes.Container{ContainerArn: ptr(c.ecsArn("container/" + cl.name + "/" + t.id + "/" + newUUIDFrom(t.id+str(cd.Name)))),
				TaskArn: ptr(t.arn), Name: cd.Name, Image: cd.Image, LastStatus: ptr(containerStatus(t.lastStatus)), HealthStatus: ecstypes.HealthStatusUnknown,
				NetworkBindings: []ecstypes.NetworkBinding{}, NetworkInterfaces: []ecstypes.NetworkInterface{}}
			if t.lastStatus == "RUNNING" || t.lastStatus == "STOPPED" && !t.started.IsZero() {
				ct.RuntimeId = ptr(t.id + "-" + randHexFrom(t.id+str(cd.Name), 10))
				ct.ImageDigest = ptr("sha256:" + randHexFrom(str(cd.Image), 64))
			}
			if t.lastStatus == "STOPPED" {
				if t.containerReason != "" {
					ct.Reason = ptr(t.containerReason)
				} else if t.exitCode != nil {
					ct.ExitCode = t.exitCode
				}
			}
			if t.eniID != "" {
				ct.NetworkInterfaces = append(ct.NetworkInterfaces, ecstypes.NetworkInterface{AttachmentId: ptr(newUUIDFrom(t.eniID)), PrivateIpv4Address: ptr(t.privateIP)})
			} else if t.lastStatus == "RUNNING" {
				for _, pm := range cd.PortMappings {
					hp := t.hostPort[str(cd.Name)+"/"+strconv.Itoa(int(i32(pm.ContainerPort)))]
					ct.NetworkBindings = append(ct.NetworkBindings, ecstypes.NetworkBinding{BindIP: ptr("0.0.0.0"), ContainerPort: pm.ContainerPort, HostPort: ptr(hp), Protocol: ecstypes.TransportProtocolTcp})
				}
			}
			out.Containers = append(out.Containers, ct)
		}
	}
	if withTags {
		out.Tags = ecsTagList(t.tags)
	}
	return out
}

func containerStatus(taskStatus string) string {
	switch taskStatus {
	case "RUNNING", "STOPPED":
		return taskStatus
	case "DEACTIVATING", "STOPPING", "DEPROVISIONING":
		return "RUNNING"
	}
	return "PENDING"
}

// newUUIDFrom derives a stable UUID-shaped id from a seed.
func newUUIDFrom(seed string) string {
	h := randHexFrom(seed, 32)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

func randHexFrom(seed string, n int) string {
	var out strings.Builder
	for i := 0; out.Len() < n; i++ {
		sum := sha256sum([]byte(fmt.Sprintf("%d/%s", i, seed)))
		out.WriteString(fmt.Sprintf("%x", sum[:]))
	}
	return out.String()[:n]
}

func (s *Server) ciOut(c *reqCtx, cl *ecsCluster, ci *containerInstance) ecstypes.ContainerInstance {
	out := ecstypes.ContainerInstance{ContainerInstanceArn: ptr(c.ecsArn("container-instance/" + cl.name + "/" + ci.id)), Ec2InstanceId: ptr(ci.ec2ID),
		Status: ptr(ci.status), AgentConnected: ci.status == "ACTIVE", RegisteredAt: ptr(ci.registered), Version: 1,
		VersionInfo:         &ecstypes.VersionInfo{AgentVersion: ptr("1.90.0"), AgentHash: ptr("abcdef12"), DockerVersion: ptr("DockerVersion: 25.0.8")},
		RegisteredResources: resources(ci.cpu, ci.mem), Attributes: []ecstypes.Attribute{{Name: ptr("ecs.availability-zone"), Value: ptr(ci.az)}},
		Tags: ecsTagList(ci.tags)}
	if ci.cp != "" {
		out.CapacityProviderName = ptr(ci.cp)
	}
	usedCPU, usedMem := int32(0), int32(0)
	for _, t := range cl.tasks {
		if t.containerInst == ci.id && t.lastStatus != "STOPPED" {
			cpu, mem := s.taskResources(c.rs, t.taskDefArn)
			usedCPU += cpu
			usedMem += mem
			if t.lastStatus == "RUNNING" {
				out.RunningTasksCount++
			} else {
				out.PendingTasksCount++
			}
		}
	}
	out.RemainingResources = resources(ci.cpu-usedCPU, ci.mem-usedMem)
	return out
}

func resources(cpu, mem int32) []ecstypes.Resource {
	return []ecstypes.Resource{
		{Name: ptr("CPU"), Type: ptr("INTEGER"), IntegerValue: cpu},
		{Name: ptr("MEMORY"), Type: ptr("INTEGER"), IntegerValue: mem},
		{Name: ptr("PORTS"), Type: ptr("STRINGSET"), StringSetValue: []string{"22", "2376", "2375", "51678", "51679"}},
		{Name: ptr("PORTS_UDP"), Type: ptr("STRINGSET"), StringSetValue: []string{}},
	}
}

// taskResources is the CPU units / MiB a task of the definition reserves.
func (s *Server) taskResources(rs *regionState, tdArn string) (cpu, mem int32) {
	td := rs.ecs.taskDef(tdArn)
	if td == nil {
		return 0, 0
	}
	if v, err := strconv.Atoi(str(td.td.Cpu)); err == nil {
		cpu = int32(v)
	}
	if v, err := strconv.Atoi(str(td.td.Memory)); err == nil {
		mem = int32(v)
	}
	if cpu == 0 || mem == 0 {
		var ccpu, cmem int32
		for _, cd := range td.td.ContainerDefinitions {
			ccpu += cd.Cpu
			if cd.Memory != nil {
				cmem += *cd.Memory
			} else if cd.MemoryReservation != nil {
				cmem += *cd.MemoryReservation
			}
		}
		if cpu == 0 {
			cpu = ccpu
		}
		if mem == 0 {
			mem = cmem
		}
	}
	return
}

func (s *Server) cpOut(c *reqCtx, cp *capProvider, withTags bool) ecstypes.CapacityProvider {
	out := ecstypes.CapacityProvider{CapacityProviderArn: ptr(cp.arn), Name: ptr(cp.name), Status: ecstypes.CapacityProviderStatus(cp.status),
		UpdateStatus: ecstypes.CapacityProviderUpdateStatus(cp.updateStatus), UpdateStatusReason: nilIfEmpty(cp.updateReason),
		AutoScalingGroupProvider: cp.provider, Type: ecstypes.CapacityProviderTypeEc2Autoscaling}
	if withTags {
		out.Tags = ecsTagList(cp.tags)
	}
	return out
}

// ---------------------------------------------------------------------------
// handlers

func init() {
	register("ecs", map[string]handlerFunc{
		"CreateCluster":               (*Server).ecsCreateCluster,
		"DescribeClusters":            (*Server).ecsDescribeClusters,
		"DeleteCluster":               (*Server).ecsDeleteCluster,
		"ListClusters":                (*Server).ecsListClusters,
		"CreateCapacityProvider":      (*Server).ecsCreateCapacityProvider,
		"DeleteCapacityProvider":      (*Server).ecsDeleteCapacityProvider,
		"DescribeCapacityProviders":   (*Server).ecsDescribeCapacityProviders,
		"PutClusterCapacityProviders": (*Server).ecsPutClusterCapacityProviders,
		"RegisterTaskDefinition":      (*Server).ecsRegisterTaskDefinition,
		"DescribeTaskDefinition":      (*Server).ecsDescribeTaskDefinition,
		"DeregisterTaskDefinition":    (*Server).ecsDeregisterTaskDefinition,
		"DeleteTaskDefinitions":       (*Server).ecsDeleteTaskDefinitions,
		"ListTaskDefinitions":         (*Server).ecsListTaskDefinitions,
		"ListTaskDefinitionFamilies":  (*Server).ecsListTaskDefinitionFamilies,
		"CreateService":               (*Server).ecsCreateService,
		"UpdateService":               (*Server).ecsUpdateService,
		"DeleteService":               (*Server).ecsDeleteService,
		"DescribeServices":            (*Server).ecsDescribeServices,
		"ListServices":                (*Server).ecsListServices,
		"RunTask":                     (*Server).ecsRunTask,
		"StopTask":                    (*Server).ecsStopTask,
		"ListTasks":                   (*Server).ecsListTasks,
		"DescribeTasks":               (*Server).ecsDescribeTasks,
		"ListContainerInstances":      (*Server).ecsListContainerInstances,
		"DescribeContainerInstances":  (*Server).ecsDescribeContainerInstances,
		"DeregisterContainerInstance": (*Server).ecsDeregisterContainerInstance,
		"TagResource":                 (*Server).ecsTagResource,
		"UntagResource":               (*Server).ecsUntagResource,
		"ListTagsForResource":         (*Server).ecsListTagsForResource,
	})
}

var clusterNameRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

func (s *Server) ecsCreateCluster(c *reqCtx) (any, error) {
	var in ecs.CreateClusterInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	st := c.rs.ecs
	name := str(in.ClusterName)
	if name == "" {
		name = "default"
	}
	if !clusterNameRe.MatchString(name) {
		return nil, errorf("InvalidParameterException", "Invalid cluster name. Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.")
	}
	if cl := st.clusters[name]; cl != nil && cl.status == "ACTIVE" {
		return &ecs.CreateClusterOutput{Cluster: s.clusterOut(c, cl, true)}, nil
	}
	for _, cpn := range in.CapacityProviders {
		if err := s.checkCPName(c, cpn, ""); err != nil {
			return nil, err
		}
	}
	for _, it := range in.DefaultCapacityProviderStrategy {
		if !contains(in.CapacityProviders, str(it.CapacityProvider)) {
			return nil, errorf("InvalidParameterException", "The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.")
		}
	}
	cl := &ecsCluster{name: name, arn: c.ecsArn("cluster/" + name), status: "ACTIVE", tags: ecsTags(in.Tags), settings: in.Settings, config: in.Configuration,
		cps: in.CapacityProviders, defaultStrategy: in.DefaultCapacityProviderStrategy,
		services: map[string]*ecsService{}, tasks: map[string]*ecsTask{}, instances: map[string]*containerInstance{}}
	if cl.settings == nil {
		cl.settings = []ecstypes.ClusterSetting{{Name: ecstypes.ClusterSettingNameContainerInsights, Value: ptr("disabled")}}
	}
	st.clusters[name] = cl
	return &ecs.CreateClusterOutput{Cluster: s.clusterOut(c, cl, true)}, nil
}

func (s *Server) checkCPName(c *reqCtx, name, cluster string) error {
	if name == "FARGATE" || name == "FARGATE_SPOT" {
		return nil
	}
	cp := c.rs.ecs.cps[lastSegment(name)]
	if cp == nil || cp.status != "ACTIVE" {
		return errorf("InvalidParameterException", "The specified capacity provider '%s' does not exist. Specify a valid capacity provider and try again.", name)
	}
	for _, cl := range c.rs.ecs.clusters {
		if cl.status == "ACTIVE" && cl.name != cluster && contains(cl.cps, cp.name) {
			return errorf("InvalidParameterException", "The specified capacity provider %s is already associated with cluster %s.", cp.name, cl.name)
		}
	}
	return nil
}

func (s *Server) ecsDescribeClusters(c *reqCtx) (any, error) {
	var in ecs.DescribeClustersInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	refs := in.Clusters
	if len(refs) == 0 {
		refs = []string{"default"}
	}
	withTags := includes(in.Include, "TAGS")
	out := &ecs.DescribeClustersOutput{Clusters: []ecstypes.Cluster{}, Failures: []ecstypes.Failure{}}
	for _, ref := range refs {
		cl := c.rs.ecs.clusters[lastSegment(ref)]
		if cl == nil {
			arn := ref
			if !strings.HasPrefix(arn, "arn:") {
				arn = c.ecsArn("cluster/" + ref)
			}
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: ptr(arn), Reason: ptr("MISSING")})
			continue
		}
		out.Clusters = append(out.Clusters, *s.clusterOut(c, cl, withTags))
	}
	return out, nil
}

func (s *Server) ecsListClusters(c *reqCtx) (any, error) {
	out := &ecs.ListClustersOutput{ClusterArns: []string{}}
	for _, n := range sortedKeys(c.rs.ecs.clusters) {
		if cl := c.rs.ecs.clusters[n]; cl.status == "ACTIVE" {
			out.ClusterArns = append(out.ClusterArns, cl.arn)
		}
	}
	return out, nil
}

func (s *Server) ecsDeleteCluster(c *reqCtx) (any, error) {
	var in ecs.DeleteClusterInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	cl, err := c.rs.ecs.cluster(str(in.Cluster))
	if err != nil {
		return nil, err
	}
	for _, sv := range cl.services {
		if sv.status == "ACTIVE" || sv.status == "DRAINING" {
			return nil, errorf("ClusterContainsServicesException", "The Cluster cannot be deleted while Services are active.")
		}
	}
	for _, ci := range cl.instances {
		if ci.status == "ACTIVE" || ci.status == "DRAINING" {
			return nil, errorf("ClusterContainsContainerInstancesException", "The Cluster cannot be deleted while Container Instances are active or draining.")
		}
	}
	for _, t := range cl.tasks {
		if t.lastStatus != "STOPPED" {
			return nil, errorf("ClusterContainsTasksException", "The Cluster cannot be deleted while Tasks are active.")
		}
	}
	cl.status = "INACTIVE"
	cl.cps = nil
	cl.defaultStrategy = nil
	return &ecs.DeleteClusterOutput{Cluster: s.clusterOut(c, cl, true)}, nil
}

// --- capacity providers

func (s *Server) ecsCreateCapacityProvider(c *reqCtx) (any, error) {
	var in ecs.CreateCapacityProviderInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	st := c.rs.ecs
	name := str(in.Name)
	low := strings.ToLower(name)
	if strings.HasPrefix(low, "aws") || strings.HasPrefix(low, "ecs") || strings.HasPrefix(low, "fargate") {
		return nil, errorf("ClientException", "The specified capacity provider name is invalid. Capacity provider names cannot be prefixed with 'aws', 'ecs', or 'fargate'.")
	}
	if cp := st.cps[name]; cp != nil && cp.status == "ACTIVE" {
		return nil, errorf("ClientException", "The specified capacity provider already exists. To change the configuration of an existing capacity provider, update the capacity provider.")
	}
	if in.AutoScalingGroupProvider == nil || in.AutoScalingGroupProvider.AutoScalingGroupArn == nil {
		return nil, errorf("InvalidParameterException", "An Auto Scaling group provider must be specified.")
	}
	asgArn := str(in.AutoScalingGroupProvider.AutoScalingGroupArn)
	asgName := asgArn
	if i := strings.Index(asgArn, "autoScalingGroupName/"); i >= 0 {
		asgName = asgArn[i+len("autoScalingGroupName/"):]
	}
	g := c.rs.asg.groups[asgName]
	if g == nil || g.deleting {
		return nil, errorf("ClientException", "The specified Auto Scaling group ARN is invalid. Specify a valid Auto Scaling group ARN and try again.")
	}
	for _, cp := range st.cps {
		if cp.status == "ACTIVE" && cp.asgName == asgName {
			return nil, errorf("ClientException", "The specified Auto Scaling group ARN is already being used by another capacity provider. Specify a unique Auto Scaling group ARN and try again.")
		}
	}
	prov := *in.AutoScalingGroupProvider
	prov.AutoScalingGroupArn = ptr(g.arn)
	if prov.ManagedTerminationProtection == "" {
		prov.ManagedTerminationProtection = ecstypes.ManagedTerminationProtectionDisabled
	}
	if prov.ManagedTerminationProtection == ecstypes.ManagedTerminationProtectionEnabled && !g.protectNew {
		return nil, errorf("ClientException", "The managed termination protection setting for the capacity provider is invalid. To enable managed termination protection for a capacity provider, the Auto Scaling group must have instance protection from scale in enabled.")
	}
	if prov.ManagedScaling == nil {
		prov.ManagedScaling = &ecstypes.ManagedScaling{Status: ecstypes.ManagedScalingStatusDisabled}
	}
	if prov.ManagedScaling.TargetCapacity == nil {
		prov.ManagedScaling.TargetCapacity = ptr(int32(100))
	}
	if prov.ManagedScaling.MinimumScalingStepSize == nil {
		prov.ManagedScaling.MinimumScalingStepSize = ptr(int32(1))
	}
	if prov.ManagedScaling.MaximumScalingStepSize == nil {
		prov.ManagedScaling.MaximumScalingStepSize = ptr(int32(10000))
	}
	if prov.ManagedDraining == "" {
		prov.ManagedDraining = ecstypes.ManagedDrainingEnabled
	}
	cp := &capProvider{name: name, arn: c.ecsArn("capacity-provider/" + name), asgArn: g.arn, asgName: asgName, status: "ACTIVE",
		updateStatus: "", tags: ecsTags(in.Tags), provider: &prov, since: c.now}
	st.cps[name] = cp
	// instances already registered from this ASG now belong to the provider
	for _, cl := range st.clusters {
		for _, ci := range cl.instances {
			if in := c.rs.ec2.instances[ci.ec2ID]; in != nil && in.asg == asgName {
				ci.cp = name
			}
		}
	}
	out := s.cpOut(c, cp, true)
	return &ecs.CreateCapacityProviderOutput{CapacityProvider: &out}, nil
}

func (s *Server) ecsDeleteCapacityProvider(c *reqCtx) (any, error) {
	var in ecs.DeleteCapacityProviderInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	st := c.rs.ecs
	cp := st.cps[lastSegment(str(in.CapacityProvider))]
	if cp == nil || cp.status != "ACTIVE" {
		return nil, errorf("ClientException", "The specified capacity provider does not exist. Specify a valid name or ARN and try again.")
	}
	for _, cl := range st.clusters {
		if cl.status == "ACTIVE" && contains(cl.cps, cp.name) {
			cp.updateStatus = "DELETE_FAILED"
			cp.updateReason = fmt.Sprintf("The capacity provider cannot be deleted because it is associated with cluster: %s. Remove the capacity provider from the cluster and try again.", cl.name)
			out := s.cpOut(c, cp, true)
			return &ecs.DeleteCapacityProviderOutput{CapacityProvider: &out}, nil
		}
	}
	cp.status, cp.updateStatus, cp.updateReason, cp.since = "INACTIVE", "DELETE_IN_PROGRESS", "", c.now
	out := s.cpOut(c, cp, true)
	return &ecs.DeleteCapacityProviderOutput{CapacityProvider: &out}, nil
}

func (s *Server) ecsDescribeCapacityProviders(c *reqCtx) (any, error) {
	var in ecs.DescribeCapacityProvidersInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	withTags := includes(in.Include, "TAGS")
	out := &ecs.DescribeCapacityProvidersOutput{CapacityProviders: []ecstypes.CapacityProvider{}, Failures: []ecstypes.Failure{}}
	fargate := func(n string) ecstypes.CapacityProvider {
		return ecstypes.CapacityProvider{CapacityProviderArn: ptr(c.ecsArn("capacity-provider/" + n)), Name: ptr(n), Status: ecstypes.CapacityProviderStatusActive, Tags: []ecstypes.Tag{}}
	}
	if len(in.CapacityProviders) == 0 {
		out.CapacityProviders = append(out.CapacityProviders, fargate("FARGATE"), fargate("FARGATE_SPOT"))
		for _, n := range sortedKeys(c.rs.ecs.cps) {
			out.CapacityProviders = append(out.CapacityProviders, s.cpOut(c, c.rs.ecs.cps[n], withTags))
		}
		return out, nil
	}
	for _, ref := range in.CapacityProviders {
		n := lastSegment(ref)
		if n == "FARGATE" || n == "FARGATE_SPOT" {
			out.CapacityProviders = append(out.CapacityProviders, fargate(n))
			continue
		}
		cp := c.rs.ecs.cps[n]
		if cp == nil {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: ptr(c.ecsArn("capacity-provider/" + n)), Reason: ptr("MISSING")})
			continue
		}
		out.CapacityProviders = append(out.CapacityProviders, s.cpOut(c, cp, withTags))
	}
	return out, nil
}

func (s *Server) ecsPutClusterCapacityProviders(c *reqCtx) (any, error) {
	var in ecs.PutClusterCapacityProvidersInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	cl, err := c.rs.ecs.cluster(str(in.Cluster))
	if err != nil {
		return nil, err
	}
	for _, n := range in.CapacityProviders {
		if err := s.checkCPName(c, n, cl.name); err != nil {
			return nil, err
		}
	}
	for _, it := range in.DefaultCapacityProviderStrategy {
		if !contains(in.CapacityProviders, str(it.CapacityProvider)) {
			return nil, errorf("InvalidParameterException", "The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.")
		}
	}
	// removing a provider that a service uses fails
	for _, old := range cl.cps {
		if contains(in.CapacityProviders, old) {
			continue
		}
		for _, sv := range cl.services {
			if sv.status == "INACTIVE" {
				continue
			}
			for _, it := range sv.strategy {
				if str(it.CapacityProvider) == old {
					return nil, errorf("ResourceInUseException", "The specified capacity provider is in use and cannot be removed.")
				}
			}
		}
		for _, t := range cl.tasks {
			if t.cp == old && t.lastStatus != "STOPPED" {
				return nil, errorf("ResourceInUseException", "The specified capacity provider is in use and cannot be removed.")
			}
		}
	}
	cl.cps = append([]string{}, in.CapacityProviders...)
	cl.defaultStrategy = in.DefaultCapacityProviderStrategy
	return &ecs.PutClusterCapacityProvidersOutput{Cluster: s.clusterOut(c, cl, true)}, nil
}

// --- task definitions

var familyRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

func (s *Server) ecsRegisterTaskDefinition(c *reqCtx) (any, error) {
	var in ecs.RegisterTaskDefinitionInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	st := c.rs.ecs
	fam := str(in.Family)
	if !familyRe.MatchString(fam) {
		return nil, errorf("ClientException", "Family contains invalid characters.")
	}
	if len(in.ContainerDefinitions) == 0 {
		return nil, errorf("ClientException", "Container list cannot be empty.")
	}
	fargate := includes(in.RequiresCompatibilities, "FARGATE")
	mode := in.NetworkMode
	if fargate {
		if mode != ecstypes.NetworkModeAwsvpc {
			return nil, errorf("ClientException", "Fargate only supports network mode 'awsvpc'.")
		}
		if str(in.Cpu) == "" {
			return nil, errorf("ClientException", "Fargate requires that 'cpu' be defined at the task level.")
		}
		if str(in.Memory) == "" {
			return nil, errorf("ClientException", "Fargate requires that 'memory' be defined at the task level.")
		}
	}
	names := map[string]bool{}
	for _, cd := range in.ContainerDefinitions {
		n := str(cd.Name)
		if n == "" {
			return nil, errorf("ClientException", "Container.name should not be null or empty.")
		}
		if names[n] {
			return nil, errorf("ClientException", "Duplicate container names are not allowed.")
		}
		names[n] = true
		if str(cd.Image) == "" {
			return nil, errorf("ClientException", "Container.image should not be null or empty.")
		}
		if str(in.Memory) == "" && cd.Memory == nil && cd.MemoryReservation == nil {
			return nil, errorf("ClientException", "Invalid setting for container '%s'. At least one of 'memory' or 'memoryReservation' must be specified.", n)
		}
		if (len(cd.Secrets) > 0) && str(in.ExecutionRoleArn) == "" {
			return nil, errorf("ClientException", "When you are specifying container secrets, you must also specify a value for 'executionRoleArn'.")
		}
		if fargate && cd.LogConfiguration != nil && cd.LogConfiguration.LogDriver == ecstypes.LogDriverAwslogs && str(in.ExecutionRoleArn) == "" {
			return nil, errorf("ClientException", "Fargate requires task definition to have execution role ARN to support log driver awslogs.")
		}
		for _, pm := range cd.PortMappings {
			if mode == ecstypes.NetworkModeAwsvpc && pm.HostPort != nil && i32(pm.HostPort) != i32(pm.ContainerPort) {
				return nil, errorf("ClientException", "When networkMode=awsvpc, the host ports and container ports in port mappings must match.")
			}
		}
	}
	revs := st.taskDefs[fam]
	rev := int32(len(revs) + 1)
	defs := make([]ecstypes.ContainerDefinition, len(in.ContainerDefinitions))
	copy(defs, in.ContainerDefinitions)
	for i := range defs {
		if defs[i].Essential == nil {
			defs[i].Essential = ptr(true)
		}
		for j := range defs[i].PortMappings {
			pm := &defs[i].PortMappings[j]
			if pm.Protocol == "" {
				pm.Protocol = ecstypes.TransportProtocolTcp
			}
			if mode == ecstypes.NetworkModeAwsvpc && pm.HostPort == nil {
				pm.HostPort = pm.ContainerPort
			}
		}
		if defs[i].Environment == nil {
			defs[i].Environment = []ecstypes.KeyValuePair{}
		}
		if defs[i].MountPoints == nil {
			defs[i].MountPoints = []ecstypes.MountPoint{}
		}
		if defs[i].VolumesFrom == nil {
			defs[i].VolumesFrom = []ecstypes.VolumeFrom{}
		}
	}
	if mode == "" {
		mode = ecstypes.NetworkModeBridge
	}
	compat := []ecstypes.Compatibility{ecstypes.CompatibilityEc2}
	if mode == ecstypes.NetworkModeAwsvpc && str(in.Cpu) != "" && str(in.Memory) != "" {
		compat = append(compat, ecstypes.CompatibilityFargate)
	}
	td := &ecsTaskDef{tags: ecsTags(in.Tags), td: ecstypes.TaskDefinition{
		TaskDefinitionArn: ptr(c.ecsArn(fmt.Sprintf("task-definition/%s:%d", fam, rev))), Family: ptr(fam), Revision: rev,
		ContainerDefinitions: defs, Cpu: in.Cpu, Memory: in.Memory, NetworkMode: mode, ExecutionRoleArn: in.ExecutionRoleArn,
		TaskRoleArn: in.TaskRoleArn, RequiresCompatibilities: in.RequiresCompatibilities, Compatibilities: compat,
		Status: ecstypes.TaskDefinitionStatusActive, Volumes: in.Volumes, PlacementConstraints: in.PlacementConstraints,
		RegisteredAt: ptr(c.now), RegisteredBy: ptr(fmt.Sprintf("arn:aws:iam::%s:user/cld-fake", c.account())),
		RuntimePlatform: in.RuntimePlatform, RequiresAttributes: []ecstypes.Attribute{}, EphemeralStorage: in.EphemeralStorage,
	}}
	if td.td.Volumes == nil {
		td.td.Volumes = []ecstypes.Volume{}
	}
	if td.td.PlacementConstraints == nil {
		td.td.PlacementConstraints = []ecstypes.TaskDefinitionPlacementConstraint{}
	}
	st.taskDefs[fam] = append(revs, td)
	out := td.td
	return &ecs.RegisterTaskDefinitionOutput{TaskDefinition: &out, Tags: ecsTagList(td.tags)}, nil
}

func (s *Server) ecsDescribeTaskDefinition(c *reqCtx) (any, error) {
	var in ecs.DescribeTaskDefinitionInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	td := c.rs.ecs.taskDef(str(in.TaskDefinition))
	if td == nil || td.td.Status == ecstypes.TaskDefinitionStatusDeleteInProgress && !td.deleteAt.IsZero() && c.now.After(td.deleteAt) {
		return nil, errorf("ClientException", "Unable to describe task definition.")
	}
	out := td.td
	res := &ecs.DescribeTaskDefinitionOutput{TaskDefinition: &out}
	if includes(in.Include, "TAGS") {
		res.Tags = ecsTagList(td.tags)
	}
	return res, nil
}

func (s *Server) ecsDeregisterTaskDefinition(c *reqCtx) (any, error) {
	var in ecs.DeregisterTaskDefinitionInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	ref := str(in.TaskDefinition)
	if !strings.Contains(lastSegment(ref), ":") {
		return nil, errorf("InvalidParameterException", "Invalid revision number. Number: %s", ref)
	}
	td := c.rs.ecs.taskDef(ref)
	if td == nil || td.td.Status == ecstypes.TaskDefinitionStatusDeleteInProgress {
		return nil, errorf("ClientException", "The specified task definition does not exist. Specify a valid account, family, revision and try again.")
	}
	if td.td.Status == ecstypes.TaskDefinitionStatusActive {
		td.td.Status = ecstypes.TaskDefinitionStatusInactive
		td.td.DeregisteredAt = ptr(c.now)
	}
	out := td.td
	return &ecs.DeregisterTaskDefinitionOutput{TaskDefinition: &out}, nil
}

func (s *Server) ecsDeleteTaskDefinitions(c *reqCtx) (any, error) {
	var in ecs.DeleteTaskDefinitionsInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	out := &ecs.DeleteTaskDefinitionsOutput{TaskDefinitions: []ecstypes.TaskDefinition{}, Failures: []ecstypes.Failure{}}
	for _, ref := range in.TaskDefinitions {
		td := c.rs.ecs.taskDef(ref)
		arn := ref
		if !strings.HasPrefix(arn, "arn:") {
			arn = c.ecsArn("task-definition/" + ref)
		}
		switch {
		case !strings.Contains(lastSegment(ref), ":") || td == nil:
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: ptr(arn), Reason: ptr("TASK_DEFINITION_NOT_FOUND"), Detail: ptr("The specified task definition does not exist.")})
		case td.td.Status == ecstypes.TaskDefinitionStatusActive:
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: ptr(arn), Reason: ptr("The specified task definition is still in ACTIVE status. Please deregister the target and try again.")})
		default:
			if td.td.Status != ecstypes.TaskDefinitionStatusDeleteInProgress {
				td.td.Status = ecstypes.TaskDefinitionStatusDeleteInProgress
				td.td.DeleteRequestedAt = ptr(c.now)
				td.deleteAt = c.now.Add(s.opts.TaskStopDuration)
			}
			out.TaskDefinitions = append(out.TaskDefinitions, td.td)
		}
	}
	return out, nil
}

func (s *Server) ecsListTaskDefinitions(c *reqCtx) (any, error) {
	var in ecs.ListTaskDefinitionsInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	status := string(in.Status)
	if status == "" {
		status = "ACTIVE"
	}
	out := &ecs.ListTaskDefinitionsOutput{TaskDefinitionArns: []string{}}
	for _, fam := range sortedKeys(c.rs.ecs.taskDefs) {
		if p := str(in.FamilyPrefix); p != "" && !strings.HasPrefix(fam, p) {
			continue
		}
		for _, td := range c.rs.ecs.taskDefs[fam] {
			if td != nil && string(td.td.Status) == status {
				out.TaskDefinitionArns = append(out.TaskDefinitionArns, str(td.td.TaskDefinitionArn))
			}
		}
	}
	if in.Sort == ecstypes.SortOrderDesc {
		sort.Sort(sort.Reverse(sort.StringSlice(out.TaskDefinitionArns)))
	}
	return out, nil
}

func (s *Server) ecsListTaskDefinitionFamilies(c *reqCtx) (any, error) {
	var in ecs.ListTaskDefinitionFamiliesInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	out := &ecs.ListTaskDefinitionFamiliesOutput{Families: []string{}}
	for _, fam := range sortedKeys(c.rs.ecs.taskDefs) {
		if p := str(in.FamilyPrefix); p != "" && !strings.HasPrefix(fam, p) {
			continue
		}
		active := false
		for _, td := range c.rs.ecs.taskDefs[fam] {
			active = active || td != nil && td.td.Status == ecstypes.TaskDefinitionStatusActive
		}
		if active || in.Status == ecstypes.TaskDefinitionFamilyStatusAll || in.Status == ecstypes.TaskDefinitionFamilyStatusInactive && !active {
			out.Families = append(out.Families, fam)
		}
	}
	return out, nil
}

// --- services

// validateNetwork checks launch type / network configuration / load balancers
// for a service or task of the given task definition.
func (s *Server) validateNetwork(c *reqCtx, cl *ecsCluster, td *ecsTaskDef, lt ecstypes.LaunchType, strategy []ecstypes.CapacityProviderStrategyItem, nc *ecstypes.NetworkConfiguration, lbs []ecstypes.LoadBalancer) (ecstypes.LaunchType, []ecstypes.CapacityProviderStrategyItem, error) {
	if lt != "" && len(strategy) > 0 {
		return "", nil, errorf("InvalidParameterException", "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.")
	}
	if lt == "" && len(strategy) == 0 {
		if len(cl.defaultStrategy) > 0 {
			strategy = cl.defaultStrategy
		} else {
			lt = ecstypes.LaunchTypeEc2
		}
	}
	for _, it := range strategy {
		if !contains(cl.cps, str(it.CapacityProvider)) {
			return "", nil, errorf("InvalidParameterException", "The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.")
		}
	}
	fargate := lt == ecstypes.LaunchTypeFargate
	for _, it := range strategy {
		n := str(it.CapacityProvider)
		fargate = fargate || n == "FARGATE" || n == "FARGATE_SPOT"
	}
	if fargate && !includes(td.td.Compatibilities, "FARGATE") {
		return "", nil, errorf("InvalidParameterException", "Task definition does not support launch_type FARGATE.")
	}
	awsvpc := td.td.NetworkMode == ecstypes.NetworkModeAwsvpc
	if awsvpc {
		if nc == nil || nc.AwsvpcConfiguration == nil {
			return "", nil, errorf("InvalidParameterException", "Network Configuration must be provided when networkMode 'awsvpc' is specified.")
		}
		if len(nc.AwsvpcConfiguration.Subnets) == 0 {
			return "", nil, errorf("InvalidParameterException", "subnets can not be empty.")
		}
		var vpcID string
		for _, sn := range nc.AwsvpcConfiguration.Subnets {
			sub := c.rs.ec2.subnets[sn]
			if sub == nil {
				return "", nil, errorf("InvalidParameterException", "Error retrieving subnet information for [%s]: The subnet ID '%s' does not exist (ErrorCode: InvalidSubnetID.NotFound)", sn, sn)
			}
			vpcID = sub.vpcID
		}
		for _, g := range nc.AwsvpcConfiguration.SecurityGroups {
			sg := c.rs.ec2.sgs[g]
			if sg == nil {
				return "", nil, errorf("InvalidParameterException", "Error retrieving security group information for [%s]: The security group '%s' does not exist (ErrorCode: InvalidGroup.NotFound)", g, g)
			}
			if sg.vpcID != vpcID {
				return "", nil, errorf("InvalidParameterException", "Security group %s is not in the same VPC as the subnets.", g)
			}
		}
		if nc.AwsvpcConfiguration.AssignPublicIp == ecstypes.AssignPublicIpEnabled && !fargate {
			return "", nil, errorf("InvalidParameterException", "Assign public IP is not supported for this launch type.")
		}
	} else if nc != nil {
		return "", nil, errorf("InvalidParameterException", "Network Configuration is not valid for the given networkMode of this task definition.")
	}
	for _, lb := range lbs {
		arn := str(lb.TargetGroupArn)
		tg := c.rs.elb.tgs[arn]
		if tg == nil {
			return "", nil, errorf("InvalidParameterException", "Unable to assume role and validate the specified targetGroupArn. Please verify that the ECS service role being passed has the proper permissions.")
		}
		if len(s.tgLoadBalancers(c.rs, tg)) == 0 {
			return "", nil, errorf("InvalidParameterException", "The target group with targetGroupArn %s does not have an associated load balancer.", arn)
		}
		if awsvpc && tg.targetType != "ip" {
			return "", nil, errorf("InvalidParameterException", "The provided target group %s has target type %s, which is incompatible with the awsvpc network mode specified in the task definition.", arn, tg.targetType)
		}
		found := false
		for _, cd := range td.td.ContainerDefinitions {
			if str(cd.Name) != str(lb.ContainerName) {
				continue
			}
			for _, pm := range cd.PortMappings {
				if i32(pm.ContainerPort) == i32(lb.ContainerPort) {
					found = true
				}
			}
		}
		if !found {
			return "", nil, errorf("InvalidParameterException", "The container %s did not have a container port %d defined.", str(lb.ContainerName), i32(lb.ContainerPort))
		}
	}
	return lt, strategy, nil
}

func (s *Server) ecsCreateService(c *reqCtx) (any, error) {
	var in ecs.CreateServiceInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	cl, err := c.rs.ecs.cluster(str(in.Cluster))
	if err != nil {
		return nil, err
	}
	name := str(in.ServiceName)
	if !familyRe.MatchString(name) {
		return nil, errorf("InvalidParameterException", "Invalid service name. Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.")
	}
	if old := cl.services[name]; old != nil {
		switch old.status {
		case "ACTIVE":
			return nil, errorf("InvalidParameterException", "Creation of service was not idempotent.")
		case "DRAINING":
			return nil, errorf("InvalidParameterException", "Unable to Start a service that is still Draining.")
		}
	}
	td := c.rs.ecs.taskDef(str(in.TaskDefinition))
	if td == nil || td.td.Status != ecstypes.TaskDefinitionStatusActive {
		return nil, errorf("ClientException", "TaskDefinition not found.")
	}
	lt, strategy, err := s.validateNetwork(c, cl, td, in.LaunchType, in.CapacityProviderStrategy, in.NetworkConfiguration, in.LoadBalancers)
	if err != nil {
		return nil, err
	}
	desired := int32(0)
	if in.DesiredCount != nil {
		desired = *in.DesiredCount
	} else if in.SchedulingStrategy != ecstypes.SchedulingStrategyDaemon {
		return nil, errorf("InvalidParameterException", "Desired count is required for REPLICA scheduling strategy.")
	}
	sv := &ecsService{name: name, arn: c.ecsArn("service/" + cl.name + "/" + name), cluster: cl.name, status: "ACTIVE", desired: desired,
		launchType: lt, strategy: strategy, netConfig: in.NetworkConfiguration, lbs: in.LoadBalancers, tags: ecsTags(in.Tags),
		created: c.now, deployCfg: in.DeploymentConfiguration, grace: in.HealthCheckGracePeriodSeconds, enableExec: in.EnableExecuteCommand,
		managedTags: in.EnableECSManagedTags, propagate: in.PropagateTags, scheduling: in.SchedulingStrategy}
	if sv.scheduling == "" {
		sv.scheduling = ecstypes.SchedulingStrategyReplica
	}
	if sv.propagate == "" {
		sv.propagate = ecstypes.PropagateTagsNone
	}
	if sv.deployCfg == nil {
		sv.deployCfg = &ecstypes.DeploymentConfiguration{}
	}
	if sv.deployCfg.MaximumPercent == nil {
		sv.deployCfg.MaximumPercent = ptr(int32(200))
	}
	if sv.deployCfg.MinimumHealthyPercent == nil {
		sv.deployCfg.MinimumHealthyPercent = ptr(int32(100))
	}
	if sv.deployCfg.DeploymentCircuitBreaker == nil {
		sv.deployCfg.DeploymentCircuitBreaker = &ecstypes.DeploymentCircuitBreaker{}
	}
	sv.deployments = []*ecsDeployment{{id: newDeploymentID(), status: "PRIMARY", taskDef: str(td.td.TaskDefinitionArn), desired: desired,
		created: c.now, updated: c.now, rollout: ecstypes.DeploymentRolloutStateInProgress, reason: "ECS deployment " + "in progress.",
		launchType: lt, strategy: strategy, netConfig: in.NetworkConfiguration}}
	sv.deployments[0].reason = fmt.Sprintf("ECS deployment %s in progress.", sv.deployments[0].id)
	cl.services[name] = sv
	return &ecs.CreateServiceOutput{Service: s.serviceOut(c, cl, sv, true)}, nil
}

func (s *Server) activeService(c *reqCtx, clusterRef, ref string) (*ecsCluster, *ecsService, error) {
	cl, err := c.rs.ecs.cluster(clusterRef)
	if err != nil {
		return nil, nil, err
	}
	sv := cl.service(ref)
	if sv == nil {
		return nil, nil, errorf("ServiceNotFoundException", "Service not found.")
	}
	if sv.status != "ACTIVE" {
		return nil, nil, errorf("ServiceNotActiveException", "Service was not ACTIVE.")
	}
	return cl, sv, nil
}

func (s *Server) ecsUpdateService(c *reqCtx) (any, error) {
	var in ecs.UpdateServiceInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	cl, sv, err := s.activeService(c, str(in.Cluster), str(in.Service))
	if err != nil {
		return nil, err
	}
	cur := sv.deployments[0]
	tdArn := cur.taskDef
	newDep := in.ForceNewDeployment
	td := c.rs.ecs.taskDef(tdArn)
	if in.TaskDefinition != nil {
		td = c.rs.ecs.taskDef(*in.TaskDefinition)
		if td == nil || td.td.Status != ecstypes.TaskDefinitionStatusActive {
			return nil, errorf("ClientException", "TaskDefinition not found.")
		}
		if str(td.td.TaskDefinitionArn) != tdArn {
			tdArn, newDep = str(td.td.TaskDefinitionArn), true
		}
	}
	nc := sv.netConfig
	if in.NetworkConfiguration != nil {
		nc, newDep = in.NetworkConfiguration, true
	}
	lbs := sv.lbs
	if in.LoadBalancers != nil {
		lbs, newDep = in.LoadBalancers, true
	}
	lt, strategy := sv.launchType, sv.strategy
	if in.CapacityProviderStrategy != nil {
		lt, strategy, newDep = "", in.CapacityProviderStrategy, true
	}
	if td != nil {
		lt2, strategy2, err := s.validateNetwork(c, cl, td, lt, strategy, nc, lbs)
		if err != nil {
			return nil, err
		}
		lt, strategy = lt2, strategy2
	}
	if in.DesiredCount != nil && *in.DesiredCount != sv.desired {
		sv.desired = *in.DesiredCount
		sv.steady = false
		cur.desired = sv.desired
		cur.updated = c.now
	}
	if in.DeploymentConfiguration != nil {
		sv.deployCfg = in.DeploymentConfiguration
	}
	if in.HealthCheckGracePeriodSeconds != nil {
		sv.grace = in.HealthCheckGracePeriodSeconds
	}
	if in.EnableExecuteCommand != nil {
		sv.enableExec = *in.EnableExecuteCommand
	}
	sv.netConfig, sv.lbs, sv.launchType, sv.strategy = nc, lbs, lt, strategy
	if newDep {
		for _, d := range sv.deployments {
			d.status = "ACTIVE"
			d.updated = c.now
			if d.rollout == ecstypes.DeploymentRolloutStateInProgress {
				d.rollout = ecstypes.DeploymentRolloutStateFailed
				d.reason = "ECS deployment replaced by a newer deployment."
			}
		}
		d := &ecsDeployment{id: newDeploymentID(), status: "PRIMARY", taskDef: tdArn, desired: sv.desired, created: c.now, updated: c.now,
			rollout: ecstypes.DeploymentRolloutStateInProgress, launchType: lt, strategy: strategy, netConfig: nc}
		d.reason = fmt.Sprintf("ECS deployment %s in progress.", d.id)
		sv.deployments = append([]*ecsDeployment{d}, sv.deployments...)
		sv.steady = false
	}
	return &ecs.UpdateServiceOutput{Service: s.serviceOut(c, cl, sv, true)}, nil
}

func (s *Server) ecsDeleteService(c *reqCtx) (any, error) {
	var in ecs.DeleteServiceInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	cl, err := c.rs.ecs.cluster(str(in.Cluster))
	if err != nil {
		return nil, err
	}
	sv := cl.service(str(in.Service))
	if sv == nil {
		return nil, errorf("ServiceNotFoundException", "Service not found.")
	}
	if sv.status != "ACTIVE" {
		return nil, errorf("ServiceNotActiveException", "Service was not ACTIVE.")
	}
	if sv.desired > 0 && !boolv(in.Force) {
		return nil, errorf("InvalidParameterException", "The service cannot be stopped while it is scaled above 0.")
	}
	sv.status = "DRAINING"
	sv.desired = 0
	for _, d := range sv.deployments {
		d.desired = 0
	}
	return &ecs.DeleteServiceOutput{Service: s.serviceOut(c, cl, sv, true)}, nil
}

func (s *Server) ecsDescribeServices(c *reqCtx) (any, error) {
	var in ecs.DescribeServicesInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	cl := c.rs.ecs.clusters[lastSegment(orDefault(str(in.Cluster), "default"))]
	if cl == nil {
		return nil, errorf("ClusterNotFoundException", "Cluster not found.")
	}
	withTags := includes(in.Include, "TAGS")
	out := &ecs.DescribeServicesOutput{Services: []ecstypes.Service{}, Failures: []ecstypes.Failure{}}
	for _, ref := range in.Services {
		sv := cl.service(ref)
		if sv == nil {
			arn := ref
			if !strings.HasPrefix(arn, "arn:") {
				arn = c.ecsArn("service/" + cl.name + "/" + ref)
			}
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: ptr(arn), Reason: ptr("MISSING")})
			continue
		}
		out.Services = append(out.Services, *s.serviceOut(c, cl, sv, withTags))
	}
	return out, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (s *Server) ecsListServices(c *reqCtx) (any, error) {
	var in ecs.ListServicesInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	cl, err := c.rs.ecs.cluster(str(in.Cluster))
	if err != nil {
		return nil, err
	}
	out := &ecs.ListServicesOutput{ServiceArns: []string{}}
	for _, n := range sortedKeys(cl.services) {
		if sv := cl.services[n]; sv.status != "INACTIVE" {
			out.ServiceArns = append(out.ServiceArns, sv.arn)
		}
	}
	return out, nil
}

// --- tasks

func (s *Server) ecsRunTask(c *reqCtx) (any, error) {
	var in ecs.RunTaskInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	cl, err := c.rs.ecs.cluster(str(in.Cluster))
	if err != nil {
		return nil, err
	}
	td := c.rs.ecs.taskDef(str(in.TaskDefinition))
	if td == nil || td.td.Status != ecstypes.TaskDefinitionStatusActive {
		return nil, errorf("InvalidParameterException", "TaskDefinition not found.")
	}
	lt, strategy, err := s.validateNetwork(c, cl, td, in.LaunchType, in.CapacityProviderStrategy, in.NetworkConfiguration, nil)
	if err != nil {
		return nil, err
	}
	count := int32(1)
	if in.Count != nil {
		count = *in.Count
	}
	out := &ecs.RunTaskOutput{Tasks: []ecstypes.Task{}, Failures: []ecstypes.Failure{}}
	fake := &ecsService{name: "", netConfig: in.NetworkConfiguration, launchType: lt, strategy: strategy}
	for i := int32(0); i < count; i++ {
		t, reason := s.placeTask(c.rs, cl, fake, nil, td, c.now)
		if t == nil {
			if reason == "no instances" {
				return nil, errorf("InvalidParameterException", "No Container Instances were found in your cluster.")
			}
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: nil, Reason: ptr(reason)})
			continue
		}
		t.oneOff = true
		t.startedBy = str(in.StartedBy)
		t.group = orDefault(str(in.Group), "family:"+str(td.td.Family))
		t.tags = ecsTags(in.Tags)
		t.overrides = in.Overrides
		out.Tasks = append(out.Tasks, *s.taskOut(c, cl, t, true))
	}
	return out, nil
}

func (s *Server) ecsStopTask(c *reqCtx) (any, error) {
	var in ecs.StopTaskInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	cl, err := c.rs.ecs.cluster(str(in.Cluster))
	if err != nil {
		return nil, err
	}
	t := cl.tasks[lastSegment(str(in.Task))]
	if t == nil {
		return nil, errorf("InvalidParameterException", "The referenced task was not found.")
	}
	s.stopTask(c.rs, cl, t, orDefault(str(in.Reason), "Task stopped by user"), ecstypes.TaskStopCodeUserInitiated, c.now)
	return &ecs.StopTaskOutput{Task: s.taskOut(c, cl, t, true)}, nil
}

func (s *Server) ecsListTasks(c *reqCtx) (any, error) {
	var in ecs.ListTasksInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	cl, err := c.rs.ecs.cluster(str(in.Cluster))
	if err != nil {
		return nil, err
	}
	if n := str(in.ServiceName); n != "" && cl.service(n) == nil {
		return nil, errorf("ServiceNotFoundException", "Service not found.")
	}
	want := string(in.DesiredStatus)
	if want == "" {
		want = "RUNNING"
	}
	out := &ecs.ListTasksOutput{TaskArns: []string{}}
	for _, id := range cl.taskOrder {
		t := cl.tasks[id]
		if t == nil || t.desiredStatus != want {
			continue
		}
		if n := str(in.ServiceName); n != "" && t.service != lastSegment(n) {
			continue
		}
		if f := str(in.Family); f != "" {
			if fam, _, _ := strings.Cut(lastSegment(t.taskDefArn), ":"); fam != f {
				continue
			}
		}
		if sb := str(in.StartedBy); sb != "" && t.startedBy != sb {
			continue
		}
		if ci := str(in.ContainerInstance); ci != "" && t.containerInst != lastSegment(ci) {
			continue
		}
		if in.LaunchType != "" && t.launchType != in.LaunchType {
			continue
		}
		out.TaskArns = append(out.TaskArns, t.arn)
	}
	return out, nil
}

func (s *Server) ecsDescribeTasks(c *reqCtx) (any, error) {
	var in ecs.DescribeTasksInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	cl, err := c.rs.ecs.cluster(str(in.Cluster))
	if err != nil {
		return nil, err
	}
	withTags := includes(in.Include, "TAGS")
	out := &ecs.DescribeTasksOutput{Tasks: []ecstypes.Task{}, Failures: []ecstypes.Failure{}}
	for _, ref := range in.Tasks {
		t := cl.tasks[lastSegment(ref)]
		if t == nil {
			arn := ref
			if !strings.HasPrefix(arn, "arn:") {
				arn = c.ecsArn("task/" + cl.name + "/" + ref)
			}
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: ptr(arn), Reason: ptr("MISSING")})
			continue
		}
		out.Tasks = append(out.Tasks, *s.taskOut(c, cl, t, withTags))
	}
	return out, nil
}

// --- container instances

func (s *Server) ecsListContainerInstances(c *reqCtx) (any, error) {
	var in ecs.ListContainerInstancesInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	cl, err := c.rs.ecs.cluster(str(in.Cluster))
	if err != nil {
		return nil, err
	}
	out := &ecs.ListContainerInstancesOutput{ContainerInstanceArns: []string{}}
	for _, id := range sortedKeys(cl.instances) {
		ci := cl.instances[id]
		if in.Status != "" && string(in.Status) != ci.status {
			continue
		}
		if in.Status == "" && ci.status == "INACTIVE" {
			continue
		}
		out.ContainerInstanceArns = append(out.ContainerInstanceArns, c.ecsArn("container-instance/"+cl.name+"/"+ci.id))
	}
	return out, nil
}

func (s *Server) ecsDescribeContainerInstances(c *reqCtx) (any, error) {
	var in ecs.DescribeContainerInstancesInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	cl, err := c.rs.ecs.cluster(str(in.Cluster))
	if err != nil {
		return nil, err
	}
	out := &ecs.DescribeContainerInstancesOutput{ContainerInstances: []ecstypes.ContainerInstance{}, Failures: []ecstypes.Failure{}}
	for _, ref := range in.ContainerInstances {
		ci := cl.instances[lastSegment(ref)]
		if ci == nil {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: ptr(ref), Reason: ptr("MISSING")})
			continue
		}
		out.ContainerInstances = append(out.ContainerInstances, s.ciOut(c, cl, ci))
	}
	return out, nil
}

func (s *Server) ecsDeregisterContainerInstance(c *reqCtx) (any, error) {
	var in ecs.DeregisterContainerInstanceInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	cl, err := c.rs.ecs.cluster(str(in.Cluster))
	if err != nil {
		return nil, err
	}
	ci := cl.instances[lastSegment(str(in.ContainerInstance))]
	if ci == nil {
		return nil, errorf("InvalidParameterException", "The referenced container instance %s was not found.", str(in.ContainerInstance))
	}
	for _, t := range cl.tasks {
		if t.containerInst == ci.id && t.lastStatus != "STOPPED" {
			if !boolv(in.Force) {
				return nil, errorf("InvalidParameterException", "Found running tasks on the instance.")
			}
			s.stopTask(c.rs, cl, t, "Container instance deregistration forced by the user", ecstypes.TaskStopCodeUserInitiated, c.now)
		}
	}
	ci.status = "INACTIVE"
	out := s.ciOut(c, cl, ci)
	return &ecs.DeregisterContainerInstanceOutput{ContainerInstance: &out}, nil
}

// --- tags

func (s *Server) ecsTagTarget(c *reqCtx, arn string) (*map[string]string, error) {
	st := c.rs.ecs
	parts := strings.SplitN(strings.SplitN(arn, ":", 6)[len(strings.SplitN(arn, ":", 6))-1], "/", 3)
	notFound := errorf("ResourceNotFoundException", "The specified resource could not be found.")
	if len(parts) < 2 {
		return nil, errorf("InvalidParameterException", "The ARN provided is invalid.")
	}
	switch parts[0] {
	case "cluster":
		if cl := st.clusters[parts[1]]; cl != nil && cl.status == "ACTIVE" {
			return &cl.tags, nil
		}
	case "service":
		if len(parts) == 3 {
			if cl := st.clusters[parts[1]]; cl != nil {
				if sv := cl.services[parts[2]]; sv != nil && sv.status != "INACTIVE" {
					return &sv.tags, nil
				}
			}
		}
	case "task":
		if len(parts) == 3 {
			if cl := st.clusters[parts[1]]; cl != nil {
				if t := cl.tasks[parts[2]]; t != nil {
					return &t.tags, nil
				}
			}
		}
	case "container-instance":
		if len(parts) == 3 {
			if cl := st.clusters[parts[1]]; cl != nil {
				if ci := cl.instances[parts[2]]; ci != nil {
					return &ci.tags, nil
				}
			}
		}
	case "task-definition":
		if td := st.taskDef(parts[1]); td != nil {
			return &td.tags, nil
		}
	case "capacity-provider":
		if cp := st.cps[parts[1]]; cp != nil && cp.status == "ACTIVE" {
			return &cp.tags, nil
		}
	}
	return nil, notFound
}

func (s *Server) ecsTagResource(c *reqCtx) (any, error) {
	var in ecs.TagResourceInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	tp, err := s.ecsTagTarget(c, str(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	if *tp == nil {
		*tp = map[string]string{}
	}
	for k, v := range ecsTags(in.Tags) {
		(*tp)[k] = v
	}
	return &ecs.TagResourceOutput{}, nil
}

func (s *Server) ecsUntagResource(c *reqCtx) (any, error) {
	var in ecs.UntagResourceInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	tp, err := s.ecsTagTarget(c, str(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		delete(*tp, k)
	}
	return &ecs.UntagResourceOutput{}, nil
}

func (s *Server) ecsListTagsForResource(c *reqCtx) (any, error) {
	var in ecs.ListTagsForResourceInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	tp, err := s.ecsTagTarget(c, str(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	return &ecs.ListTagsForResourceOutput{Tags: ecsTagList(*tp)}, nil
}

// ---------------------------------------------------------------------------
// simulation

var ecsClusterRe = regexp.MustCompile(`ECS_CLUSTER=["']?([A-Za-z0-9_-]+)`)

// instanceCluster is the cluster an EC2 instance's ECS agent joins (from the
// ECS_CLUSTER line in its user data), or "" when it runs no agent.
func (s *Server) instanceCluster(rs *regionState, in *instance) string {
	if in.userData != "" {
		ud, err := base64.StdEncoding.DecodeString(in.userData)
		if err != nil {
			ud = []byte(in.userData)
		}
		if m := ecsClusterRe.FindSubmatch(ud); m != nil {
			return string(m[1])
		}
	}
	if im := rs.ec2.amis[in.imageID]; im != nil && strings.Contains(im.name, "-ecs-") {
		return "default"
	}
	return ""
}

var instanceSizes = map[string][2]int32{
	"nano": {2048, 416}, "micro": {2048, 904}, "small": {2048, 1939}, "medium": {2048, 3904},
	"large": {2048, 7680}, "xlarge": {4096, 15576}, "2xlarge": {8192, 31704},
}

func (s *Server) registerInstances(rs *regionState, now time.Time) {
	registered := map[string]bool{}
	for _, cl := range rs.ecs.clusters {
		for _, ci := range cl.instances {
			registered[ci.ec2ID] = true
		}
	}
	for _, id := range sortedKeys(rs.ec2.instances) {
		in := rs.ec2.instances[id]
		if in.state != "running" || registered[in.id] {
			continue
		}
		if !s.iam.profileUsable(in.profileArn) {
			continue // the agent has no credentials to register with
		}
		name := s.instanceCluster(rs, in)
		cl := rs.ecs.clusters[name]
		if cl == nil || cl.status != "ACTIVE" {
			continue
		}
		size := instanceSizes["medium"]
		if _, sz, ok := strings.Cut(in.instanceType, "."); ok {
			if v, ok := instanceSizes[sz]; ok {
				size = v
			}
		}
		ci := &containerInstance{id: randHex(32), ec2ID: in.id, az: in.az, status: "ACTIVE", registered: now, cpu: size[0], mem: size[1], ip: in.privateIP}
		for _, cp := range rs.ecs.cps {
			if cp.status == "ACTIVE" && in.asg != "" && cp.asgName == in.asg {
				ci.cp = cp.name
			}
		}
		cl.instances[ci.id] = ci
	}
}

// ecsInstanceGone deregisters the container instance of a terminating EC2
// instance and stops its tasks.
func (s *Server) ecsInstanceGone(rs *regionState, ec2ID string, now time.Time) {
	for _, cl := range rs.ecs.clusters {
		for _, ci := range cl.instances {
			if ci.ec2ID != ec2ID || ci.status == "INACTIVE" {
				continue
			}
			ci.status = "INACTIVE"
			for _, t := range cl.tasks {
				if t.containerInst == ci.id && t.lastStatus != "STOPPED" {
					s.stopTask(rs, cl, t, fmt.Sprintf("Host EC2 (instance %s) terminated.", ec2ID), ecstypes.TaskStopCodeTerminationNotice, now)
				}
			}
		}
	}
}

// placeTask creates a task for the service (or a RunTask pseudo-service) if
// capacity allows; reason says why not.
func (s *Server) placeTask(rs *regionState, cl *ecsCluster, sv *ecsService, dep *ecsDeployment, td *ecsTaskDef, now time.Time) (*ecsTask, string) {
	lt, strategy, nc := sv.launchType, sv.strategy, sv.netConfig
	if dep != nil {
		lt, strategy, nc = dep.launchType, dep.strategy, dep.netConfig
	}
	t := &ecsTask{id: randHex(32), cluster: cl.name, taskDefArn: str(td.td.TaskDefinitionArn), lastStatus: "PROVISIONING", desiredStatus: "RUNNING",
		created: now, since: now, launchType: lt, cpu: str(td.td.Cpu), mem: str(td.td.Memory), hostPort: map[string]int32{}}
	t.arn = fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/%s", rs.name, s.opts.AccountID, cl.name, t.id)
	fargate := lt == ecstypes.LaunchTypeFargate
	cpName := ""
	for _, it := range strategy {
		n := str(it.CapacityProvider)
		if n == "FARGATE" || n == "FARGATE_SPOT" {
			fargate = true
			cpName = n
			t.launchType = ecstypes.LaunchTypeFargate
			break
		}
		cpName = n
	}
	if !fargate {
		if t.launchType == "" {
			t.launchType = ecstypes.LaunchTypeEc2
		}
		cpu, mem := s.taskResources(rs, t.taskDefArn)
		var candidates []*containerInstance
		for _, id := range sortedKeys(cl.instances) {
			ci := cl.instances[id]
			if ci.status != "ACTIVE" || cpName != "" && ci.cp != cpName {
				continue
			}
			candidates = append(candidates, ci)
		}
		if len(candidates) == 0 {
			return nil, "no instances"
		}
		var chosen *containerInstance
		for _, ci := range candidates {
			usedCPU, usedMem := int32(0), int32(0)
			for _, ot := range cl.tasks {
				if ot.containerInst == ci.id && ot.lastStatus != "STOPPED" {
					c2, m2 := s.taskResources(rs, ot.taskDefArn)
					usedCPU += c2
					usedMem += m2
				}
			}
			if ci.cpu-usedCPU >= cpu && ci.mem-usedMem >= mem {
				chosen = ci
				break
			}
		}
		if chosen == nil {
			return nil, "RESOURCE:MEMORY"
		}
		t.containerInst, t.ec2ID, t.az, t.privateIP, t.cp = chosen.id, chosen.ec2ID, chosen.az, chosen.ip, chosen.cp
		if in := rs.ec2.instances[chosen.ec2ID]; in != nil {
			t.subnet = in.subnetID
		}
	} else {
		t.cp = cpName
	}
	if td.td.NetworkMode == ecstypes.NetworkModeAwsvpc && nc != nil && nc.AwsvpcConfiguration != nil && len(nc.AwsvpcConfiguration.Subnets) > 0 {
		subs := nc.AwsvpcConfiguration.Subnets
		sn := rs.ec2.subnets[subs[sv.subnetRR%len(subs)]]
		sv.subnetRR++
		if sn != nil {
			t.subnet, t.az, t.privateIP = sn.id, sn.az, sn.nextIP()
		}
		t.eniID = "eni-" + randHex(17)
		t.sgIDs = append([]string(nil), nc.AwsvpcConfiguration.SecurityGroups...)
		if len(t.sgIDs) == 0 && sn != nil {
			for _, g := range rs.ec2.sgs {
				if g.isDefault && g.vpcID == sn.vpcID {
					t.sgIDs = []string{g.id}
				}
			}
		}
	} else {
		next := int32(32768 + len(cl.tasks)%20000)
		for _, cd := range td.td.ContainerDefinitions {
			for _, pm := range cd.PortMappings {
				hp := i32(pm.HostPort)
				if hp == 0 {
					hp = next
					next++
				}
				if td.td.NetworkMode == ecstypes.NetworkModeHost {
					hp = i32(pm.ContainerPort)
				}
				t.hostPort[str(cd.Name)+"/"+strconv.Itoa(int(i32(pm.ContainerPort)))] = hp
			}
		}
	}
	if sv.name != "" {
		t.service = sv.name
		t.group = "service:" + sv.name
		if dep != nil {
			t.deployment = dep.id
			t.startedBy = dep.id
		}
		if sv.propagate == ecstypes.PropagateTagsService {
			t.tags = copyTags(sv.tags)
		}
	}
	t.failReason, t.containerReason = s.startFailure(rs, td, now)
	cl.tasks[t.id] = t
	cl.taskOrder = append(cl.taskOrder, t.id)
	return t, ""
}

// startFailure decides whether a new task will fail to start and why
// (stopped reason, container reason).
func (s *Server) startFailure(rs *regionState, td *ecsTaskDef, now time.Time) (string, string) {
	fam := str(td.td.Family)
	for i, f := range s.taskFails {
		if f.times != 0 && (f.family == "" || f.family == fam) {
			if f.times > 0 {
				f.times--
				if f.times == 0 {
					s.taskFails = append(s.taskFails[:i], s.taskFails[i+1:]...)
				}
			}
			return f.reason, ""
		}
	}
	for _, role := range []string{str(td.td.ExecutionRoleArn), str(td.td.TaskRoleArn)} {
		if strings.HasPrefix(role, "arn:aws:iam::"+s.opts.AccountID+":role/") && s.iam.roleByArn(role) == nil {
			return fmt.Sprintf("ECS was unable to assume the role '%s' that was provided for this task. Please verify that the role being passed has the proper trust relationship and permissions and that your IAM user has permissions to pass this role.", role), ""
		}
	}
	for _, cd := range td.td.ContainerDefinitions {
		img := str(cd.Image)
		for sub, reason := range s.failImages {
			if strings.Contains(img, sub) {
				if reason == "" {
					reason = fmt.Sprintf("CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref %s: not found", img)
				}
				return reason, reason
			}
		}
		if reason := s.ecrPullFailure(rs, img); reason != "" {
			return reason, reason
		}
	}
	// secrets
	for _, cd := range td.td.ContainerDefinitions {
		for _, sec := range cd.Secrets {
			if reason := s.secretMissing(rs, str(sec.ValueFrom)); reason != "" {
				return reason, ""
			}
		}
	}
	// awslogs
	for _, cd := range td.td.ContainerDefinitions {
		lc := cd.LogConfiguration
		if lc == nil || lc.LogDriver != ecstypes.LogDriverAwslogs {
			continue
		}
		group := lc.Options["awslogs-group"]
		region := orDefault(lc.Options["awslogs-region"], rs.name)
		if group == "" {
			return "ResourceInitializationError: failed to validate logger args: awslogs-group is required: exit status 1", ""
		}
		if lc.Options["awslogs-create-group"] == "true" {
			continue
		}
		lrs := s.region(region)
		if lrs.logs.groups[group] == nil {
			return "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream: operation error CloudWatch Logs: CreateLogStream, https response error StatusCode: 400, ResourceNotFoundException: The specified log group does not exist. : exit status 1", ""
		}
	}
	return "", ""
}

func (s *Server) stopTask(rs *regionState, cl *ecsCluster, t *ecsTask, reason string, code ecstypes.TaskStopCode, now time.Time) {
	if t.desiredStatus == "STOPPED" {
		return
	}
	t.desiredStatus = "STOPPED"
	t.stoppedReason = reason
	t.stopCode = code
	switch t.lastStatus {
	case "RUNNING":
		t.lastStatus, t.since, t.stopping = "DEACTIVATING", now, now
		s.deregisterTaskTargets(rs, cl, t, now)
	case "PROVISIONING", "PENDING":
		t.lastStatus, t.since, t.stopping = "DEPROVISIONING", now, now
	}
}

func (s *Server) advanceECS(rs *regionState, now time.Time) {
	st := rs.ecs
	s.registerInstances(rs, now)
	for _, cp := range st.cps {
		if cp.status == "INACTIVE" && cp.updateStatus == "DELETE_IN_PROGRESS" && !now.Before(cp.since.Add(s.opts.CapacityProviderDeleteDuration)) {
			cp.updateStatus = "DELETE_COMPLETE"
		}
	}
	for fam, revs := range st.taskDefs {
		for i, td := range revs {
			if td != nil && td.td.Status == ecstypes.TaskDefinitionStatusDeleteInProgress && now.After(td.deleteAt) {
				inUse := false
				for _, t := range st.allTasks() {
					inUse = inUse || t.taskDefArn == str(td.td.TaskDefinitionArn) && t.lastStatus != "STOPPED"
				}
				if !inUse {
					revs[i] = nil
				}
			}
		}
		st.taskDefs[fam] = revs
	}
	for _, cn := range sortedKeys(st.clusters) {
		cl := st.clusters[cn]
		if cl.status != "ACTIVE" {
			continue
		}
		for _, id := range cl.taskOrder {
			if t := cl.tasks[id]; t != nil {
				s.advanceTask(rs, cl, t, now)
			}
		}
		for _, sn := range sortedKeys(cl.services) {
			s.advanceService(rs, cl, cl.services[sn], now)
		}
		// forget old stopped tasks (keep the last 200)
		if len(cl.taskOrder) > 400 {
			var keep []string
			stopped := 0
			for i := len(cl.taskOrder) - 1; i >= 0; i-- {
				id := cl.taskOrder[i]
				t := cl.tasks[id]
				if t.lastStatus == "STOPPED" {
					stopped++
					if stopped > 200 {
						delete(cl.tasks, id)
						continue
					}
				}
				keep = append([]string{id}, keep...)
			}
			cl.taskOrder = keep
		}
	}
}

func (s *Server) advanceTask(rs *regionState, cl *ecsCluster, t *ecsTask, now time.Time) {
	d := s.opts.TaskStartDuration
	switch t.lastStatus {
	case "PROVISIONING":
		if at := t.since.Add(d / 3); !now.Before(at) {
			t.lastStatus, t.since = "PENDING", at
			t.pullStart = at
		}
	case "PENDING":
		at := t.created.Add(d)
		if now.Before(at) {
			return
		}
		if t.failReason != "" {
			t.lastStatus, t.desiredStatus, t.since, t.stopped = "STOPPED", "STOPPED", at, at
			t.stoppingAtIfZero(at)
			t.stoppedReason = t.failReason
			t.stopCode = ecstypes.TaskStopCodeTaskFailedToStart
			if t.containerReason == "" {
				t.exitCode = nil
			}
			if sv := cl.services[t.service]; sv != nil {
				for _, dep := range sv.deployments {
					if dep.id == t.deployment {
						dep.failed++
					}
				}
			}
			return
		}
		t.lastStatus, t.since, t.started, t.pullStop = "RUNNING", at, at, at.Add(-d/6)
		s.taskStarted(rs, cl, t, at)
	case "RUNNING":
		if t.oneOff {
			if at := t.started.Add(s.opts.OneOffTaskDuration); !now.Before(at) {
				t.exitCode = ptr(int32(0))
				s.stopTask(rs, cl, t, "Essential container in task exited", ecstypes.TaskStopCodeEssentialContainerExited, at)
			}
		}
	case "DEACTIVATING", "DEPROVISIONING", "STOPPING":
		if at := t.since.Add(s.opts.TaskStopDuration); !now.Before(at) {
			if t.lastStatus == "DEACTIVATING" {
				s.taskLog(rs, t, at, "task stopped: "+t.stoppedReason)
				if t.exitCode == nil && !t.started.IsZero() {
					t.exitCode = ptr(int32(137))
					if t.stopCode == ecstypes.TaskStopCodeEssentialContainerExited {
						t.exitCode = ptr(int32(0))
					}
				}
			}
			t.lastStatus, t.since, t.stopped = "STOPPED", at, at
		}
	}
}

func (t *ecsTask) stoppingAtIfZero(at time.Time) {
	if t.stopping.IsZero() {
		t.stopping = at
	}
}

// taskStarted writes the startup log lines and registers load balancer
// targets.
func (s *Server) taskStarted(rs *regionState, cl *ecsCluster, t *ecsTask, at time.Time) {
	td := rs.ecs.taskDef(t.taskDefArn)
	if td == nil {
		return
	}
	for _, cd := range td.td.ContainerDefinitions {
		lc := cd.LogConfiguration
		if lc == nil || lc.LogDriver != ecstypes.LogDriverAwslogs {
			continue
		}
		region := orDefault(lc.Options["awslogs-region"], rs.name)
		group := lc.Options["awslogs-group"]
		stream := t.id
		if p := lc.Options["awslogs-stream-prefix"]; p != "" {
			stream = p + "/" + str(cd.Name) + "/" + t.id
		}
		lrs := s.region(region)
		if lrs.logs.groups[group] == nil && lc.Options["awslogs-create-group"] == "true" {
			s.createLogGroup(lrs, group, at)
		}
		t.logStreams = append(t.logStreams, logRef{region: region, group: group, stream: stream})
		cmd := cd.Command
		if t.overrides != nil {
			for _, co := range t.overrides.ContainerOverrides {
				if str(co.Name) == str(cd.Name) && co.Command != nil {
					cmd = co.Command
				}
			}
		}
		lines := []string{
			"task started",
			fmt.Sprintf("container %s started from image %s", str(cd.Name), str(cd.Image)),
		}
		if len(cmd) > 0 {
			lines = append(lines, "command: "+strings.Join(cmd, " "))
		}
		for _, pm := range cd.PortMappings {
			lines = append(lines, fmt.Sprintf("listening on port %d", i32(pm.ContainerPort)))
		}
		_ = s.appendLogEvents(lrs, group, stream, true, at, lines...)
	}
	if sv := cl.services[t.service]; sv != nil {
		for _, lb := range sv.lbs {
			tg := rs.elb.tgs[str(lb.TargetGroupArn)]
			if tg == nil {
				continue
			}
			id, port := t.privateIP, i32(lb.ContainerPort)
			if tg.targetType == "instance" {
				id = t.ec2ID
				port = t.hostPort[str(lb.ContainerName)+"/"+strconv.Itoa(int(port))]
			}
			s.registerTarget(rs, tg, id, port, t.az, at)
			t.targets = append(t.targets, targetRef{tgArn: tg.arn, id: id, port: port})
			sv.event(at, "registered 1 targets in (target-group %s)", tg.arn)
		}
	}
}

func (s *Server) taskLog(rs *regionState, t *ecsTask, at time.Time, line string) {
	for _, l := range t.logStreams {
		_ = s.appendLogEvents(s.region(l.region), l.group, l.stream, false, at, line)
	}
}

func (s *Server) deregisterTaskTargets(rs *regionState, cl *ecsCluster, t *ecsTask, now time.Time) {
	sv := cl.services[t.service]
	for _, tr := range t.targets {
		if tg := rs.elb.tgs[tr.tgArn]; tg != nil {
			s.deregisterTarget(rs, tg, tr.id, tr.port, now)
			if sv != nil {
				sv.event(now, "deregistered 1 targets in (target-group %s)", tg.arn)
			}
		}
	}
	t.targets = nil
}

// taskHealthy: RUNNING and (when behind load balancers) healthy in every
// target group.
func (s *Server) taskHealthy(rs *regionState, t *ecsTask) bool {
	if t.lastStatus != "RUNNING" || t.desiredStatus != "RUNNING" {
		return false
	}
	for _, tr := range t.targets {
		tg := rs.elb.tgs[tr.tgArn]
		if tg == nil || !tg.healthy(tr.id, tr.port) {
			return false
		}
	}
	return true
}

func (s *Server) advanceService(rs *regionState, cl *ecsCluster, sv *ecsService, now time.Time) {
	if sv.status == "INACTIVE" {
		return
	}
	tasksOf := func(depID string) (live []*ecsTask) {
		for _, id := range cl.taskOrder {
			t := cl.tasks[id]
			if t != nil && t.service == sv.name && t.deployment == depID && t.desiredStatus == "RUNNING" && t.lastStatus != "STOPPED" {
				live = append(live, t)
			}
		}
		return
	}
	if sv.status == "DRAINING" {
		var stopped []string
		remaining := 0
		for _, t := range cl.tasks {
			if t.service != sv.name {
				continue
			}
			if t.desiredStatus == "RUNNING" {
				s.stopTask(rs, cl, t, "Service "+sv.name+" deleted", ecstypes.TaskStopCodeServiceSchedulerInitiated, now)
				stopped = append(stopped, t.id)
			}
			if t.lastStatus != "STOPPED" {
				remaining++
			}
		}
		if len(stopped) > 0 {
			sv.event(now, "has stopped %d running tasks: %s.", len(stopped), taskList(stopped))
		}
		if remaining == 0 {
			sv.status = "INACTIVE"
			sv.inactiveSince = now
			sv.deployments = nil
		}
		return
	}
	if len(sv.deployments) == 0 {
		return
	}
	primary := sv.deployments[0]
	td := rs.ecs.taskDef(primary.taskDef)
	live := tasksOf(primary.id)
	// scale in
	if int32(len(live)) > sv.desired {
		var stopped []string
		for _, t := range live[sv.desired:] {
			s.stopTask(rs, cl, t, fmt.Sprintf("Scaling activity initiated by (deployment %s)", primary.id), ecstypes.TaskStopCodeServiceSchedulerInitiated, now)
			stopped = append(stopped, t.id)
		}
		sv.event(now, "has stopped %d running tasks: %s.", len(stopped), taskList(stopped))
		live = live[:sv.desired]
		sv.steady = false
	}
	// circuit breaker
	cb := sv.deployCfg.DeploymentCircuitBreaker
	if cb != nil && cb.Enable && primary.rollout == ecstypes.DeploymentRolloutStateInProgress {
		threshold := (sv.desired + 1) / 2
		if threshold < 3 {
			threshold = 3
		}
		if threshold > 200 {
			threshold = 200
		}
		if primary.failed >= threshold {
			primary.rollout = ecstypes.DeploymentRolloutStateFailed
			primary.reason = "ECS deployment circuit breaker: tasks failed to start."
			primary.updated = now
			sv.event(now, "(deployment %s) deployment failed: tasks failed to start.", primary.id)
			if cb.Rollback && len(sv.deployments) > 1 {
				prev := sv.deployments[1]
				nd := &ecsDeployment{id: newDeploymentID(), status: "PRIMARY", taskDef: prev.taskDef, desired: sv.desired, created: now, updated: now,
					rollout: ecstypes.DeploymentRolloutStateInProgress, launchType: prev.launchType, strategy: prev.strategy, netConfig: prev.netConfig}
				nd.reason = fmt.Sprintf("ECS deployment circuit breaker: rolling back to deploymentId %s.", prev.id)
				primary.status = "ACTIVE"
				sv.deployments = append([]*ecsDeployment{nd}, sv.deployments...)
				sv.event(now, "(deployment %s) deployment failed: tasks failed to start. Rolling back to %s.", primary.id, nd.id)
				return
			}
		}
	}
	// scale out / replace failed tasks
	if td != nil && int32(len(live)) < sv.desired && primary.rollout != ecstypes.DeploymentRolloutStateFailed {
		var started []string
		reason := ""
		for i := int32(len(live)); i < sv.desired; i++ {
			t, why := s.placeTask(rs, cl, sv, primary, td, now)
			if t == nil {
				reason = why
				break
			}
			started = append(started, t.id)
		}
		if len(started) > 0 {
			sv.event(now, "has started %d tasks: %s.", len(started), taskList(started))
			sv.steady = false
		}
		if reason != "" {
			s.managedScaleOut(rs, primary.strategy)
		}
		if reason != "" && now.Sub(sv.lastPlaceEvent) > 10*time.Second {
			sv.lastPlaceEvent = now
			msg := "No Container Instances were found in your cluster."
			if reason != "no instances" {
				msg = "The closest matching container-instance has insufficient memory available."
			}
			sv.event(now, "was unable to place a task because no container instance met all of its requirements. Reason: %s For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.", msg)
		}
		if primary.failed >= 3 && now.Sub(sv.lastFailEvent) > 10*time.Second {
			sv.lastFailEvent = now
			sv.event(now, "is unable to consistently start tasks successfully. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.")
		}
	}
	// rolling replacement: once the primary is healthy at full size, stop
	// the tasks of older deployments
	healthy := int32(0)
	for _, t := range tasksOf(primary.id) {
		if s.taskHealthy(rs, t) {
			healthy++
		}
	}
	if len(sv.deployments) > 1 && healthy >= sv.desired {
		var keep []*ecsDeployment
		keep = append(keep, primary)
		for _, d := range sv.deployments[1:] {
			old := tasksOf(d.id)
			var stopped []string
			for _, t := range old {
				s.stopTask(rs, cl, t, fmt.Sprintf("Scaling activity initiated by (deployment %s)", primary.id), ecstypes.TaskStopCodeServiceSchedulerInitiated, now)
				stopped = append(stopped, t.id)
			}
			if len(stopped) > 0 {
				sv.event(now, "has stopped %d running tasks: %s.", len(stopped), taskList(stopped))
			}
			gone := true
			for _, t := range cl.tasks {
				if t.service == sv.name && t.deployment == d.id && t.lastStatus != "STOPPED" {
					gone = false
				}
			}
			if !gone {
				keep = append(keep, d)
			}
		}
		sv.deployments = keep
	}
	// steady state
	if len(sv.deployments) == 1 && healthy == sv.desired && int32(len(tasksOf(primary.id))) == sv.desired && primary.rollout != ecstypes.DeploymentRolloutStateFailed {
		if primary.rollout == ecstypes.DeploymentRolloutStateInProgress {
			primary.rollout = ecstypes.DeploymentRolloutStateCompleted
			primary.reason = fmt.Sprintf("ECS deployment %s completed.", primary.id)
			primary.updated = now
			sv.event(now, "(deployment %s) deployment completed.", primary.id)
		}
		if !sv.steady {
			sv.steady = true
			sv.event(now, "has reached a steady state.")
		}
	}
}

// managedScaleOut emulates capacity provider managed scaling: when tasks
// cannot be placed, grow the provider's Auto Scaling group by one instance
// (if nothing is launching already and max allows).
func (s *Server) managedScaleOut(rs *regionState, strategy []ecstypes.CapacityProviderStrategyItem) {
	for _, it := range strategy {
		cp := rs.ecs.cps[str(it.CapacityProvider)]
		if cp == nil || cp.status != "ACTIVE" || cp.provider == nil || cp.provider.ManagedScaling == nil || cp.provider.ManagedScaling.Status != ecstypes.ManagedScalingStatusEnabled {
			continue
		}
		g := rs.asg.groups[cp.asgName]
		if g == nil || g.deleting || g.desired >= g.max {
			continue
		}
		launching := false
		for _, id := range g.instances {
			if in := rs.ec2.instances[id]; in != nil && in.state == "pending" {
				launching = true
			}
		}
		if !launching && int32(len(g.instances)) >= g.desired {
			g.desired++
		}
		return
	}
}

func taskList(ids []string) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = "(task " + id + ")"
	}
	return strings.Join(parts, " ")
}
