// main.go - a Go program (the standard library only: its own system
// calls, not libc's) that uses scheme files, as test_static runs it,
// built with CGO_ENABLED=0 (static) and =1 (dynamic, with libc):
//
//	gofiles cat PATH	prints PATH
//	gofiles put PATH TEXT	writes TEXT to PATH (created, truncated)
//	gofiles ls DIR		lists DIR, one "name size" a line, sorted
//	gofiles stat PATH	prints "regular SIZE" or "directory"
//
// Any failure: one line on stderr, exit 1.
package main

import (
	"fmt"
	"os"
)

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 3 {
		fail(fmt.Errorf("usage: gofiles cat|put|ls|stat PATH [TEXT]"))
	}
	path := os.Args[2]
	switch os.Args[1] {
	case "cat":
		b, err := os.ReadFile(path)
		if err != nil {
			fail(err)
		}
		os.Stdout.Write(b)
	case "put":
		if len(os.Args) < 4 {
			fail(fmt.Errorf("put: no text"))
		}
		if err := os.WriteFile(path, []byte(os.Args[3]), 0644); err != nil {
			fail(err)
		}
	case "ls":
		ents, err := os.ReadDir(path)
		if err != nil {
			fail(err)
		}
		for _, e := range ents {
			info, err := e.Info()
			if err != nil {
				fail(err)
			}
			fmt.Println(e.Name(), info.Size())
		}
	case "stat":
		info, err := os.Stat(path)
		if err != nil {
			fail(err)
		}
		if info.IsDir() {
			fmt.Println("directory")
		} else {
			fmt.Println("regular", info.Size())
		}
	default:
		fail(fmt.Errorf("unknown command %s", os.Args[1]))
	}
}
