package aws

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/cloudark/cld/internal/provider"
)

// followInterval is how often `app logs --follow` asks AWS for news.
const followInterval = 2 * time.Second

// Logs writes an app's deployment logs (the ECS service's events and the
// reasons its tasks stopped) and its runtime logs (CloudWatch Logs of its
// containers). With Follow it keeps polling until ctx ends.
func (t *Target) Logs(ctx context.Context, app provider.AppRef, opts provider.LogOptions, w io.Writer) error {
	var svc *provider.Element
	var group *provider.Element
	for _, el := range app.Elements {
		switch el.Kind {
		case KindService:
			svc = el
		case KindLogGroup:
			group = el
		}
	}
	if svc == nil {
		return fmt.Errorf("app %s has no ECS service", app.App)
	}
	var ss serviceSpec
	c, err := t.decode(ctx, svc, &ss)
	if err != nil {
		return err
	}
	since := app.Created.Add(-time.Second)
	if !opts.Since.IsZero() {
		since = opts.Since
	}
	lw := &provider.LineWriter{W: w}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	if opts.Deployment {
		run := func() {
			defer wg.Done()
			if err := t.deploymentLogs(ctx, c, ss, svc.Name, since, opts.Follow, lw); err != nil && ctx.Err() == nil {
				errs <- err
			}
		}
		wg.Add(1)
		if opts.Follow {
			go run()
		} else {
			run()
		}
	}
	if opts.Runtime && group != nil {
		run := func() {
			defer wg.Done()
			if err := runtimeLogs(ctx, c, group.Name, opts.Since, opts.Tail, opts.Follow, lw); err != nil && ctx.Err() == nil {
				errs <- err
			}
		}
		wg.Add(1)
		if opts.Follow {
			go run()
		} else {
			run()
		}
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// deploymentLogs prints service events and stopped tasks, oldest first.
func (t *Target) deploymentLogs(ctx context.Context, c *clients, ss serviceSpec, name string, since time.Time, follow bool, lw *provider.LineWriter) error {
	seen := map[string]bool{}
	for {
		type line struct {
			at  time.Time
			msg string
		}
		var lines []line
		svc, err := findService(ctx, c, ss.Cluster, name)
		if err != nil {
			return err
		}
		if svc != nil {
			for _, ev := range svc.Events {
				id := "event/" + aws.ToString(ev.Id)
				at := aws.ToTime(ev.CreatedAt)
				if seen[id] || at.Before(since) {
					continue
				}
				seen[id] = true
				lines = append(lines, line{at, aws.ToString(ev.Message)})
			}
		}
		tasks, err := stoppedTasks(ctx, c, ss.Cluster, name)
		if err != nil {
			return err
		}
		for _, tk := range tasks {
			id := "task/" + aws.ToString(tk.TaskArn)
			at := aws.ToTime(tk.StoppedAt)
			if seen[id] || at.Before(since) {
				continue
			}
			seen[id] = true
			arn := aws.ToString(tk.TaskArn)
			lines = append(lines, line{at, fmt.Sprintf("task %s stopped: %s", arn[strings.LastIndex(arn, "/")+1:], stopReason(tk))})
		}
		sort.SliceStable(lines, func(i, j int) bool { return lines[i].at.Before(lines[j].at) })
		for _, l := range lines {
			lw.Line(fmt.Sprintf("[deploy] %s %s", l.at.UTC().Format(time.RFC3339), l.msg))
		}
		if !follow {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(followInterval):
		}
	}
}

// runtimeLogs prints the containers' output from the app's log group.
func runtimeLogs(ctx context.Context, c *clients, group string, since time.Time, tail int, follow bool, lw *provider.LineWriter) error {
	var start *int64
	if !since.IsZero() {
		start = aws.Int64(since.UnixMilli())
	}
	seen := map[string]bool{}
	first := true
	for {
		var lines []string
		in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), StartTime: start}
		p := cloudwatchlogs.NewFilterLogEventsPaginator(c.Logs(), in)
		var last int64
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if hasCode(err, "ResourceNotFoundException") {
				return nil
			}
			if err != nil {
				return classify(err)
			}
			for _, e := range out.Events {
				id := aws.ToString(e.LogStreamName) + "/" + aws.ToString(e.EventId)
				if seen[id] {
					continue
				}
				seen[id] = true
				last = max(last, aws.ToInt64(e.Timestamp))
				lines = append(lines, containerPrefix(aws.ToString(e.LogStreamName))+strings.TrimRight(aws.ToString(e.Message), "\n"))
			}
		}
		if first && tail > 0 && len(lines) > tail {
			lines = lines[len(lines)-tail:]
		}
		first = false
		for _, l := range lines {
			lw.Line(l)
		}
		if !follow {
			return nil
		}
		if last > 0 {
			start = aws.Int64(last)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(followInterval):
		}
	}
}

// containerPrefix names the container of an awslogs stream
// (<prefix>/<container>/<task id>) when the app has several.
func containerPrefix(stream string) string {
	parts := strings.Split(stream, "/")
	if len(parts) == 3 && parts[0] == logStreamPrefix {
		return parts[1] + " | "
	}
	return ""
}
