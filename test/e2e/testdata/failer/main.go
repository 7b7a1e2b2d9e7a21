// Command failer prints a line and exits with code 3: a database or app that
// never becomes ready, for rollback tests.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Println("failer: giving up on purpose")
	os.Exit(3)
}
