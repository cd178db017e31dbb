package outbound

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestCheckAddr(t *testing.T) {
	public := []string{
		"8.8.8.8",
		"1.1.1.1",
		"93.184.215.14",
		"100.63.255.255", // just below CGNAT
		"100.128.0.0",    // just above CGNAT
		"172.15.255.255", // just below 172.16/12
		"172.32.0.0",     // just above
		"192.0.1.1",
		"192.169.0.1",
		"198.17.255.255",
		"198.20.0.0",
		"169.253.255.255",
		"223.255.255.255",
		"11.0.0.1",
		"2606:4700::1111",
		"2001:4860:4860::8888",
		"2a00:1450:4001::200e",
		"2001:200::1",      // just above 2001::/23
		"::ffff:8.8.8.8",   // IPv4-mapped public
		"64:ff9b::808:808", // NAT64 of 8.8.8.8
		"2002:808:808::1",  // 6to4 of 8.8.8.8
		"3fff:1000::1",     // just above 3fff::/20
		"2001:db9::1",      // just above 2001:db8::/32
		"2400:cb00:2048:1::c629:d7a2",
	}
	for _, s := range public {
		ip := netip.MustParseAddr(s)
		if err := CheckAddr(ip); err != nil {
			t.Errorf("CheckAddr(%s) = %v, want nil", s, err)
		}
		if !IsPublicAddr(ip) {
			t.Errorf("IsPublicAddr(%s) = false", s)
		}
	}

	refused := []struct{ addr, reason string }{
		{"127.0.0.1", reasonLoopback},
		{"127.255.255.254", reasonLoopback},
		{"10.0.0.1", reasonPrivate},
		{"10.255.255.255", reasonPrivate},
		{"172.16.0.1", reasonPrivate},
		{"172.31.255.255", reasonPrivate},
		{"192.168.1.1", reasonPrivate},
		{"169.254.0.1", reasonLinkLocal},
		{"169.254.169.254", reasonMetadata},
		{"169.254.170.2", reasonLinkLocal}, // ECS task metadata: link-local already
		{"100.100.100.200", reasonMetadata},
		{"168.63.129.16", reasonMetadata},
		{"100.64.0.1", reasonShared},
		{"100.127.255.255", reasonShared},
		{"0.0.0.0", reasonUnspecified},
		{"0.1.2.3", reasonUnspecified},
		{"255.255.255.255", reasonBroadcast},
		{"224.0.0.1", reasonMulticast},
		{"239.255.255.250", reasonMulticast},
		{"240.0.0.1", reasonReserved},
		{"192.0.0.192", reasonReserved},
		{"192.0.2.1", reasonDocs},
		{"198.18.0.1", reasonBenchmark},
		{"198.19.255.255", reasonBenchmark},
		{"198.51.100.7", reasonDocs},
		{"203.0.113.9", reasonDocs},
		{"192.88.99.1", reasonReserved},
		{"::1", reasonLoopback},
		{"::", reasonUnspecified},
		{"::ffff:127.0.0.1", reasonLoopback},
		{"::ffff:169.254.169.254", reasonMetadata},
		{"::ffff:10.1.2.3", reasonPrivate},
		{"::ffff:0.0.0.0", reasonUnspecified},
		{"::127.0.0.1", reasonV4Compat},
		{"::8.8.8.8", reasonV4Compat},
		{"64:ff9b::7f00:1", reasonLoopback + " (embedded in a NAT64 address)"},
		{"64:ff9b::a9fe:a9fe", reasonMetadata + " (embedded in a NAT64 address)"},
		{"64:ff9b:1::1", reasonNAT64Local},
		{"2002:7f00:1::", reasonLoopback + " (embedded in a 6to4 address)"},
		{"2002:a00:1::1", reasonPrivate + " (embedded in a 6to4 address)"},
		{"fe80::1", reasonLinkLocal},
		{"fe80::1%eth0", reasonLinkLocal},
		{"febf:ffff::1", reasonLinkLocal},
		{"fec0::1", reasonSiteLocal},
		{"fc00::1", reasonPrivate},
		{"fd00::1", reasonPrivate},
		{"fd00:ec2::254", reasonMetadata},
		{"fd12:3456::1%2", reasonPrivate},
		{"ff02::1", reasonMulticast},
		{"ff05::1:3", reasonMulticast},
		{"2001:db8::1", reasonDocs},
		{"3fff::1", reasonDocs},
		{"2001::1", reasonReserved},             // Teredo
		{"2001:0:4136:e378::1", reasonReserved}, // Teredo
		{"2001:2::1", reasonReserved},           // benchmarking
		{"2001:10::1", reasonReserved},          // ORCHID
		{"100::1", reasonReserved},              // discard-only
		{"4000::1", reasonReserved},             // outside global unicast
		{"1::1", reasonReserved},
	}
	for _, c := range refused {
		ip := netip.MustParseAddr(c.addr)
		err := CheckAddr(ip)
		var re *RefusedError
		if !errors.As(err, &re) {
			t.Errorf("CheckAddr(%s) = %v, want a *RefusedError", c.addr, err)
			continue
		}
		if re.Reason != c.reason || re.Addr != ip {
			t.Errorf("CheckAddr(%s) = {%s, %q}, want {%s, %q}", c.addr, re.Addr, re.Reason, ip, c.reason)
		}
		if IsPublicAddr(ip) {
			t.Errorf("IsPublicAddr(%s) = true", c.addr)
		}
	}

	if IsPublicAddr(netip.Addr{}) {
		t.Error("IsPublicAddr(zero Addr) = true")
	}
}

func TestControl(t *testing.T) {
	tests := []struct {
		network, address string
		reason           string // "" for allowed
		always           bool   // refused whatever the policy
	}{
		{"udp4", "8.8.8.8:53", reasonNonTCP, true},
		{"tcp4", "not an address", reasonInvalid, true},
		{"tcp4", "", reasonInvalid, true},
		{"tcp4", "127.0.0.1:80", reasonLoopback, false},
		{"tcp6", "[fe80::1%lo]:443", reasonLinkLocal, false},
		{"tcp6", "[::ffff:10.0.0.1]:443", reasonPrivate, false},
		{"tcp4", "8.8.8.8:443", "", false},
	}
	guarded := control(defaultPolicy)
	permissive := control(func(netip.AddrPort) error { return nil })
	for _, tt := range tests {
		err := guarded(tt.network, tt.address, nil)
		var re *RefusedError
		if tt.reason == "" && err != nil {
			t.Errorf("control(%s, %q) = %v, want nil", tt.network, tt.address, err)
		}
		if tt.reason != "" && (!errors.As(err, &re) || re.Reason != tt.reason) {
			t.Errorf("control(%s, %q) = %v, want reason %q", tt.network, tt.address, err, tt.reason)
		}
		err = permissive(tt.network, tt.address, nil)
		if tt.always != (err != nil) {
			t.Errorf("with a permissive policy, control(%s, %q) = %v", tt.network, tt.address, err)
		}
	}
}

func TestRefusedErrorMessage(t *testing.T) {
	err := &RefusedError{Host: "api.example.com", Addr: netip.MustParseAddr("10.0.0.1"), Reason: reasonPrivate}
	if got := err.Error(); !strings.Contains(got, "10.0.0.1") || !strings.Contains(got, "api.example.com") {
		t.Errorf("Error() = %q", got)
	}
}
