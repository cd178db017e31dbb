// Package switchboard holds the domain of the Switchboard apps platform: the
// types of organizations, keys, app definitions, settings and audit entries,
// the one error type with its closed set of codes, and the ports (Store,
// Cache) that the adapters under internal/ implement. It depends on the
// standard library only.
package switchboard
