package registry

// CompiledSize is compiledSize, for the test that measures it.
var CompiledSize = compiledSize
