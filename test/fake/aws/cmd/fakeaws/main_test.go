package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	fake "github.com/cloudark/cld/test/fake/aws"
)

func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-duration", "50ms"}, strings.NewReader(""), outW, io.Discard)
		_ = outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	url := strings.TrimSpace(line)
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("url %q", url)
	}
	go func() { _, _ = io.Copy(io.Discard, outR) }()
	resp, err := http.Get(url + "/_fake/inventory")
	if err != nil {
		t.Fatal(err)
	}
	var inv []fake.Resource
	if err := json.NewDecoder(resp.Body).Decode(&inv); err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if len(inv) != 0 {
		t.Fatalf("inventory %+v", inv)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

func TestRunExitOnEOF(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	inR, inW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-exit-on-eof"}, inR, io.Discard, io.Discard) }()
	time.Sleep(50 * time.Millisecond)
	_ = inW.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return on stdin EOF")
	}
}
