package fake

// Wire formats.
//
// The SDK modules used by cld (all but EC2) are generated with schema-based
// serde: every request/response type carries a *smithy.Schema describing its
// members and serialization traits, and output types implement
// smithy.Serializable. The fake reuses that: handlers build the SDK's own
// output structs (e.g. *ecs.CreateClusterOutput) and the tree serializer below
// renders them as AWS JSON 1.1 or awsQuery XML exactly as the SDK's
// deserializers expect. Requests are decoded into the SDK's own input structs
// by walking the input schema (JSON body or query form), normalising the
// value tree to member names and handing it to encoding/json, which matches
// member names to Go fields case-insensitively.
//
// EC2 is still generated with hand-written (non-schema) serializers in the
// SDK version used, so EC2 is handled separately (ec2*.go) with explicit
// query keys and encoding/xml response structs.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/document"
	smithytime "github.com/aws/smithy-go/time"
	"github.com/aws/smithy-go/traits"
)

// ---------------------------------------------------------------------------
// response side: a ShapeSerializer that records a tree

type nodeKind uint8

const (
	nScalar nodeKind = iota
	nStruct
	nList
	nMap
)

type wnode struct {
	schema *smithy.Schema
	kind   nodeKind
	val    any // string, bool, int64, float64, time.Time, []byte
	kids   []*wnode
	keys   []string // map keys, parallel to kids
}

type treeSerializer struct {
	root       *wnode
	stack      []*wnode
	pendingKey *string
}

var _ smithy.ShapeSerializer = (*treeSerializer)(nil)

func (t *treeSerializer) add(n *wnode) {
	if len(t.stack) == 0 {
		if t.root == nil {
			t.root = n
		}
		return
	}
	top := t.stack[len(t.stack)-1]
	if top.kind == nMap {
		k := ""
		if t.pendingKey != nil {
			k = *t.pendingKey
			t.pendingKey = nil
		}
		top.keys = append(top.keys, k)
	}
	top.kids = append(top.kids, n)
}

func (t *treeSerializer) scalar(s *smithy.Schema, v any) {
	t.add(&wnode{schema: s, kind: nScalar, val: v})
}

func (t *treeSerializer) open(s *smithy.Schema, k nodeKind) {
	n := &wnode{schema: s, kind: k}
	t.add(n)
	if len(t.stack) == 0 && t.root == nil {
		t.root = n
	}
	t.stack = append(t.stack, n)
}

func (t *treeSerializer) close() {
	if len(t.stack) > 0 {
		t.stack = t.stack[:len(t.stack)-1]
	}
}

func (t *treeSerializer) Bytes() []byte                            { return nil }
func (t *treeSerializer) WriteInt8(s *smithy.Schema, v int8)       { t.scalar(s, int64(v)) }
func (t *treeSerializer) WriteInt16(s *smithy.Schema, v int16)     { t.scalar(s, int64(v)) }
func (t *treeSerializer) WriteInt32(s *smithy.Schema, v int32)     { t.scalar(s, int64(v)) }
func (t *treeSerializer) WriteInt64(s *smithy.Schema, v int64)     { t.scalar(s, v) }
func (t *treeSerializer) WriteFloat32(s *smithy.Schema, v float32) { t.scalar(s, float64(v)) }
func (t *treeSerializer) WriteFloat64(s *smithy.Schema, v float64) { t.scalar(s, v) }
func (t *treeSerializer) WriteBool(s *smithy.Schema, v bool)       { t.scalar(s, v) }
func (t *treeSerializer) WriteString(s *smithy.Schema, v string)   { t.scalar(s, v) }
func (t *treeSerializer) WriteBigInt(s *smithy.Schema, v *big.Int) { t.scalar(s, v.String()) }
func (t *treeSerializer) WriteBigFloat(s *smithy.Schema, v *big.Float) {
	t.scalar(s, v.String())
}
func (t *treeSerializer) WriteBlob(s *smithy.Schema, v []byte)    { t.scalar(s, v) }
func (t *treeSerializer) WriteTime(s *smithy.Schema, v time.Time) { t.scalar(s, v) }
func (t *treeSerializer) WriteUnion(s, variant *smithy.Schema)    { t.open(s, nStruct) }
func (t *treeSerializer) CloseUnion()                             { t.close() }
func (t *treeSerializer) WriteDocument(s *smithy.Schema, v document.Value) {
}
func (t *treeSerializer) WriteNil(s *smithy.Schema)    {}
func (t *treeSerializer) WriteStruct(s *smithy.Schema) { t.open(s, nStruct) }
func (t *treeSerializer) CloseStruct()                 { t.close() }
func (t *treeSerializer) WriteList(s *smithy.Schema)   { t.open(s, nList) }
func (t *treeSerializer) CloseList()                   { t.close() }
func (t *treeSerializer) WriteMap(s *smithy.Schema)    { t.open(s, nMap) }
func (t *treeSerializer) WriteKey(s *smithy.Schema, k string) {
	t.pendingKey = &k
}
func (t *treeSerializer) CloseMap() { t.close() }

func toTree(v smithy.Serializable) *wnode {
	t := &treeSerializer{}
	v.Serialize(t)
	return t.root
}

// rootSchema returns the schema an SDK input/output struct serializes with.
func rootSchema(v smithy.Serializable) *smithy.Schema {
	n := toTree(v)
	if n == nil {
		return nil
	}
	return n.schema
}

func timestampFormat(s *smithy.Schema, def string) string {
	if t, ok := smithy.SchemaTrait[*traits.TimestampFormat](s); ok && t.Format != "" {
		return t.Format
	}
	return def
}

// --- JSON rendering (awsJson1_1)

func renderJSON(n *wnode) []byte {
	var b bytes.Buffer
	writeJSON(&b, n)
	return b.Bytes()
}

func writeJSON(b *bytes.Buffer, n *wnode) {
	switch n.kind {
	case nStruct:
		b.WriteByte('{')
		for i, k := range n.kids {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k.schema.MemberName())
			b.WriteByte(':')
			writeJSON(b, k)
		}
		b.WriteByte('}')
	case nList:
		b.WriteByte('[')
		for i, k := range n.kids {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, k)
		}
		b.WriteByte(']')
	case nMap:
		b.WriteByte('{')
		for i, k := range n.kids {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, n.keys[i])
			b.WriteByte(':')
			writeJSON(b, k)
		}
		b.WriteByte('}')
	default:
		switch v := n.val.(type) {
		case string:
			writeJSONString(b, v)
		case bool:
			b.WriteString(strconv.FormatBool(v))
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		case float64:
			switch {
			case math.IsNaN(v):
				b.WriteString(`"NaN"`)
			case math.IsInf(v, 1):
				b.WriteString(`"Infinity"`)
			case math.IsInf(v, -1):
				b.WriteString(`"-Infinity"`)
			default:
				b.WriteString(strconv.FormatFloat(v, 'f', -1, 64))
			}
		case []byte:
			writeJSONString(b, base64.StdEncoding.EncodeToString(v))
		case time.Time:
			switch timestampFormat(n.schema, "epoch-seconds") {
			case "date-time":
				writeJSONString(b, smithytime.FormatDateTime(v))
			case "http-date":
				writeJSONString(b, smithytime.FormatHTTPDate(v))
			default:
				b.WriteString(strconv.FormatFloat(smithytime.FormatEpochSeconds(v), 'f', -1, 64))
			}
		default:
			b.WriteString("null")
		}
	}
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s)
	b.Write(enc)
}

// --- XML rendering (awsQuery responses)

// xmlElemName is the element name the SDK's XML deserializer looks for: a
// member's own @xmlName, else its member name.
func xmlElemName(s *smithy.Schema) string {
	if t, ok := smithy.SchemaDirectTrait[*traits.XMLName](s); ok {
		return t.Name
	}
	return s.MemberName()
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		case '\r':
			b.WriteString("&#xD;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func renderXMLMembers(b *bytes.Buffer, n *wnode) {
	for _, k := range n.kids {
		writeXMLMember(b, xmlElemName(k.schema), k)
	}
}

func writeXMLMember(b *bytes.Buffer, name string, n *wnode) {
	switch n.kind {
	case nList:
		if _, flat := smithy.SchemaTrait[*traits.XMLFlattened](n.schema); flat {
			for _, k := range n.kids {
				writeXMLMember(b, name, k)
			}
			return
		}
		item := "member"
		if lm := n.schema.ListMember(); lm != nil {
			if t, ok := smithy.SchemaDirectTrait[*traits.XMLName](lm); ok {
				item = t.Name
			}
		}
		b.WriteString("<" + name + ">")
		for _, k := range n.kids {
			writeXMLMember(b, item, k)
		}
		b.WriteString("</" + name + ">")
	case nMap:
		kname, vname := "key", "value"
		if ks := n.schema.MapKey(); ks != nil {
			if t, ok := smithy.SchemaDirectTrait[*traits.XMLName](ks); ok {
				kname = t.Name
			}
		}
		if vs := n.schema.MapValue(); vs != nil {
			if t, ok := smithy.SchemaDirectTrait[*traits.XMLName](vs); ok {
				vname = t.Name
			}
		}
		_, flat := smithy.SchemaTrait[*traits.XMLFlattened](n.schema)
		if !flat {
			b.WriteString("<" + name + ">")
		}
		for i, k := range n.kids {
			if flat {
				b.WriteString("<" + name + ">")
			} else {
				b.WriteString("<entry>")
			}
			b.WriteString("<" + kname + ">" + xmlEscape(n.keys[i]) + "</" + kname + ">")
			writeXMLMember(b, vname, k)
			if flat {
				b.WriteString("</" + name + ">")
			} else {
				b.WriteString("</entry>")
			}
		}
		if !flat {
			b.WriteString("</" + name + ">")
		}
	case nStruct:
		b.WriteString("<" + name + ">")
		renderXMLMembers(b, n)
		b.WriteString("</" + name + ">")
	default:
		b.WriteString("<" + name + ">" + xmlEscape(xmlScalar(n)) + "</" + name + ">")
	}
}

func xmlScalar(n *wnode) string {
	switch v := n.val.(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		switch {
		case math.IsNaN(v):
			return "NaN"
		case math.IsInf(v, 1):
			return "Infinity"
		case math.IsInf(v, -1):
			return "-Infinity"
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	case []byte:
		return base64.StdEncoding.EncodeToString(v)
	case time.Time:
		switch timestampFormat(n.schema, "date-time") {
		case "epoch-seconds":
			return strconv.FormatFloat(smithytime.FormatEpochSeconds(v), 'f', -1, 64)
		case "http-date":
			return smithytime.FormatHTTPDate(v)
		default:
			return smithytime.FormatDateTime(v)
		}
	}
	return ""
}

// renderQueryResponse renders an awsQuery response document:
// <OpResponse xmlns><OpResult>...</OpResult><ResponseMetadata>...</ResponseMetadata></OpResponse>
func renderQueryResponse(action, xmlns, requestID string, out smithy.Serializable) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString("<" + action + "Response xmlns=\"" + xmlns + "\">")
	b.WriteString("<" + action + "Result>")
	if out != nil {
		if n := toTree(out); n != nil {
			renderXMLMembers(&b, n)
		}
	}
	b.WriteString("</" + action + "Result>")
	b.WriteString("<ResponseMetadata><RequestId>" + requestID + "</RequestId></ResponseMetadata>")
	b.WriteString("</" + action + "Response>")
	return b.Bytes()
}

// ---------------------------------------------------------------------------
// request side: schema-driven normalisation into the SDK input structs

// decodeJSONInput decodes an AWS JSON 1.1 request body into an SDK input
// struct (e.g. *ecs.CreateClusterInput).
func decodeJSONInput(body []byte, in smithy.Serializable) error {
	schema := rootSchema(in)
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return fmt.Errorf("request body is not JSON: %w", err)
	}
	norm := normJSON(schema, raw)
	return remarshal(norm, in)
}

func remarshal(norm any, in any) error {
	if norm == nil {
		return nil
	}
	b, err := json.Marshal(norm)
	if err != nil {
		return err
	}
	// Every key is a schema member name; one without a Go field means the
	// SDK renamed it and the fake would silently drop it: fail loudly.
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(in)
}

func normJSON(s *smithy.Schema, v any) any {
	if s == nil || v == nil {
		return nil
	}
	switch s.Type() {
	case smithy.ShapeTypeStructure:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		out := map[string]any{}
		for k, vv := range obj {
			m := s.Member(k)
			if m == nil {
				continue
			}
			if nv := normJSON(m, vv); nv != nil {
				out[k] = nv
			}
		}
		return out
	case smithy.ShapeTypeList, smithy.ShapeTypeSet:
		arr, ok := v.([]any)
		if !ok {
			return nil
		}
		out := make([]any, 0, len(arr))
		for _, it := range arr {
			out = append(out, normJSON(s.ListMember(), it))
		}
		return out
	case smithy.ShapeTypeMap:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		out := map[string]any{}
		for k, vv := range obj {
			out[k] = normJSON(s.MapValue(), vv)
		}
		return out
	case smithy.ShapeTypeTimestamp:
		switch t := v.(type) {
		case json.Number:
			f, err := t.Float64()
			if err != nil {
				return nil
			}
			return smithytime.ParseEpochSeconds(f).UTC().Format(time.RFC3339Nano)
		case string:
			if tt, err := smithytime.ParseDateTime(t); err == nil {
				return tt.UTC().Format(time.RFC3339Nano)
			}
		}
		return nil
	case smithy.ShapeTypeUnion, smithy.ShapeTypeDocument:
		return nil
	default:
		return v
	}
}

// decodeQueryInput decodes an awsQuery form into an SDK input struct.
func decodeQueryInput(form url.Values, in smithy.Serializable) error {
	schema := rootSchema(in)
	q := &queryForm{form: form}
	for k := range form {
		q.keys = append(q.keys, k)
	}
	sort.Strings(q.keys)
	norm := q.structure(schema, "")
	return remarshal(norm, in)
}

type queryForm struct {
	form url.Values
	keys []string
}

func (q *queryForm) has(prefix string) bool {
	if _, ok := q.form[prefix]; ok {
		return true
	}
	p := prefix + "."
	i := sort.SearchStrings(q.keys, p)
	return i < len(q.keys) && strings.HasPrefix(q.keys[i], p)
}

func queryMemberName(m *smithy.Schema) string {
	if t, ok := smithy.SchemaTrait[*traits.XMLName](m); ok {
		return t.Name
	}
	return m.MemberName()
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func (q *queryForm) structure(s *smithy.Schema, prefix string) map[string]any {
	out := map[string]any{}
	for name, m := range s.Members() {
		key := join(prefix, queryMemberName(m))
		if !q.has(key) {
			continue
		}
		if v := q.value(m, key); v != nil {
			out[name] = v
		}
	}
	return out
}

func (q *queryForm) value(s *smithy.Schema, key string) any {
	switch s.Type() {
	case smithy.ShapeTypeStructure:
		return q.structure(s, key)
	case smithy.ShapeTypeList, smithy.ShapeTypeSet:
		out := []any{}
		base := key
		if _, flat := smithy.SchemaTrait[*traits.XMLFlattened](s); !flat {
			item := "member"
			if lm := s.ListMember(); lm != nil {
				if t, ok := smithy.SchemaTrait[*traits.XMLName](lm); ok {
					item = t.Name
				}
			}
			base = key + "." + item
		}
		for i := 1; i < 10000; i++ {
			k := base + "." + strconv.Itoa(i)
			if !q.has(k) {
				break
			}
			out = append(out, q.value(s.ListMember(), k))
		}
		return out
	case smithy.ShapeTypeMap:
		out := map[string]any{}
		base := key
		if _, flat := smithy.SchemaTrait[*traits.XMLFlattened](s); !flat {
			base = key + ".entry"
		}
		kname, vname := "key", "value"
		if ks := s.MapKey(); ks != nil {
			if t, ok := smithy.SchemaTrait[*traits.XMLName](ks); ok {
				kname = t.Name
			}
		}
		if vs := s.MapValue(); vs != nil {
			if t, ok := smithy.SchemaTrait[*traits.XMLName](vs); ok {
				vname = t.Name
			}
		}
		for i := 1; i < 10000; i++ {
			k := base + "." + strconv.Itoa(i)
			if !q.has(k) {
				break
			}
			out[q.form.Get(k+"."+kname)] = q.value(s.MapValue(), k+"."+vname)
		}
		return out
	case smithy.ShapeTypeUnion, smithy.ShapeTypeDocument:
		return nil
	}
	if _, ok := q.form[key]; !ok {
		return nil
	}
	raw := q.form.Get(key)
	switch s.Type() {
	case smithy.ShapeTypeBoolean:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return nil
		}
		return b
	case smithy.ShapeTypeByte, smithy.ShapeTypeShort, smithy.ShapeTypeInteger, smithy.ShapeTypeLong,
		smithy.ShapeTypeIntEnum, smithy.ShapeTypeFloat, smithy.ShapeTypeDouble:
		if _, err := strconv.ParseFloat(raw, 64); err != nil {
			return nil
		}
		return json.Number(raw)
	case smithy.ShapeTypeTimestamp:
		if t, err := smithytime.ParseDateTime(raw); err == nil {
			return t.UTC().Format(time.RFC3339Nano)
		}
		if f, err := strconv.ParseFloat(raw, 64); err == nil {
			return smithytime.ParseEpochSeconds(f).UTC().Format(time.RFC3339Nano)
		}
		return nil
	default:
		return raw
	}
}
