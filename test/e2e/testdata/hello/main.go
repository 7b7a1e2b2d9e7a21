// Command hello answers every HTTP request on :8080 with "hello": the
// smallest app, for deploy latency benchmarks.
package main

import (
	"fmt"
	"net/http"
)

func main() {
	fmt.Println("hello listening on :8080")
	http.ListenAndServe(":8080", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello")
	}))
}
