package gcloud

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"
)

// op is one long-running operation of any API. Its status follows time:
// PENDING until runAt, RUNNING until doneAt, then DONE, when onDone runs
// (under the server lock, from advance).
type op struct {
	api        string
	name       string // as the client addresses it (AR: full resource name)
	id         uint64 // compute numeric id
	project    string
	scope      string // compute: global | regions/R | zones/Z; container/AR: location
	kind       string // operationType
	method     string // method that started it
	targetLink string
	targetID   uint64 // compute targetId
	target     string // short target (SQL instance name, GKE cluster name)
	start      time.Time
	runAt      time.Time
	doneAt     time.Time
	done       bool
	failMsg    string // non-empty: ends with this error
	failCode   string // compute/SQL error code, GKE/AR canonical status
	onDone     func(failed bool)
	response   any // AR: the response embedded when done
	prefix     string
}

func (o *op) status(now time.Time) string {
	switch {
	case o.done:
		return "DONE"
	case !now.Before(o.runAt):
		return "RUNNING"
	}
	return "PENDING"
}

func (o *op) failed() bool { return o.done && o.failMsg != "" }

// newOp prepares an operation started by call c that lasts d. The caller
// sets the remaining fields and onDone, then calls startOp.
func (s *Server) newOp(c *call, kind string, d time.Duration) *op {
	now := c.now
	if now.IsZero() {
		now = time.Now()
	}
	o := &op{
		api:    c.api,
		method: c.method,
		kind:   kind,
		start:  now,
		runAt:  now.Add(d / 4),
		doneAt: now.Add(d),
		id:     s.nextID(),
		prefix: c.prefix,
	}
	for _, k := range []methodKey{{c.api, c.method}, {c.api, "*"}} {
		if f := s.opFaults[k]; f != nil {
			o.failMsg = f.message
			if o.failMsg == "" {
				o.failMsg = "Injected operation failure."
			}
			if f.times > 0 {
				f.times--
				if f.times == 0 {
					delete(s.opFaults, k)
				}
			}
			break
		}
	}
	return o
}

// startOp registers o and completes it at once when its duration is 0.
func (s *Server) startOp(o *op) {
	s.ops[o.api+"|"+o.name] = o
	s.pending = append(s.pending, o)
	if !o.doneAt.After(o.start) {
		s.advance(o.start)
	}
}

// finishNow completes a pending operation immediately (used when a delete
// aborts a create).
func (s *Server) finishNow(o *op, now time.Time, failMsg string, onDone func(bool)) {
	if o == nil || o.done {
		return
	}
	o.failMsg = failMsg
	o.onDone = onDone
	o.doneAt = now
	if o.runAt.After(now) {
		o.runAt = now
	}
	s.advance(now)
}

func (s *Server) lookupOp(api, name string) *op { return s.ops[api+"|"+name] }

// advance completes every operation whose time has come, oldest first.
// Called with s.mu held at the start of every request and by Inventory.
func (s *Server) advance(now time.Time) {
	for {
		var due []*op
		var keep []*op
		for _, o := range s.pending {
			if o.done {
				continue
			}
			if !o.doneAt.After(now) {
				due = append(due, o)
			} else {
				keep = append(keep, o)
			}
		}
		if len(due) == 0 {
			s.pending = keep
			return
		}
		s.pending = keep
		sort.SliceStable(due, func(i, j int) bool { return due[i].doneAt.Before(due[j].doneAt) })
		for _, o := range due {
			o.done = true
			if o.onDone != nil {
				o.onDone(o.failMsg != "")
			}
		}
	}
}

func (s *Server) nextID() uint64 {
	s.seq++
	return 4000000000000000000 + s.seq*7919
}

func randHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

func newUUID() string {
	h := randHex(32)
	return fmt.Sprintf("%s-%s-4%s-a%s-%s", h[0:8], h[8:12], h[13:16], h[17:20], h[20:32])
}

func randLower(n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
}

// rfc3339 is the timestamp format of GKE, Cloud SQL and Artifact Registry.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000000Z")
}

// computeTime is Compute's timestamp format.
func computeTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02T15:04:05.000-07:00")
}

// lastSegment returns what follows the last '/'.
func lastSegment(s string) string {
	if i := strings.LastIndex(s, "/"); i >= 0 {
		return s[i+1:]
	}
	return s
}

func cloneLabels(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
