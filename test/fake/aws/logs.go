package fake

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	logs "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

type logsState struct {
	groups map[string]*logGroup
}

type logGroup struct {
	name, arn string
	created   time.Time
	retention *int32
	kmsKeyID  string
	tags      map[string]string
	streams   map[string]*logStream
}

type logStream struct {
	name    string
	created time.Time
	events  []logEvent
	seq     int64
}

type logEvent struct {
	ts, ingest int64
	msg, id    string
}

func (st *logsState) inventory() []Resource {
	var out []Resource
	for _, g := range st.groups {
		out = append(out, Resource{Service: "logs", Type: "log-group", ID: g.arn, Name: g.name, Tags: copyTags(g.tags)})
	}
	return out
}

func (s *Server) createLogGroup(rs *regionState, name string, now time.Time) *logGroup {
	g := &logGroup{name: name, arn: fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", rs.name, s.opts.AccountID, name), created: now, streams: map[string]*logStream{}}
	rs.logs.groups[name] = g
	return g
}

// appendLogEvents appends messages to group/stream (creating the stream when
// createStream is set). Called by the ECS simulation and PutLogEvents.
func (s *Server) appendLogEvents(rs *regionState, group, stream string, createStream bool, at time.Time, msgs ...string) error {
	g := rs.logs.groups[group]
	if g == nil {
		return errorf("ResourceNotFoundException", "The specified log group does not exist.")
	}
	ls := g.streams[stream]
	if ls == nil {
		if !createStream {
			return errorf("ResourceNotFoundException", "The specified log stream does not exist.")
		}
		ls = &logStream{name: stream, created: at}
		g.streams[stream] = ls
	}
	ms := at.UnixMilli()
	for _, m := range msgs {
		ls.seq++
		ls.events = append(ls.events, logEvent{ts: ms, ingest: time.Now().UnixMilli(), msg: m, id: fmt.Sprintf("%056d", ls.seq)})
	}
	return nil
}

// PutLogEvents is a test hook: it appends messages (timestamped now) to a
// log stream, creating the stream if needed. The log group must exist.
func (s *Server) PutLogEvents(region, group, stream string, messages ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appendLogEvents(s.region(region), group, stream, true, time.Now(), messages...)
}

// LogEvents returns the messages of a log stream (all streams of the group
// when stream is ""), in time order.
func (s *Server) LogEvents(region, group, stream string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(time.Now())
	g := s.region(region).logs.groups[group]
	if g == nil {
		return nil
	}
	var evs []logEvent
	for _, n := range sortedKeys(g.streams) {
		if stream == "" || n == stream {
			evs = append(evs, g.streams[n].events...)
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].ts < evs[j].ts })
	var out []string
	for _, e := range evs {
		out = append(out, e.msg)
	}
	return out
}

func init() {
	register("logs", map[string]handlerFunc{
		"CreateLogGroup":        (*Server).logsCreateLogGroup,
		"DeleteLogGroup":        (*Server).logsDeleteLogGroup,
		"DescribeLogGroups":     (*Server).logsDescribeLogGroups,
		"PutRetentionPolicy":    (*Server).logsPutRetentionPolicy,
		"DeleteRetentionPolicy": (*Server).logsDeleteRetentionPolicy,
		"TagResource":           (*Server).logsTagResource,
		"UntagResource":         (*Server).logsUntagResource,
		"ListTagsForResource":   (*Server).logsListTagsForResource,
		"TagLogGroup":           (*Server).logsTagLogGroup,
		"ListTagsLogGroup":      (*Server).logsListTagsLogGroup,
		"CreateLogStream":       (*Server).logsCreateLogStream,
		"DeleteLogStream":       (*Server).logsDeleteLogStream,
		"DescribeLogStreams":    (*Server).logsDescribeLogStreams,
		"PutLogEvents":          (*Server).logsPutLogEvents,
		"GetLogEvents":          (*Server).logsGetLogEvents,
		"FilterLogEvents":       (*Server).logsFilterLogEvents,
	})
}

var logGroupRe = regexp.MustCompile(`^[\.\-_/#A-Za-z0-9]{1,512}$`)

var validRetention = map[int32]bool{1: true, 3: true, 5: true, 7: true, 14: true, 30: true, 60: true, 90: true, 120: true, 150: true, 180: true, 365: true,
	400: true, 545: true, 731: true, 1096: true, 1827: true, 2192: true, 2557: true, 2922: true, 3288: true, 3653: true}

func (st *logsState) group(name, ident string) (*logGroup, error) {
	if name == "" {
		name = ident
		if strings.HasPrefix(name, "arn:") {
			if i := strings.Index(name, ":log-group:"); i >= 0 {
				name = strings.TrimSuffix(name[i+len(":log-group:"):], ":*")
			}
		}
	}
	g := st.groups[name]
	if g == nil {
		return nil, errorf("ResourceNotFoundException", "The specified log group does not exist.")
	}
	return g, nil
}

func (s *Server) logsCreateLogGroup(c *reqCtx) (any, error) {
	var in logs.CreateLogGroupInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	name := str(in.LogGroupName)
	if !logGroupRe.MatchString(name) {
		return nil, errorf("InvalidParameterException", "1 validation error detected: Value '%s' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+", name)
	}
	if c.rs.logs.groups[name] != nil {
		return nil, errorf("ResourceAlreadyExistsException", "The specified log group already exists")
	}
	g := s.createLogGroup(c.rs, name, c.now)
	g.tags = in.Tags
	g.kmsKeyID = str(in.KmsKeyId)
	return &logs.CreateLogGroupOutput{}, nil
}

func (s *Server) logsDeleteLogGroup(c *reqCtx) (any, error) {
	var in logs.DeleteLogGroupInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	g, err := c.rs.logs.group(str(in.LogGroupName), "")
	if err != nil {
		return nil, err
	}
	delete(c.rs.logs.groups, g.name)
	return &logs.DeleteLogGroupOutput{}, nil
}

func (s *Server) logGroupOut(g *logGroup) logstypes.LogGroup {
	var stored int64
	for _, ls := range g.streams {
		for _, e := range ls.events {
			stored += int64(len(e.msg) + 26)
		}
	}
	out := logstypes.LogGroup{LogGroupName: ptr(g.name), Arn: ptr(g.arn + ":*"), LogGroupArn: ptr(g.arn), CreationTime: ptr(g.created.UnixMilli()),
		RetentionInDays: g.retention, StoredBytes: ptr(stored), MetricFilterCount: ptr(int32(0)), LogGroupClass: logstypes.LogGroupClassStandard,
		DeletionProtectionEnabled: ptr(false)}
	if g.kmsKeyID != "" {
		out.KmsKeyId = ptr(g.kmsKeyID)
	}
	return out
}

func (s *Server) logsDescribeLogGroups(c *reqCtx) (any, error) {
	var in logs.DescribeLogGroupsInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	names := sortedKeys(c.rs.logs.groups)
	var matched []string
	for _, n := range names {
		if p := str(in.LogGroupNamePrefix); p != "" && !strings.HasPrefix(n, p) {
			continue
		}
		if p := str(in.LogGroupNamePattern); p != "" && !strings.Contains(strings.ToLower(n), strings.ToLower(p)) {
			continue
		}
		if len(in.LogGroupIdentifiers) > 0 {
			g := c.rs.logs.groups[n]
			if !contains(in.LogGroupIdentifiers, n) && !contains(in.LogGroupIdentifiers, g.arn) && !contains(in.LogGroupIdentifiers, g.arn+":*") {
				continue
			}
		}
		matched = append(matched, n)
	}
	start, limit := pageArgs(in.NextToken, in.Limit, 50)
	out := &logs.DescribeLogGroupsOutput{LogGroups: []logstypes.LogGroup{}}
	for i := start; i < len(matched) && i < start+limit; i++ {
		out.LogGroups = append(out.LogGroups, s.logGroupOut(c.rs.logs.groups[matched[i]]))
	}
	if start+limit < len(matched) {
		out.NextToken = ptr(strconv.Itoa(start + limit))
	}
	return out, nil
}

func pageArgs(token *string, limit *int32, def int) (int, int) {
	start := 0
	if token != nil {
		start, _ = strconv.Atoi(*token)
	}
	n := def
	if limit != nil && *limit > 0 {
		n = int(*limit)
	}
	return start, n
}

func (s *Server) logsPutRetentionPolicy(c *reqCtx) (any, error) {
	var in logs.PutRetentionPolicyInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	g, err := c.rs.logs.group(str(in.LogGroupName), "")
	if err != nil {
		return nil, err
	}
	if in.RetentionInDays == nil || !validRetention[*in.RetentionInDays] {
		return nil, errorf("InvalidParameterException", "1 validation error detected: Value '%d' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]", i32(in.RetentionInDays))
	}
	g.retention = ptr(*in.RetentionInDays)
	return &logs.PutRetentionPolicyOutput{}, nil
}

func (s *Server) logsDeleteRetentionPolicy(c *reqCtx) (any, error) {
	var in logs.DeleteRetentionPolicyInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	g, err := c.rs.logs.group(str(in.LogGroupName), "")
	if err != nil {
		return nil, err
	}
	g.retention = nil
	return &logs.DeleteRetentionPolicyOutput{}, nil
}

func (s *Server) logsTagResource(c *reqCtx) (any, error) {
	var in logs.TagResourceInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	g, err := c.rs.logs.group("", str(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	if g.tags == nil {
		g.tags = map[string]string{}
	}
	for k, v := range in.Tags {
		g.tags[k] = v
	}
	return &logs.TagResourceOutput{}, nil
}

func (s *Server) logsUntagResource(c *reqCtx) (any, error) {
	var in logs.UntagResourceInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	g, err := c.rs.logs.group("", str(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		delete(g.tags, k)
	}
	return &logs.UntagResourceOutput{}, nil
}

func (s *Server) logsListTagsForResource(c *reqCtx) (any, error) {
	var in logs.ListTagsForResourceInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	g, err := c.rs.logs.group("", str(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	tags := copyTags(g.tags)
	if tags == nil {
		tags = map[string]string{}
	}
	return &logs.ListTagsForResourceOutput{Tags: tags}, nil
}

func (s *Server) logsTagLogGroup(c *reqCtx) (any, error) {
	var in logs.TagLogGroupInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	g, err := c.rs.logs.group(str(in.LogGroupName), "")
	if err != nil {
		return nil, err
	}
	if g.tags == nil {
		g.tags = map[string]string{}
	}
	for k, v := range in.Tags {
		g.tags[k] = v
	}
	return &logs.TagLogGroupOutput{}, nil
}

func (s *Server) logsListTagsLogGroup(c *reqCtx) (any, error) {
	var in logs.ListTagsLogGroupInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	g, err := c.rs.logs.group(str(in.LogGroupName), "")
	if err != nil {
		return nil, err
	}
	tags := copyTags(g.tags)
	if tags == nil {
		tags = map[string]string{}
	}
	return &logs.ListTagsLogGroupOutput{Tags: tags}, nil
}

func (s *Server) logsCreateLogStream(c *reqCtx) (any, error) {
	var in logs.CreateLogStreamInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	g, err := c.rs.logs.group(str(in.LogGroupName), "")
	if err != nil {
		return nil, err
	}
	name := str(in.LogStreamName)
	if name == "" || strings.ContainsAny(name, ":*") {
		return nil, errorf("InvalidParameterException", "Invalid log stream name '%s'", name)
	}
	if g.streams[name] != nil {
		return nil, errorf("ResourceAlreadyExistsException", "The specified log stream already exists")
	}
	g.streams[name] = &logStream{name: name, created: c.now}
	return &logs.CreateLogStreamOutput{}, nil
}

func (s *Server) logsDeleteLogStream(c *reqCtx) (any, error) {
	var in logs.DeleteLogStreamInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	g, err := c.rs.logs.group(str(in.LogGroupName), "")
	if err != nil {
		return nil, err
	}
	if g.streams[str(in.LogStreamName)] == nil {
		return nil, errorf("ResourceNotFoundException", "The specified log stream does not exist.")
	}
	delete(g.streams, str(in.LogStreamName))
	return &logs.DeleteLogStreamOutput{}, nil
}

func (s *Server) logsDescribeLogStreams(c *reqCtx) (any, error) {
	var in logs.DescribeLogStreamsInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	g, err := c.rs.logs.group(str(in.LogGroupName), str(in.LogGroupIdentifier))
	if err != nil {
		return nil, err
	}
	if in.OrderBy == logstypes.OrderByLastEventTime && str(in.LogStreamNamePrefix) != "" {
		return nil, errorf("InvalidParameterException", "Cannot order by LastEventTime with a logStreamNamePrefix.")
	}
	var streams []*logStream
	for _, n := range sortedKeys(g.streams) {
		if p := str(in.LogStreamNamePrefix); p != "" && !strings.HasPrefix(n, p) {
			continue
		}
		streams = append(streams, g.streams[n])
	}
	if in.OrderBy == logstypes.OrderByLastEventTime {
		last := func(ls *logStream) int64 {
			if len(ls.events) == 0 {
				return ls.created.UnixMilli()
			}
			return ls.events[len(ls.events)-1].ts
		}
		sort.SliceStable(streams, func(i, j int) bool { return last(streams[i]) < last(streams[j]) })
	}
	if boolv(in.Descending) {
		for i, j := 0, len(streams)-1; i < j; i, j = i+1, j-1 {
			streams[i], streams[j] = streams[j], streams[i]
		}
	}
	start, limit := pageArgs(in.NextToken, in.Limit, 50)
	out := &logs.DescribeLogStreamsOutput{LogStreams: []logstypes.LogStream{}}
	for i := start; i < len(streams) && i < start+limit; i++ {
		ls := streams[i]
		o := logstypes.LogStream{LogStreamName: ptr(ls.name), CreationTime: ptr(ls.created.UnixMilli()), Arn: ptr(g.arn + ":log-stream:" + ls.name), StoredBytes: ptr(int64(0))}
		if n := len(ls.events); n > 0 {
			o.FirstEventTimestamp = ptr(ls.events[0].ts)
			o.LastEventTimestamp = ptr(ls.events[n-1].ts)
			o.LastIngestionTime = ptr(ls.events[n-1].ingest)
		}
		out.LogStreams = append(out.LogStreams, o)
	}
	if start+limit < len(streams) {
		out.NextToken = ptr(strconv.Itoa(start + limit))
	}
	return out, nil
}

func (s *Server) logsPutLogEvents(c *reqCtx) (any, error) {
	var in logs.PutLogEventsInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	g, err := c.rs.logs.group(str(in.LogGroupName), "")
	if err != nil {
		return nil, err
	}
	ls := g.streams[str(in.LogStreamName)]
	if ls == nil {
		return nil, errorf("ResourceNotFoundException", "The specified log stream does not exist.")
	}
	if len(in.LogEvents) == 0 {
		return nil, errorf("InvalidParameterException", "1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	var prev int64
	for i, e := range in.LogEvents {
		ts := aws64(e.Timestamp)
		if i > 0 && ts < prev {
			return nil, errorf("InvalidParameterException", "Log events in a single PutLogEvents request must be in chronological order.")
		}
		prev = ts
	}
	ingest := c.now.UnixMilli()
	for _, e := range in.LogEvents {
		ls.seq++
		ls.events = append(ls.events, logEvent{ts: aws64(e.Timestamp), ingest: ingest, msg: str(e.Message), id: fmt.Sprintf("%056d", ls.seq)})
	}
	sort.SliceStable(ls.events, func(i, j int) bool { return ls.events[i].ts < ls.events[j].ts })
	return &logs.PutLogEventsOutput{NextSequenceToken: ptr(fmt.Sprintf("%056d", ls.seq))}, nil
}

func aws64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func inWindow(ts int64, start, end *int64) bool {
	if start != nil && ts < *start {
		return false
	}
	if end != nil && ts >= *end {
		return false
	}
	return true
}

func (s *Server) logsGetLogEvents(c *reqCtx) (any, error) {
	var in logs.GetLogEventsInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	g, err := c.rs.logs.group(str(in.LogGroupName), str(in.LogGroupIdentifier))
	if err != nil {
		return nil, err
	}
	ls := g.streams[str(in.LogStreamName)]
	if ls == nil {
		return nil, errorf("ResourceNotFoundException", "The specified log stream does not exist.")
	}
	var evs []logEvent
	for _, e := range ls.events {
		if inWindow(e.ts, in.StartTime, in.EndTime) {
			evs = append(evs, e)
		}
	}
	limit := 10000
	if in.Limit != nil && *in.Limit > 0 {
		limit = int(*in.Limit)
	}
	var from, to int
	tok := str(in.NextToken)
	switch {
	case strings.HasPrefix(tok, "f/"):
		from, _ = strconv.Atoi(tok[2:])
		to = from + limit
	case strings.HasPrefix(tok, "b/"):
		to, _ = strconv.Atoi(tok[2:])
		from = to - limit
	case tok != "":
		return nil, errorf("InvalidParameterException", "The specified nextToken is invalid.")
	case boolv(in.StartFromHead):
		from, to = 0, limit
	default:
		to = len(evs)
		from = to - limit
	}
	if from < 0 {
		from = 0
	}
	if from > len(evs) {
		from = len(evs)
	}
	if to > len(evs) {
		to = len(evs)
	}
	if to < from {
		to = from
	}
	out := &logs.GetLogEventsOutput{Events: []logstypes.OutputLogEvent{}, NextForwardToken: ptr(fmt.Sprintf("f/%d", to)), NextBackwardToken: ptr(fmt.Sprintf("b/%d", from))}
	for _, e := range evs[from:to] {
		out.Events = append(out.Events, logstypes.OutputLogEvent{Timestamp: ptr(e.ts), IngestionTime: ptr(e.ingest), Message: ptr(e.msg)})
	}
	return out, nil
}

// matchPattern implements the plain-text subset of CloudWatch Logs filter
// patterns: space separated terms that must all appear, "quoted phrases",
// ?term (any of), -term (none of). JSON/space-delimited patterns match all.
func matchPattern(pattern, msg string) bool {
	pattern = strings.TrimSpace(pattern)
	if pattern == "" || strings.HasPrefix(pattern, "{") || strings.HasPrefix(pattern, "[") {
		return true
	}
	var terms []string
	for len(pattern) > 0 {
		pattern = strings.TrimLeft(pattern, " ")
		if pattern == "" {
			break
		}
		prefix := ""
		if pattern[0] == '?' || pattern[0] == '-' {
			prefix, pattern = pattern[:1], pattern[1:]
		}
		if strings.HasPrefix(pattern, "\"") {
			end := strings.Index(pattern[1:], "\"")
			if end < 0 {
				terms = append(terms, prefix+pattern[1:])
				break
			}
			terms = append(terms, prefix+pattern[1:end+1])
			pattern = pattern[end+2:]
			continue
		}
		end := strings.IndexByte(pattern, ' ')
		if end < 0 {
			end = len(pattern)
		}
		terms = append(terms, prefix+pattern[:end])
		pattern = pattern[end:]
	}
	anyOf, anyMatched := false, false
	for _, t := range terms {
		switch {
		case strings.HasPrefix(t, "?"):
			anyOf = true
			if strings.Contains(msg, t[1:]) {
				anyMatched = true
			}
		case strings.HasPrefix(t, "-"):
			if strings.Contains(msg, t[1:]) {
				return false
			}
		default:
			if !strings.Contains(msg, t) {
				return false
			}
		}
	}
	return !anyOf || anyMatched
}

func (s *Server) logsFilterLogEvents(c *reqCtx) (any, error) {
	var in logs.FilterLogEventsInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	g, err := c.rs.logs.group(str(in.LogGroupName), str(in.LogGroupIdentifier))
	if err != nil {
		return nil, err
	}
	if len(in.LogStreamNames) > 0 && str(in.LogStreamNamePrefix) != "" {
		return nil, errorf("InvalidParameterException", "logStreamNames and logStreamNamePrefix are mutually exclusive")
	}
	type fe struct {
		stream string
		e      logEvent
	}
	var all []fe
	for _, n := range sortedKeys(g.streams) {
		if len(in.LogStreamNames) > 0 && !contains(in.LogStreamNames, n) {
			continue
		}
		if p := str(in.LogStreamNamePrefix); p != "" && !strings.HasPrefix(n, p) {
			continue
		}
		for _, e := range g.streams[n].events {
			if inWindow(e.ts, in.StartTime, in.EndTime) && matchPattern(str(in.FilterPattern), e.msg) {
				all = append(all, fe{n, e})
			}
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].e.ts < all[j].e.ts })
	start, limit := pageArgs(in.NextToken, in.Limit, 10000)
	out := &logs.FilterLogEventsOutput{Events: []logstypes.FilteredLogEvent{}, SearchedLogStreams: []logstypes.SearchedLogStream{}}
	for i := start; i < len(all) && i < start+limit; i++ {
		e := all[i]
		out.Events = append(out.Events, logstypes.FilteredLogEvent{LogStreamName: ptr(e.stream), Timestamp: ptr(e.e.ts), IngestionTime: ptr(e.e.ingest), Message: ptr(e.e.msg), EventId: ptr(e.e.id)})
	}
	if start+limit < len(all) {
		out.NextToken = ptr(strconv.Itoa(start + limit))
	}
	return out, nil
}
