package outbound

import (
	"fmt"
	"net/netip"
	"syscall"
)

// RefusedError is the error of a connection the guard refused: Addr is the
// address the client was about to connect to and Reason names its class
// ("loopback addresses"). Host is the host name that led to Addr, when known.
type RefusedError struct {
	Host   string
	Addr   netip.Addr
	Reason string
}

func (e *RefusedError) Error() string {
	if e.Host != "" {
		return fmt.Sprintf("outbound: refused to connect to %s (%s): requests to %s are not allowed", e.Addr, e.Host, e.Reason)
	}
	return fmt.Sprintf("outbound: refused to connect to %s: requests to %s are not allowed", e.Addr, e.Reason)
}

// The classes of refused addresses, phrased to complete "requests to ... are
// not allowed".
const (
	reasonPrivate     = "private network addresses"
	reasonLoopback    = "loopback addresses"
	reasonLinkLocal   = "link-local addresses"
	reasonMetadata    = "cloud metadata addresses"
	reasonShared      = "shared (carrier-grade NAT) addresses"
	reasonMulticast   = "multicast addresses"
	reasonUnspecified = "unspecified addresses"
	reasonBroadcast   = "broadcast addresses"
	reasonReserved    = "reserved addresses"
	reasonDocs        = "documentation addresses"
	reasonBenchmark   = "benchmarking addresses"
	reasonSiteLocal   = "site-local addresses"
	reasonV4Compat    = "IPv4-compatible IPv6 addresses"
	reasonNAT64Local  = "local-use NAT64 addresses"
	reasonInvalid     = "invalid addresses"
	reasonNonTCP      = "non-TCP connections"
)

type addrClass struct {
	prefix netip.Prefix
	reason string
}

func class(prefix, reason string) addrClass {
	return addrClass{netip.MustParsePrefix(prefix), reason}
}

// refusedV4 is searched in order, so the specific entries (metadata,
// broadcast) come before the ranges holding them, for a precise message.
var refusedV4 = []addrClass{
	class("169.254.169.254/32", reasonMetadata), // AWS, GCP, Azure, OpenStack, DigitalOcean...
	class("100.100.100.200/32", reasonMetadata), // Alibaba Cloud
	// Azure's WireServer: a public-looking address that only means something
	// from inside Azure, where it serves the VM's agent and DNS.
	class("168.63.129.16/32", reasonMetadata),
	class("255.255.255.255/32", reasonBroadcast),
	// 0.0.0.0/8 is "this network": on Linux, connecting to 0.0.0.0 reaches
	// the local host.
	class("0.0.0.0/8", reasonUnspecified),
	class("10.0.0.0/8", reasonPrivate),
	class("100.64.0.0/10", reasonShared),
	class("127.0.0.0/8", reasonLoopback),
	class("169.254.0.0/16", reasonLinkLocal),
	class("172.16.0.0/12", reasonPrivate),
	class("192.0.0.0/24", reasonReserved), // IETF protocol assignments (also Oracle Cloud's 192.0.0.192)
	class("192.0.2.0/24", reasonDocs),
	class("192.88.99.0/24", reasonReserved), // deprecated 6to4 relay anycast
	class("192.168.0.0/16", reasonPrivate),
	class("198.18.0.0/15", reasonBenchmark),
	class("198.51.100.0/24", reasonDocs),
	class("203.0.113.0/24", reasonDocs),
	class("224.0.0.0/4", reasonMulticast),
	class("240.0.0.0/4", reasonReserved),
}

// refusedV6 is searched in order after IPv4-mapped, NAT64 and 6to4 addresses
// have been reduced to the IPv4 they embed. What it does not list is still
// refused unless it is in 2000::/3, the only block allocated for global
// unicast: that way an unforeseen special range fails closed.
var refusedV6 = []addrClass{
	class("fd00:ec2::254/128", reasonMetadata), // AWS IMDS over IPv6
	class("::/128", reasonUnspecified),
	class("::1/128", reasonLoopback),
	class("::/96", reasonV4Compat),
	class("64:ff9b:1::/48", reasonNAT64Local), // RFC 8215: local use, no public meaning
	class("fc00::/7", reasonPrivate),          // unique local addresses
	class("fe80::/10", reasonLinkLocal),
	class("fec0::/10", reasonSiteLocal),
	class("ff00::/8", reasonMulticast),
	class("2001:db8::/32", reasonDocs),
	class("3fff::/20", reasonDocs),     // RFC 9637
	class("2001::/23", reasonReserved), // IETF protocol assignments, Teredo (2001::/32) included
	class("100::/64", reasonReserved),  // discard-only
	class("2000::/3", ""),              // global unicast: allowed
	class("::/0", reasonReserved),      // everything else, failing closed
}

var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
)

// IsPublicAddr reports whether the client may connect to ip when private
// networks are not allowed.
func IsPublicAddr(ip netip.Addr) bool { return CheckAddr(ip) == nil }

// CheckAddr returns nil if the client may connect to ip when private networks
// are not allowed, and a *RefusedError saying why not otherwise.
func CheckAddr(ip netip.Addr) error {
	if reason := refusal(ip); reason != "" {
		return &RefusedError{Addr: ip, Reason: reason}
	}
	return nil
}

// refusal returns the class of a refused address, "" for an allowed one.
func refusal(ip netip.Addr) string {
	if !ip.IsValid() {
		return reasonInvalid
	}
	// Prefix.Contains never matches an address with a zone: drop it, or
	// fe80::1%eth0 would slip through.
	ip = ip.WithZone("")
	// ::ffff:a.b.c.d is how an IPv6 socket reaches IPv4 a.b.c.d.
	if ip.Is4In6() {
		ip = ip.Unmap()
	}
	if ip.Is4() {
		for _, c := range refusedV4 {
			if c.prefix.Contains(ip) {
				return c.reason
			}
		}
		return ""
	}
	// NAT64 and 6to4 addresses are routed to the IPv4 they embed: judge that.
	b := ip.As16()
	switch {
	case nat64.Contains(ip):
		return embedded(netip.AddrFrom4([4]byte(b[12:16])), "NAT64")
	case sixTo4.Contains(ip):
		return embedded(netip.AddrFrom4([4]byte(b[2:6])), "6to4")
	}
	for _, c := range refusedV6 {
		if c.prefix.Contains(ip) {
			return c.reason
		}
	}
	return reasonReserved // unreachable: ::/0 matches everything
}

func embedded(v4 netip.Addr, kind string) string {
	if reason := refusal(v4); reason != "" {
		return reason + " (embedded in a " + kind + " address)"
	}
	return ""
}

// guardPolicy decides whether a dial to an address may proceed; nil lets
// every address through.
type guardPolicy func(netip.AddrPort) error

// defaultPolicy is the policy of a client that does not allow private
// networks.
func defaultPolicy(ap netip.AddrPort) error { return CheckAddr(ap.Addr()) }

// control returns the net.Dialer Control hook enforcing policy. It runs after
// name resolution, once for every address actually dialed, so neither DNS
// rebinding nor a redirect can get around it.
func control(policy guardPolicy) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		switch network {
		case "tcp", "tcp4", "tcp6":
		default:
			return &RefusedError{Reason: reasonNonTCP}
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			// Fail closed: an address we cannot read is not one we checked.
			return &RefusedError{Reason: reasonInvalid}
		}
		return policy(ap)
	}
}
