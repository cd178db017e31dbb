package schema

import (
	"encoding/json"
	"testing"

	"github.com/switchboardhq/switchboard/internal/jsonv"
)

// The benchmarks restore the members that Input or Output changed before
// each run from boxed copies, so that every run converts the same values
// and the restoring allocates nothing.

func BenchmarkInputSeed(b *testing.B) {
	s := compile(b, seedSchema)
	o := decode(b, `{"foo": 12}`).(*jsonv.Object)
	twelve := any(json.Number("12"))
	b.ReportAllocs()
	for b.Loop() {
		o.Members[0].Value = twelve
		if _, probs := s.Input(o, "/body"); probs != nil {
			b.Fatal(probs)
		}
	}
}

const nestedSchema = `{"type":"object","properties":{
	"id":{"type":"string"},"amount":{"type":"number"},"currency":{"type":"string"},"quantity":{"type":"integer"},
	"paid":{"type":"boolean"},"note":{"type":["string","null"]},"tags":{"type":"array","items":{"type":"string"}},
	"customer":{"type":"object","properties":{"id":{"type":"string"},"email":{"type":"string"},"vip":{"type":"boolean"},
		"address":{"type":"object","properties":{"line1":{"type":"string"},"city":{"type":"string"},"zip":{"type":"string"},"country":{"type":"string"}},"required":["line1"],"additionalProperties":false}},
		"required":["id"]},
	"refundable":{"type":"boolean"},"priority":{"type":"integer"},"source":{"type":"string"},"createdAt":{"type":"string"},
	"discount":{"type":"number"},"tax":{"type":"number"},"shipping":{"type":"number"},"channel":{"type":"string"},
	"locale":{"type":"string"},"retries":{"type":"integer"},"dryRun":{"type":"boolean"},"reference":{"type":"string"}},
	"required":["id","amount","customer"],"additionalProperties":false}`

const nestedData = `{"id":"ord_1","amount":"10.50","currency":"eur","quantity":"3","paid":"true","note":null,"tags":["a","b",7],
	"customer":{"id":"cus_1","email":"a@example.com","vip":0,"address":{"line1":"1 Main St","city":"Paris","zip":75001,"country":"FR"}},
	"refundable":true,"priority":"2","source":"web","createdAt":"2024-01-01T00:00:00Z","discount":0,"tax":"1.05",
	"shipping":4.5,"channel":"api","locale":"fr","retries":"0","dryRun":"false","reference":123456}`

// snapshot records every container of v with its members' values, so that
// restore can undo in-place conversion without allocating.
type snapshot struct {
	objs []*jsonv.Object
	arrs [][]any
	vals [][]any
}

func takeSnapshot(v any) *snapshot {
	s := &snapshot{}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case *jsonv.Object:
			vals := make([]any, len(x.Members))
			for i, m := range x.Members {
				vals[i] = m.Value
				walk(m.Value)
			}
			s.objs = append(s.objs, x)
			s.arrs = append(s.arrs, nil)
			s.vals = append(s.vals, vals)
		case []any:
			s.objs = append(s.objs, nil)
			s.arrs = append(s.arrs, x)
			s.vals = append(s.vals, append([]any(nil), x...))
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return s
}

func (s *snapshot) restore() {
	for i, o := range s.objs {
		if o != nil {
			for j := range o.Members {
				o.Members[j].Value = s.vals[i][j]
			}
		} else {
			copy(s.arrs[i], s.vals[i])
		}
	}
}

func BenchmarkInputNested(b *testing.B) {
	s := compile(b, nestedSchema)
	v := decode(b, nestedData)
	snap := takeSnapshot(v)
	b.ReportAllocs()
	for b.Loop() {
		snap.restore()
		if _, probs := s.Input(v, "/body"); probs != nil {
			b.Fatal(probs)
		}
	}
}

// BenchmarkOutputConforming is the common case: a response that already
// has the promised shape and types.
func BenchmarkOutputConforming(b *testing.B) {
	s := compile(b, nestedSchema)
	v := s.Output(decode(b, nestedData))
	b.ReportAllocs()
	for b.Loop() {
		s.Output(v)
	}
}

// BenchmarkOutputTypical converts and filters a response with members to
// coerce and to drop; the copy it works on is made outside the timer.
func BenchmarkOutputTypical(b *testing.B) {
	s := compile(b, nestedSchema)
	orig := decode(b, `{"id":123,"amount":"10.50","currency":"eur","quantity":3,"paid":true,"note":null,"tags":["a",{},"b"],
		"customer":{"id":"cus_1","email":"a@example.com","vip":false,"address":{"line1":"1 Main St","city":"Paris","zip":"75001","country":"FR","lat":48.8}},
		"refundable":true,"priority":2,"source":"web","createdAt":"2024-01-01T00:00:00Z","discount":0,"tax":1.05,
		"shipping":4.5,"channel":"api","locale":"fr","retries":0,"dryRun":false,"reference":"r","internal":{"debug":true},"trace":"x"}`)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		v := jsonv.Clone(orig)
		b.StartTimer()
		s.Output(v)
	}
}
