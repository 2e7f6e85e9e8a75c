use super::*;

#[test]
fn dr_connections_use_the_input_only_table() {
    // SYN, ACK, FIN, ACK as the director sees them in DR.
    let mut s = ConnState::None;
    for (ev, want) in [
        (TcpEvent::Syn, ConnState::SynRecv),
        (TcpEvent::Ack, ConnState::Established),
        (TcpEvent::Fin, ConnState::FinWait),
        (TcpEvent::Ack, ConnState::FinWait),
    ] {
        s = tcp_transition(Dir::InputOnly, ev, s);
        assert_eq!(s, want);
    }
}

#[test]
fn estimator_converges_to_the_rate() {
    let mut e = Estimator::default();
    let mut st = Stats::default();
    for _ in 0..40 {
        st.conns += 20; // 10 per second over a 2 s sample
        st.inbytes += 2000;
        e.sample(&st);
    }
    let r = e.rates();
    assert_eq!(r.cps, 10);
    assert_eq!(r.inbps, 1000);
}
