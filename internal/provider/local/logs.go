package local

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/cloudark/cld/internal/provider"
)

// Logs writes an app's deployment logs (the engine's events for its
// containers) and runtime logs (their stdout and stderr).
func (t *Target) Logs(ctx context.Context, app provider.AppRef, opts provider.LogOptions, w io.Writer) error {
	cli, err := t.docker()
	if err != nil {
		return err
	}
	lw := &provider.LineWriter{W: w}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	if opts.Deployment {
		since := app.Created
		if !opts.Since.IsZero() && opts.Since.After(since) {
			since = opts.Since
		}
		f := filters.NewArgs(filters.Arg("type", "container"), filters.Arg("label", provider.LabelApp+"="+app.App))
		lo := events.ListOptions{Since: strconv.FormatInt(since.Add(-time.Second).Unix(), 10), Filters: f}
		if !opts.Follow {
			lo.Until = strconv.FormatInt(time.Now().Unix()+1, 10)
		}
		msgs, errc := cli.Events(ctx, lo)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case m, ok := <-msgs:
					if !ok {
						return
					}
					if line := describeEvent(m); line != "" {
						lw.Line("[deploy] " + line)
					}
				case err := <-errc:
					if err != nil && err != io.EOF && ctx.Err() == nil {
						errs <- err
					}
					return
				case <-ctx.Done():
					return
				}
			}
		}()
		if !opts.Follow {
			wg.Wait() // events first, then the output, when not following
		}
	}
	if opts.Runtime {
		for _, el := range app.Elements {
			if el.Kind != KindApp {
				continue
			}
			lo := container.LogsOptions{ShowStdout: true, ShowStderr: true, Follow: opts.Follow}
			if opts.Tail > 0 {
				lo.Tail = strconv.Itoa(opts.Tail)
			}
			if !opts.Since.IsZero() {
				lo.Since = strconv.FormatInt(opts.Since.Unix(), 10)
			}
			rc, err := cli.ContainerLogs(ctx, el.Name, lo)
			if err != nil {
				lw.Line(fmt.Sprintf("[runtime] %s: %v", el.Name, engineError(err)))
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer rc.Close()
				pw := &prefixWriter{lw: lw, prefix: ""}
				stdcopy.StdCopy(pw, pw, rc)
				pw.flush()
			}()
			if !opts.Follow {
				wg.Wait()
			}
		}
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// describeEvent renders one engine event the way a user reads a deployment.
func describeEvent(m events.Message) string {
	name := m.Actor.Attributes["name"]
	at := time.Unix(0, m.TimeNano).UTC().Format(time.RFC3339)
	switch m.Action {
	case events.ActionCreate:
		return fmt.Sprintf("%s container %s created from image %s", at, name, m.Actor.Attributes["image"])
	case events.ActionStart:
		return fmt.Sprintf("%s container %s started", at, name)
	case events.ActionDie:
		return fmt.Sprintf("%s container %s exited with code %s", at, name, m.Actor.Attributes["exitCode"])
	case events.ActionOOM:
		return fmt.Sprintf("%s container %s was killed: out of memory", at, name)
	case events.ActionKill:
		return fmt.Sprintf("%s container %s sent signal %s", at, name, m.Actor.Attributes["signal"])
	case events.ActionStop:
		return fmt.Sprintf("%s container %s stopped", at, name)
	case events.ActionRestart:
		return fmt.Sprintf("%s container %s restarted", at, name)
	case events.ActionDestroy:
		return fmt.Sprintf("%s container %s removed", at, name)
	}
	if s := string(m.Action); len(s) > 14 && s[:14] == "health_status:" {
		return fmt.Sprintf("%s container %s health:%s", at, name, s[14:])
	}
	return ""
}

// prefixWriter splits a byte stream into lines for a provider.LineWriter.
type prefixWriter struct {
	lw     *provider.LineWriter
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		p.lw.Line(p.prefix + string(p.buf[:i]))
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}

func (p *prefixWriter) flush() {
	if len(p.buf) > 0 {
		p.lw.Line(p.prefix + string(p.buf))
		p.buf = nil
	}
}
