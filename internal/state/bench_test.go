package state

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkListObjects: what `cld app list` costs the server with 1,000 apps.
func BenchmarkListObjects(b *testing.B) {
	s, err := OpenSQLite(filepath.Join(b.TempDir(), "cld.sqlite"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for i := 0; i < 1000; i++ {
		s.CreateObject(ctx, &Object{Kind: KindApp, Name: fmt.Sprintf("app-%05d", i), Env: "bench", Base: "x", Status: StatusAvailable, URL: "http://localhost:1234", Source: make([]byte, 600), Spec: make([]byte, 1200)})
	}
	b.Run("query", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if objs, err := s.ListObjects(ctx, KindApp, ""); err != nil || len(objs) != 1000 {
				b.Fatal(err)
			}
		}
	})
	objs, _ := s.ListObjects(ctx, KindApp, "")
	b.Run("json", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			json.Marshal(objs)
		}
	})
}

func BenchmarkCachedList(b *testing.B) {
	s, err := OpenSQLite(filepath.Join(b.TempDir(), "cld.sqlite"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	c := NewCached(s)
	for i := 0; i < 1000; i++ {
		c.CreateObject(ctx, &Object{Kind: KindApp, Name: fmt.Sprintf("app-%05d", i), Env: "bench", Base: "x", Status: StatusAvailable})
	}
	for i := 0; i < b.N; i++ {
		if objs, err := c.ListObjects(ctx, KindApp, ""); err != nil || len(objs) != 1000 {
			b.Fatal(err)
		}
	}
}
