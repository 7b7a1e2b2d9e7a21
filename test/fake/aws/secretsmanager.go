package fake

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

type smState struct {
	secrets map[string]*secret // by name
}

type secret struct {
	name, arn, desc, kmsKeyID string
	versions                  map[string]*secretVersion
	created, changed          time.Time
	deletionDate              *time.Time // scheduled deletion
	deletedAt                 time.Time  // when DeleteSecret was called
	forceAt                   time.Time  // ForceDeleteWithoutRecovery: gone at
	tags                      []smtypes.Tag
}

type secretVersion struct {
	id      string
	str     *string
	bin     []byte
	stages  []string
	created time.Time
}

func (st *smState) inventory() []Resource {
	var out []Resource
	for _, sec := range st.secrets {
		status := ""
		if sec.deletionDate != nil {
			status = "PendingDeletion"
		}
		tags := map[string]string{}
		for _, t := range sec.tags {
			tags[str(t.Key)] = str(t.Value)
		}
		out = append(out, Resource{Service: "secretsmanager", Type: "secret", ID: sec.arn, Name: sec.name, Status: status, Tags: copyTags(tags)})
	}
	return out
}

func (s *Server) advanceSecrets(rs *regionState, now time.Time) {
	for n, sec := range rs.sm.secrets {
		if !sec.forceAt.IsZero() && !now.Before(sec.forceAt) || sec.deletionDate != nil && now.After(*sec.deletionDate) {
			delete(rs.sm.secrets, n)
		}
	}
}

func (sec *secret) current() *secretVersion {
	for _, v := range sec.versions {
		if contains(v.stages, "AWSCURRENT") {
			return v
		}
	}
	return nil
}

func (st *smState) find(id string) (*secret, error) {
	for _, sec := range st.secrets {
		if sec.name == id || sec.arn == id || strings.HasPrefix(id, "arn:") && strings.HasPrefix(sec.arn, id+"-") {
			return sec, nil
		}
	}
	return nil, errorf("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
}

func (st *smState) findLive(id string) (*secret, error) {
	sec, err := st.find(id)
	if err != nil {
		return nil, err
	}
	if sec.deletionDate != nil || !sec.forceAt.IsZero() {
		return nil, errorf("InvalidRequestException", "You can't perform this operation on the secret because it was marked for deletion.")
	}
	return sec, nil
}

// secretMissing checks a container secret's valueFrom (Secrets Manager ARN,
// SSM parameter ARN or name) and returns the task stopped reason when it
// cannot be resolved.
func (s *Server) secretMissing(rs *regionState, valueFrom string) string {
	parts := strings.Split(valueFrom, ":")
	if len(parts) >= 7 && parts[2] == "secretsmanager" {
		region := parts[3]
		arn := strings.Join(parts[:7], ":")
		srs := s.region(region)
		sec, err := srs.sm.findLive(arn)
		if err != nil {
			return fmt.Sprintf("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret %s from secrets manager: operation error Secrets Manager: GetSecretValue, https response error StatusCode: 400, ResourceNotFoundException: Secrets Manager can't find the specified secret.", arn)
		}
		if len(parts) >= 8 && parts[7] != "" {
			key := parts[7]
			var m map[string]any
			cur := sec.current()
			if cur == nil || cur.str == nil || json.Unmarshal([]byte(*cur.str), &m) != nil {
				return fmt.Sprintf("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: failed to unmarshal secret %s: not a JSON object", arn)
			}
			if _, ok := m[key]; !ok {
				return fmt.Sprintf("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: retrieved secret from Secrets Manager did not contain json key %s", key)
			}
		}
		return ""
	}
	region := rs.name
	if len(parts) >= 6 && parts[2] == "ssm" {
		region = parts[3]
	}
	if p, _ := s.lookupParam(s.region(region), valueFrom); p == nil {
		name := valueFrom
		if i := strings.Index(valueFrom, ":parameter"); i >= 0 {
			name = valueFrom[i+len(":parameter"):]
		}
		return fmt.Sprintf("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s): invalid parameters: %s", name)
	}
	return ""
}

func init() {
	register("secretsmanager", map[string]handlerFunc{
		"CreateSecret":   (*Server).smCreateSecret,
		"GetSecretValue": (*Server).smGetSecretValue,
		"PutSecretValue": (*Server).smPutSecretValue,
		"UpdateSecret":   (*Server).smUpdateSecret,
		"DescribeSecret": (*Server).smDescribeSecret,
		"DeleteSecret":   (*Server).smDeleteSecret,
		"RestoreSecret":  (*Server).smRestoreSecret,
		"ListSecrets":    (*Server).smListSecrets,
		"TagResource":    (*Server).smTagResource,
		"UntagResource":  (*Server).smUntagResource,
	})
}

var secretNameRe = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,512}$`)

func (s *Server) smCreateSecret(c *reqCtx) (any, error) {
	var in sm.CreateSecretInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	name := str(in.Name)
	if !secretNameRe.MatchString(name) {
		return nil, errorf("ValidationException", "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
	}
	if in.SecretString != nil && in.SecretBinary != nil {
		return nil, errorf("InvalidParameterException", "You can't specify both a binary secret value and a string secret value in the same secret.")
	}
	if old := c.rs.sm.secrets[name]; old != nil {
		if old.deletionDate != nil || !old.forceAt.IsZero() {
			return nil, errorf("InvalidRequestException", "You can't create this secret because a secret with this name is already scheduled for deletion.")
		}
		return nil, errorf("ResourceExistsException", "The operation failed because the secret %s already exists.", name)
	}
	sec := &secret{name: name, arn: c.arn("secretsmanager", "secret:"+name+"-"+randFrom("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", 6)),
		desc: str(in.Description), kmsKeyID: str(in.KmsKeyId), versions: map[string]*secretVersion{}, created: c.now, changed: c.now, tags: in.Tags}
	out := &sm.CreateSecretOutput{ARN: ptr(sec.arn), Name: ptr(name), ReplicationStatus: []smtypes.ReplicationStatusType{}}
	if in.SecretString != nil || in.SecretBinary != nil {
		id := orDefault(str(in.ClientRequestToken), newUUID())
		sec.versions[id] = &secretVersion{id: id, str: in.SecretString, bin: in.SecretBinary, stages: []string{"AWSCURRENT"}, created: c.now}
		out.VersionId = ptr(id)
	}
	c.rs.sm.secrets[name] = sec
	return out, nil
}

func (s *Server) smGetSecretValue(c *reqCtx) (any, error) {
	var in sm.GetSecretValueInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	sec, err := c.rs.sm.findLive(str(in.SecretId))
	if err != nil {
		return nil, err
	}
	var v *secretVersion
	switch {
	case in.VersionId != nil:
		v = sec.versions[*in.VersionId]
	default:
		stage := orDefault(str(in.VersionStage), "AWSCURRENT")
		for _, vv := range sec.versions {
			if contains(vv.stages, stage) {
				v = vv
			}
		}
	}
	if v == nil {
		return nil, errorf("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: %s", orDefault(str(in.VersionStage), "AWSCURRENT"))
	}
	return &sm.GetSecretValueOutput{ARN: ptr(sec.arn), Name: ptr(sec.name), VersionId: ptr(v.id), SecretString: v.str, SecretBinary: v.bin,
		VersionStages: append([]string{}, v.stages...), CreatedDate: ptr(v.created)}, nil
}

func (s *Server) putVersion(c *reqCtx, sec *secret, token *string, strv *string, bin []byte) string {
	id := orDefault(str(token), newUUID())
	for _, v := range sec.versions {
		v.stages = removeString(v.stages, "AWSPREVIOUS")
	}
	for _, v := range sec.versions {
		if contains(v.stages, "AWSCURRENT") {
			v.stages = append(removeString(v.stages, "AWSCURRENT"), "AWSPREVIOUS")
		}
	}
	for vid, v := range sec.versions {
		if len(v.stages) == 0 {
			delete(sec.versions, vid)
		}
	}
	sec.versions[id] = &secretVersion{id: id, str: strv, bin: bin, stages: []string{"AWSCURRENT"}, created: c.now}
	sec.changed = c.now
	return id
}

func (s *Server) smPutSecretValue(c *reqCtx) (any, error) {
	var in sm.PutSecretValueInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	sec, err := c.rs.sm.findLive(str(in.SecretId))
	if err != nil {
		return nil, err
	}
	id := s.putVersion(c, sec, in.ClientRequestToken, in.SecretString, in.SecretBinary)
	return &sm.PutSecretValueOutput{ARN: ptr(sec.arn), Name: ptr(sec.name), VersionId: ptr(id), VersionStages: []string{"AWSCURRENT"}}, nil
}

func (s *Server) smUpdateSecret(c *reqCtx) (any, error) {
	var in sm.UpdateSecretInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	sec, err := c.rs.sm.findLive(str(in.SecretId))
	if err != nil {
		return nil, err
	}
	if in.Description != nil {
		sec.desc = *in.Description
	}
	if in.KmsKeyId != nil {
		sec.kmsKeyID = *in.KmsKeyId
	}
	out := &sm.UpdateSecretOutput{ARN: ptr(sec.arn), Name: ptr(sec.name)}
	if in.SecretString != nil || in.SecretBinary != nil {
		out.VersionId = ptr(s.putVersion(c, sec, in.ClientRequestToken, in.SecretString, in.SecretBinary))
	}
	sec.changed = c.now
	return out, nil
}

func (s *Server) smDescribeSecret(c *reqCtx) (any, error) {
	var in sm.DescribeSecretInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	sec, err := c.rs.sm.find(str(in.SecretId))
	if err != nil {
		return nil, err
	}
	out := &sm.DescribeSecretOutput{ARN: ptr(sec.arn), Name: ptr(sec.name), CreatedDate: ptr(sec.created), LastChangedDate: ptr(sec.changed),
		Tags: append([]smtypes.Tag{}, sec.tags...), VersionIdsToStages: map[string][]string{}, RotationEnabled: ptr(false)}
	if sec.desc != "" {
		out.Description = ptr(sec.desc)
	}
	if sec.kmsKeyID != "" {
		out.KmsKeyId = ptr(sec.kmsKeyID)
	}
	if sec.deletionDate != nil {
		out.DeletedDate = ptr(sec.deletedAt)
	}
	for id, v := range sec.versions {
		out.VersionIdsToStages[id] = append([]string{}, v.stages...)
	}
	return out, nil
}

func (s *Server) smDeleteSecret(c *reqCtx) (any, error) {
	var in sm.DeleteSecretInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if boolv(in.ForceDeleteWithoutRecovery) && in.RecoveryWindowInDays != nil {
		return nil, errorf("InvalidParameterException", "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
	}
	sec, err := c.rs.sm.find(str(in.SecretId))
	if err != nil {
		return nil, err
	}
	if boolv(in.ForceDeleteWithoutRecovery) {
		if sec.forceAt.IsZero() {
			sec.forceAt = c.now.Add(s.opts.SecretDeleteDuration)
			if sec.deletedAt.IsZero() {
				sec.deletedAt = c.now
			}
		}
		if !c.now.Before(sec.forceAt) {
			delete(c.rs.sm.secrets, sec.name)
		}
		return &sm.DeleteSecretOutput{ARN: ptr(sec.arn), Name: ptr(sec.name), DeletionDate: ptr(c.now)}, nil
	}
	if sec.deletionDate != nil {
		return nil, errorf("InvalidRequestException", "You can't perform this operation on the secret because it was already scheduled for deletion.")
	}
	days := int64(30)
	if in.RecoveryWindowInDays != nil {
		days = *in.RecoveryWindowInDays
		if days < 7 || days > 30 {
			return nil, errorf("InvalidParameterException", "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
		}
	}
	sec.deletedAt = c.now
	sec.deletionDate = ptr(c.now.Add(time.Duration(days) * 24 * time.Hour))
	return &sm.DeleteSecretOutput{ARN: ptr(sec.arn), Name: ptr(sec.name), DeletionDate: sec.deletionDate}, nil
}

func (s *Server) smRestoreSecret(c *reqCtx) (any, error) {
	var in sm.RestoreSecretInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	sec, err := c.rs.sm.find(str(in.SecretId))
	if err != nil {
		return nil, err
	}
	if !sec.forceAt.IsZero() {
		return nil, errorf("InvalidRequestException", "You can't restore a secret that was deleted without recovery.")
	}
	sec.deletionDate = nil
	sec.deletedAt = time.Time{}
	return &sm.RestoreSecretOutput{ARN: ptr(sec.arn), Name: ptr(sec.name)}, nil
}

func (s *Server) smListSecrets(c *reqCtx) (any, error) {
	var in sm.ListSecretsInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	names := sortedKeys(c.rs.sm.secrets)
	out := &sm.ListSecretsOutput{SecretList: []smtypes.SecretListEntry{}}
	for _, n := range names {
		sec := c.rs.sm.secrets[n]
		if sec.deletionDate != nil && !boolv(in.IncludePlannedDeletion) {
			continue
		}
		ok := true
		for _, f := range in.Filters {
			match := false
			for _, v := range f.Values {
				switch f.Key {
				case smtypes.FilterNameStringTypeName:
					match = match || strings.HasPrefix(sec.name, v)
				case smtypes.FilterNameStringTypeTagKey:
					for _, t := range sec.tags {
						match = match || strings.HasPrefix(str(t.Key), v)
					}
				case smtypes.FilterNameStringTypeTagValue:
					for _, t := range sec.tags {
						match = match || strings.HasPrefix(str(t.Value), v)
					}
				default:
					match = true
				}
			}
			ok = ok && match
		}
		if !ok {
			continue
		}
		e := smtypes.SecretListEntry{ARN: ptr(sec.arn), Name: ptr(sec.name), CreatedDate: ptr(sec.created), LastChangedDate: ptr(sec.changed),
			Tags: append([]smtypes.Tag{}, sec.tags...), SecretVersionsToStages: map[string][]string{}}
		if sec.desc != "" {
			e.Description = ptr(sec.desc)
		}
		if sec.deletionDate != nil {
			e.DeletedDate = ptr(sec.deletedAt)
		}
		for id, v := range sec.versions {
			e.SecretVersionsToStages[id] = append([]string{}, v.stages...)
		}
		out.SecretList = append(out.SecretList, e)
	}
	return out, nil
}

func (s *Server) smTagResource(c *reqCtx) (any, error) {
	var in sm.TagResourceInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	sec, err := c.rs.sm.find(str(in.SecretId))
	if err != nil {
		return nil, err
	}
	for _, t := range in.Tags {
		replaced := false
		for i := range sec.tags {
			if str(sec.tags[i].Key) == str(t.Key) {
				sec.tags[i].Value = t.Value
				replaced = true
			}
		}
		if !replaced {
			sec.tags = append(sec.tags, t)
		}
	}
	sort.SliceStable(sec.tags, func(i, j int) bool { return str(sec.tags[i].Key) < str(sec.tags[j].Key) })
	return &sm.TagResourceOutput{}, nil
}

func (s *Server) smUntagResource(c *reqCtx) (any, error) {
	var in sm.UntagResourceInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	sec, err := c.rs.sm.find(str(in.SecretId))
	if err != nil {
		return nil, err
	}
	var keep []smtypes.Tag
	for _, t := range sec.tags {
		if !contains(in.TagKeys, str(t.Key)) {
			keep = append(keep, t)
		}
	}
	sec.tags = keep
	return &sm.UntagResourceOutput{}, nil
}
