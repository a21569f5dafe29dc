#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# A kernel peer: cdna-vmm's wire is a net_tap interface in a network
# namespace this test creates; the kernel there pings two stock testpmd
# icmpecho guests (56- and 1400-byte pings, no loss), each reached by its
# own MAC through the embedded switch.
. "$(dirname "$0")/lib.sh"
it_init 150

command -v ip >/dev/null || skip "ip not found (Debian package iproute2)"
command -v ping >/dev/null || skip "ping not found (Debian package iputils-ping)"
NS=cdna-kp-$$
TAP=cdnakp$$
ip netns add "$NS" 2>"$IT_RUN/netns.err" ||
	skip "cannot create a network namespace: $(cat "$IT_RUN/netns.err")"
trap 'st=$?; ip netns del "$NS" 2>/dev/null; (exit "$st"); it_cleanup' EXIT
in_ns() {
	ip netns exec "$NS" "$@"
}

MAC1=02:cd:00:00:00:a1
MAC2=02:cd:00:00:00:a2
# The vmm runs in the namespace, so the tap interface is created there.
VMM_WRAP=(ip netns exec "$NS")
vmm_start v --vdev "net_tap0,iface=$TAP" -- --wire net_tap0 --audit
in_ns ip link set lo up
# Only the pings: no IPv6 neighbour discovery chatter on the link.
in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null || true
in_ns sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1" 2>/dev/null || true
in_ns ip addr add 10.99.0.1/24 dev "$TAP"
in_ns ip link set "$TAP" up
# icmpecho answers every ARP request: with two guests, name each one's MAC.
in_ns ip neigh replace 10.99.0.2 lladdr "$MAC1" dev "$TAP" nud permanent
in_ns ip neigh replace 10.99.0.3 lladdr "$MAC2" dev "$TAP" nud permanent

guest_start g1 v "mac=$MAC1" --forward-mode=icmpecho
guest_start g2 v "mac=$MAC2" --forward-mode=icmpecho
guest_exec g1 start >/dev/null
guest_exec g2 start >/dev/null
id1=$(guest_id v g1)
id2=$(guest_id v g2)

for dst in 10.99.0.2 10.99.0.3; do
	for size in 56 1400; do
		out=$(in_ns ping -c 20 -i 0.05 -W 2 -s "$size" "$dst" 2>&1) || true
		loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' <<<"$out")
		log "ping $dst -s $size: ${loss:-?}% loss"
		expect_eq "packet loss pinging $dst with $size bytes" "${loss:-none}" 0
	done
done
# Each guest answered its own 40 pings, no more: the switch kept them apart.
for id in "$id1" "$id2"; do
	tx=$(tele_guest v "$id" tx_pkts)
	expect_eq "guest $id echo replies" "$tx" 40
done
guest_quit g1
guest_quit g2
vmm_stop_clean v
pass
