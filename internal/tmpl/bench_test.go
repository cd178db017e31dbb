package tmpl

import (
	"fmt"
	"strings"
	"testing"
)

const benchBody = `{
  "order": {{order.id}},
  "customer": "{{customer.name}}",
  "items": [
    {{#each items}}
    {"sku": "{{sku}}", "qty": {{qty}}, "price": {{price}} }{{#unless @last}},{{/unless}}
    {{/each}}
  ]{{#if note}},
  "note": "{{note}}"{{/if}}
}`

func benchItems(t testing.TB) any {
	var b strings.Builder
	b.WriteString(`{"order":{"id":1234},"customer":{"name":"Ann & Bob"},"note":"leave at door","items":[`)
	for i := 0; i < 10; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"sku":"SKU-%d","qty":%d,"price":%d.99}`, i, i+1, i*3)
	}
	b.WriteString("]}")
	return mustDecode(t, b.String())
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(benchBody); err != nil {
			b.Fatal(err)
		}
	}
}

func benchAppend(b *testing.B, src string, data any) {
	tp := MustParse(src)
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		buf, err = tp.Append(buf[:0], data)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkAppendHeader(b *testing.B) {
	benchAppend(b, "Bearer {{authToken}}", mustDecode(b, `{"authToken":"eyJhbGciOiJIUzI1NiJ9.e30.abc","other":1}`))
}

func BenchmarkAppendHeaderScopes(b *testing.B) {
	benchAppend(b, "Bearer {{authToken}}", Scopes{
		map[string]any{"id": "1"}, mustDecode(b, `{"authToken":"eyJhbGciOiJIUzI1NiJ9.e30.abc"}`)})
}

func BenchmarkAppendURL(b *testing.B) {
	benchAppend(b, "https://{{{store}}}.example.com/orders/{{id}}", mustDecode(b, `{"store":"acme","id":982734}`))
}

func BenchmarkAppendEach10(b *testing.B) {
	benchAppend(b, benchBody, benchItems(b))
}

func BenchmarkCacheGetHit(b *testing.B) {
	c := NewCache(1000)
	srcs := []string{"Bearer {{authToken}}", "https://{{{store}}}.example.com/orders/{{id}}", benchBody}
	for _, s := range srcs {
		c.Get(s)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := c.Get(srcs[i%len(srcs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkCacheGetHitParallel(b *testing.B) {
	c := NewCache(1000)
	src := "Bearer {{authToken}}"
	c.Get(src)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Get(src)
		}
	})
}

func BenchmarkJSONTemplate(b *testing.B) {
	jt, err := CompileJSON(mustDecode(b, `{"id": "/#order.id", "who": "{{customer.name}}", "items": "/#items", "first": "/#items.0.sku", "static": [1, 2, "x"]}`))
	if err != nil {
		b.Fatal(err)
	}
	data := benchItems(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := jt.Render(data); err != nil {
			b.Fatal(err)
		}
	}
}
