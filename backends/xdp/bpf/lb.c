// SPDX-License-Identifier: (GPL-2.0 OR MIT)
// The lvsc XDP load balancer. Its maps are filled from an lvsc map image by
// backends/xdp (docs/map-image.md); the flow hash must stay equal to
// backends/ebpf/src/hash.rs and the map layouts to backends/xdp/src/layout.rs.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define FWD_DIRECT 1
#define FWD_TUNNEL 2
#define NO_REAL 0xffffffffu

struct svc_key {
	__u8 vip[16];
	__u16 port; /* host order; 0 matches every port */
	__u8 proto;
	__u8 family; /* 4 or 6 */
};

struct svc_val {
	__u32 table_offset;
	__u32 table_size;
	__u32 index; /* counter slot */
	__u8 forwarding;
	__u8 hash_ports;
	__u8 pad[2];
	/* Read by the loader only: this service's block of reals and a fingerprint of
	 * its table and reals, so that an update rewrites only what changed. */
	__u32 first_real;
	__u32 reals;
	__u64 fingerprint;
};

struct real {
	__u8 addr[16];
	__u8 src[16]; /* tunnel source */
	__u8 mac[6];  /* next hop: the real (direct routing) or the router (tunnel) */
	__u8 family;
	__u8 pad;
};

struct counter {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct svc_key);
	__type(value, struct svc_val);
} services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct real);
} reals SEC(".maps");

/* Two table slots per element: the kernel rounds array elements up to 8 bytes, so a
 * u32 element would waste half. Seen through mmap this is a packed little-endian u32
 * array; the loader sizes it at load time and writes it there. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 << 19);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} tables SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct counter);
} counters SEC(".maps");

static __always_inline __u64 mix(__u64 h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

/* Addresses as four 32-bit words in network byte order read as little-endian words,
 * exactly as hash.rs::flow takes them. */
static __always_inline __u32 flow_hash(const __u32 *s, const __u32 *d, __u16 sport, __u16 dport, __u8 proto)
{
	__u64 h = proto;
#pragma unroll
	for (int i = 0; i < 4; i++)
		h = mix(h ^ s[i]);
#pragma unroll
	for (int i = 0; i < 4; i++)
		h = mix(h ^ d[i]);
	h = mix(h ^ (((__u64)sport << 16) | dport));
	return (__u32)(h ^ (h >> 32));
}

static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

SEC("xdp")
int lvsc_lb(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct svc_key key = {};
	__u32 saddr[4] = {}, daddr[4] = {};
	__u16 sport = 0, dport = 0;
	__u64 len = end - data;
	void *l4;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > end || ip->ihl < 5)
			return XDP_PASS;
		if (ip->frag_off & bpf_htons(0x3fff))
			return XDP_PASS; /* fragments carry no ports */
		l4 = (void *)ip + ip->ihl * 4;
		key.proto = ip->protocol;
		key.family = 4;
		__builtin_memcpy(key.vip, &ip->daddr, 4);
		saddr[0] = ip->saddr;
		daddr[0] = ip->daddr;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > end)
			return XDP_PASS;
		l4 = ip6 + 1;
		key.proto = ip6->nexthdr;
		key.family = 6;
		__builtin_memcpy(key.vip, &ip6->daddr, 16);
		__builtin_memcpy(saddr, &ip6->saddr, 16);
		__builtin_memcpy(daddr, &ip6->daddr, 16);
	} else {
		return XDP_PASS;
	}
	if (key.proto == IPPROTO_TCP || key.proto == IPPROTO_UDP) {
		/* Source and destination ports lead both headers. */
		__u16 *ports = l4;
		if ((void *)(ports + 2) > end)
			return XDP_PASS;
		sport = bpf_ntohs(ports[0]);
		dport = bpf_ntohs(ports[1]);
	} else if (key.proto != 132) {
		return XDP_PASS;
	}
	key.port = dport;
	struct svc_val *svc = bpf_map_lookup_elem(&services, &key);
	if (!svc) {
		key.port = 0; /* a firewall-mark style service: any port */
		svc = bpf_map_lookup_elem(&services, &key);
		if (!svc)
			return XDP_PASS;
	}
	if (svc->table_size == 0)
		return XDP_PASS;
	__u32 h = svc->hash_ports ? flow_hash(saddr, daddr, sport, dport, key.proto)
				  : flow_hash(saddr, (__u32[4]){0, 0, 0, 0}, 0, 0, 0);
	__u32 slot = svc->table_offset + h % svc->table_size;
	__u32 pair_index = slot >> 1;
	__u64 *pair = bpf_map_lookup_elem(&tables, &pair_index);
	if (!pair)
		return XDP_PASS;
	__u32 idx = slot & 1 ? (__u32)(*pair >> 32) : (__u32)*pair;
	if (idx == NO_REAL)
		return XDP_PASS;
	struct real *r = bpf_map_lookup_elem(&reals, &idx);
	if (!r)
		return XDP_PASS;
	__u32 ci = svc->index;
	struct counter *c = bpf_map_lookup_elem(&counters, &ci);
	if (c) {
		c->packets += 1;
		c->bytes += len;
	}

	if (svc->forwarding == FWD_TUNNEL) {
		int outer = r->family == 4 ? (int)sizeof(struct iphdr) : (int)sizeof(struct ipv6hdr);
		struct ethhdr old;
		__builtin_memcpy(&old, eth, sizeof(old));
		/* The frame leaves from this host: its source is the MAC it was sent to. */
		if (bpf_xdp_adjust_head(ctx, -outer))
			return XDP_DROP;
		data = (void *)(long)ctx->data;
		end = (void *)(long)ctx->data_end;
		eth = data;
		if ((void *)(eth + 1) > end)
			return XDP_DROP;
		__builtin_memcpy(eth->h_source, old.h_dest, ETH_ALEN);
		if (r->family == 4) {
			struct iphdr *o = (void *)(eth + 1);
			if ((void *)(o + 1) > end)
				return XDP_DROP;
			eth->h_proto = bpf_htons(ETH_P_IP);
			o->version = 4;
			o->ihl = 5;
			o->tos = 0;
			o->tot_len = bpf_htons((__u16)(len - sizeof(struct ethhdr) + sizeof(struct iphdr)));
			o->id = 0;
			o->frag_off = bpf_htons(0x4000); /* DF: fragmenting is the MTU rule's business */
			o->ttl = 64;
			o->protocol = old.h_proto == bpf_htons(ETH_P_IP) ? IPPROTO_IPIP : IPPROTO_IPV6;
			o->check = 0;
			__builtin_memcpy(&o->saddr, r->src, 4);
			__builtin_memcpy(&o->daddr, r->addr, 4);
			__u32 sum = 0;
			__u16 *w = (__u16 *)o;
#pragma unroll
			for (int i = 0; i < 10; i++)
				sum += w[i];
			o->check = csum_fold(sum);
		} else {
			struct ipv6hdr *o = (void *)(eth + 1);
			if ((void *)(o + 1) > end)
				return XDP_DROP;
			eth->h_proto = bpf_htons(ETH_P_IPV6);
			*(__u32 *)o = bpf_htonl(0x60000000);
			o->payload_len = bpf_htons((__u16)(len - sizeof(struct ethhdr)));
			o->nexthdr = old.h_proto == bpf_htons(ETH_P_IP) ? IPPROTO_IPIP : IPPROTO_IPV6;
			o->hop_limit = 64;
			__builtin_memcpy(&o->saddr, r->src, 16);
			__builtin_memcpy(&o->daddr, r->addr, 16);
		}
	} else {
		/* The frame leaves from this host: a switch must not learn the client's MAC
		 * on this port. */
		__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	}
	__builtin_memcpy(eth->h_dest, r->mac, ETH_ALEN);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
