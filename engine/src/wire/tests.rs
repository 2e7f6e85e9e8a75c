use proptest::prelude::*;

proptest! {
    /// Our checksums are pnet's, for any bytes and addresses.
    #[test]
    fn checksums_match_pnet(
        data in proptest::collection::vec(any::<u8>(), 0..300),
        src in any::<[u8; 4]>(),
        dst in any::<[u8; 4]>(),
        ihl in 0u8..16,
    ) {
        let (src, dst) = (std::net::Ipv4Addr::from(src), std::net::Ipv4Addr::from(dst));
        prop_assert_eq!(super::csum::checksum(&data, 1), pnet_packet::util::checksum(&data, 1));
        prop_assert_eq!(super::csum::checksum(&data, 5), pnet_packet::util::checksum(&data, 5));
        if let Some(t) = pnet_packet::tcp::TcpPacket::new(&data) {
            prop_assert_eq!(super::csum::ipv4_pseudo(&data, 8, src, dst, 6), pnet_packet::tcp::ipv4_checksum(&t, &src, &dst));
        }
        if let Some(u) = pnet_packet::udp::UdpPacket::new(&data) {
            prop_assert_eq!(super::csum::ipv4_pseudo(&data, 3, src, dst, 17), pnet_packet::udp::ipv4_checksum(&u, &src, &dst));
        }
        if let Some(i) = pnet_packet::icmp::IcmpPacket::new(&data) {
            prop_assert_eq!(super::csum::checksum(&data, 1), pnet_packet::icmp::checksum(&i));
        }
        let mut d = data.clone();
        if let Some(mut p) = pnet_packet::ipv4::MutableIpv4Packet::new(&mut d) {
            p.set_header_length(ihl);
            let p = p.to_immutable();
            prop_assert_eq!(super::csum::ipv4_header(p.packet(), ihl), pnet_packet::ipv4::checksum(&p));
        }
    }
}

use super::*;

// A real ARP request captured on a veth: who-has 192.168.150.12 tell 192.168.150.1.
const ARP_REQ: [u8; 42] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x42, 0xc0, 0xa8, 0x96, 0x01, 0x08, 0x06, // eth
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, // htype ptype hlen plen op
    0x02, 0x42, 0xc0, 0xa8, 0x96, 0x01, 192, 168, 150, 1, // sender
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 192, 168, 150, 12, // target
];

#[test]
fn arp_request_bytes_round_trip() {
    let f = FrameRepr::parse(&ARP_REQ).unwrap();
    let Payload::Arp(a) = &f.payload else {
        panic!("not ARP")
    };
    assert_eq!(a.op, ArpOp::Request);
    assert_eq!(a.sender_ip, Ipv4Addr::new(192, 168, 150, 1));
    assert_eq!(a.target_ip, Ipv4Addr::new(192, 168, 150, 12));
    assert!(f.dst.is_broadcast());
    assert_eq!(f.emit(), ARP_REQ.to_vec());
}

#[test]
fn icmp_echo_round_trip_with_checksums() {
    let ip = Ipv4Repr {
        src: Ipv4Addr::new(192, 168, 150, 1),
        dst: Ipv4Addr::new(192, 168, 150, 12),
        ttl: 64,
        ident: 0x1234,
        dont_frag: true,
        tos: 0,
        l4: L4::Icmp(IcmpRepr::EchoRequest {
            ident: 7,
            seq: 1,
            data: (0u8..56).collect(),
        }),
    };
    let bytes = ip.emit();
    assert_eq!(bytes.len(), 84);
    // Header checksum verifies to zero over the header.
    let sum: u32 = bytes[..20]
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    let folded = (sum & 0xffff) + (sum >> 16);
    assert_eq!(folded as u16, 0xffff);
    assert_eq!(Ipv4Repr::parse(&bytes).unwrap(), ip);
    let mut bad = bytes.clone();
    bad[30] ^= 0xff;
    assert!(Ipv4Repr::parse(&bad).is_err());
}

#[test]
fn udp_round_trip_with_pseudo_header_checksum() {
    let ip = Ipv4Repr {
        src: Ipv4Addr::new(192, 168, 150, 1),
        dst: Ipv4Addr::new(192, 168, 150, 100),
        ttl: 64,
        ident: 0,
        dont_frag: true,
        tos: 0,
        l4: L4::Udp(UdpRepr {
            src_port: 40000,
            dst_port: 53,
            payload: b"hi\n".to_vec(),
        }),
    };
    let bytes = ip.emit();
    assert_eq!(bytes.len(), 20 + 8 + 3);
    assert_eq!(bytes[9], 17);
    assert_eq!(u16::from_be_bytes([bytes[24], bytes[25]]), 11, "UDP length");
    assert_eq!(Ipv4Repr::parse(&bytes).unwrap(), ip);
    let mut bad = bytes.clone();
    bad[29] ^= 0x20;
    assert!(
        Ipv4Repr::parse(&bad).is_err(),
        "payload change breaks the checksum"
    );
}

#[test]
fn ipip_nests_the_whole_inner_packet() {
    let inner = Ipv4Repr {
        src: Ipv4Addr::new(192, 168, 150, 1),
        dst: Ipv4Addr::new(192, 168, 150, 100),
        ttl: 63,
        ident: 0x4d2,
        dont_frag: true,
        tos: 0x10,
        l4: L4::Tcp(TcpRepr {
            src_port: 20001,
            dst_port: 80,
            seq: 1,
            ack: 0,
            flags: tcp_flags::SYN,
            window: 64240,
            options: vec![2, 4, 5, 0xb4],
            payload: vec![],
        }),
    };
    let outer = Ipv4Repr {
        src: Ipv4Addr::new(192, 168, 150, 11),
        dst: Ipv4Addr::new(192, 168, 150, 12),
        ttl: 63,
        ident: 0,
        dont_frag: true,
        tos: 0x10,
        l4: L4::Ipip(Box::new(inner.clone())),
    };
    let bytes = outer.emit();
    let inner_bytes = inner.emit();
    assert_eq!(bytes.len(), 20 + inner_bytes.len());
    assert_eq!(bytes[9], 4, "protocol IPIP");
    assert_eq!(&bytes[20..], &inner_bytes[..]);
    assert_eq!(
        u16::from_be_bytes([bytes[2], bytes[3]]) as usize,
        bytes.len()
    );
    assert_eq!(Ipv4Repr::parse(&bytes).unwrap(), outer);
    // A damaged inner header makes the whole packet malformed.
    let mut bad = bytes.clone();
    bad[20 + 8] ^= 1;
    assert!(Ipv4Repr::parse(&bad).is_err());
}

#[test]
fn decreasing_the_ttl_in_place_keeps_the_checksum_valid() {
    let ip = Ipv4Repr {
        src: "192.168.150.1".parse().unwrap(),
        dst: "192.168.150.100".parse().unwrap(),
        ttl: 64,
        ident: 0x1234,
        dont_frag: true,
        tos: 0,
        l4: L4::Udp(UdpRepr {
            src_port: 40000,
            dst_port: 9,
            payload: b"hi\n".to_vec(),
        }),
    };
    for ttl in [64u8, 2, 255, 0x80] {
        let mut p = Ipv4Repr { ttl, ..ip.clone() }.emit();
        ipv4_decrease_ttl(&mut p);
        let expect = Ipv4Repr {
            ttl: ttl - 1,
            ..ip.clone()
        }
        .emit();
        assert_eq!(p, expect, "TTL {ttl}");
    }
}
