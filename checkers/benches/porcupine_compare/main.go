// Reads faultline JSONL histories of one cas-register key and checks each with Porcupine's
// checker (github.com/anishathalye/porcupine), printing the verdict and the wall time, so that
// both checkers can be timed on the same files:
//
//	FAMILY_DUMP=/tmp/fam cargo bench -p checkers --bench linearizability -- "hard family"
//	cd checkers/benches/porcupine_compare && go mod init compare && go get github.com/anishathalye/porcupine
//	PCMP_TIMEOUT=10s go run . /tmp/fam/*.jsonl
//	faultline check --model cas-register --timeout 10 /tmp/fam/
//
// Each history gets PCMP_TIMEOUT (default 10 s). Info (or never completed) ops return at
// "infinity" (after every other op), as Porcupine's own etcd test does; failed ops are
// dropped; a read with no known result accepts any state.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/anishathalye/porcupine"
)

type line struct {
	Type    string          `json:"type"`
	Process json.RawMessage `json:"process"`
	F       string          `json:"f"`
	Value   json.RawMessage `json:"value"`
}

type input struct {
	op   int // 0 read, 1 write, 2 cas
	a, b int
}

type output struct {
	value   int
	unknown bool
}

func scalar(raw json.RawMessage) int {
	var v *int
	if err := json.Unmarshal(raw, &v); err != nil || v == nil {
		return -1 // nil
	}
	return *v
}

func main() {
	timeout := 10 * time.Second
	if t, err := time.ParseDuration(os.Getenv("PCMP_TIMEOUT")); err == nil {
		timeout = t
	}
	model := porcupine.Model{
		Init: func() interface{} { return -1 },
		Step: func(state, in, out interface{}) (bool, interface{}) {
			s := state.(int)
			i := in.(input)
			o := out.(output)
			switch i.op {
			case 0:
				return o.unknown || o.value == s, s
			case 1:
				return true, i.a
			default:
				// As Porcupine's etcd test: an indeterminate cas is always possible, and
				// takes effect only where its compare holds.
				if s == i.a {
					return true, i.b
				}
				return o.unknown, s
			}
		},
	}
	for _, path := range os.Args[1:] {
		f, err := os.Open(path)
		if err != nil {
			panic(err)
		}
		scanner := bufio.NewScanner(f)
		scanner.Buffer(make([]byte, 1<<20), 1<<26)
		type pending struct {
			in   input
			call int64
		}
		open := map[string]pending{}
		var ops []porcupine.Operation
		idx := int64(0)
		for scanner.Scan() {
			var l line
			if err := json.Unmarshal(scanner.Bytes(), &l); err != nil {
				panic(err)
			}
			idx++
			p := string(l.Process)
			if l.Type == "invoke" {
				in := input{}
				switch l.F {
				case "read":
					in.op = 0
				case "write":
					in.op = 1
					in.a = scalar(l.Value)
				case "cas":
					var pair []json.RawMessage
					_ = json.Unmarshal(l.Value, &pair)
					in.op = 2
					in.a = scalar(pair[0])
					in.b = scalar(pair[1])
				}
				open[p] = pending{in, idx}
				continue
			}
			op := open[p]
			delete(open, p)
			switch l.Type {
			case "ok":
				out := output{}
				if op.in.op == 0 {
					out.value = scalar(l.Value)
				}
				ops = append(ops, porcupine.Operation{Input: op.in, Call: op.call, Output: out, Return: idx})
			case "info":
				ops = append(ops, porcupine.Operation{Input: op.in, Call: op.call, Output: output{unknown: true}, Return: 1 << 62})
			}
		}
		for _, op := range open {
			ops = append(ops, porcupine.Operation{Input: op.in, Call: op.call, Output: output{unknown: true}, Return: 1 << 62})
		}
		f.Close()
		start := time.Now()
		res := porcupine.CheckOperationsTimeout(model, ops, timeout)
		fmt.Printf("%s\t%s\t%.1f ms\n", path, res, float64(time.Since(start).Microseconds())/1000)
	}
}
