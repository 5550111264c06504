//go:build cgo

// cgo.go - built only with CGO_ENABLED=1: a call into libc, so that the
// program is linked dynamically, with libc, as cgo programs are.
package main

// #include <unistd.h>
import "C"

func init() {
	_ = C.getpid()
}
