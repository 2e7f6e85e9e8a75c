//! Every label of the UI in English and Chinese.
//!
//! The engine explains its own events (`Event::explain(Lang)`); this table
//! covers the UI's chrome, field names and teaching texts. A missing key shows
//! itself (the key is returned), which the browser tests would catch.

use leptos::prelude::Get;
pub use lvslab_engine::trace::Lang;

macro_rules! table {
    ($($key:literal => $en:literal, $zh:literal;)*) => {
        /// (key, English, Chinese): data, not code (a `match` on strings
        /// compiles to ~12 KB of comparisons).
        static TABLE: &[(&str, &str, &str)] = &[$(($key, $en, $zh),)*];
    };
}

fn lookup(key: &str) -> Option<(&'static str, &'static str)> {
    TABLE
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, en, zh)| (*en, *zh))
}

/// The text of `key` in `lang`; an unknown key returns itself.
pub fn t(lang: Lang, key: &'static str) -> &'static str {
    match lookup(key) {
        Some((en, zh)) => match lang {
            Lang::En => en,
            Lang::Zh => zh,
        },
        None => key,
    }
}

/// Like [`t`] for keys built at run time (field names from serde, etc.).
pub fn t_dyn(lang: Lang, key: &str) -> String {
    match lookup(key) {
        Some((en, zh)) => match lang {
            Lang::En => en.to_string(),
            Lang::Zh => zh.to_string(),
        },
        None => key.to_string(),
    }
}

/// The page's language signal, as a context of its own (labels need only
/// this, not the whole app state).
#[derive(Clone, Copy)]
pub struct UiLang(pub leptos::prelude::RwSignal<Lang>);

/// A reactive translated text: one closure type for every label of the UI
/// (one monomorphisation instead of one per call site).
pub fn tr(key: &'static str) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let lang = leptos::prelude::expect_context::<UiLang>().0;
    move || t(lang.get(), key)
}

pub fn lang_code(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "en",
        Lang::Zh => "zh",
    }
}

table! {
    // Top bar
    "app.subtitle" => "Linux IPVS Direct Routing, packet by packet", "Linux IPVS 直接路由（DR）模式，逐包演示";
    "scenario" => "Scenario", "场景";
    "scen.exercise" => "(exercise)", "（练习）";
    "reset" => "Reset", "重置";
    "reset.title" => "Start the scenario again from scratch", "从头重新开始本场景";
    "share" => "Share link", "分享链接";
    "share.title" => "Copy a link that reopens this exact lab (scenario, commands, step)", "复制一个能重现当前实验（场景、命令、步骤）的链接";
    "share.copied" => "Link copied", "链接已复制";
    "share.here" => "Link to this state:", "当前状态的链接：";
    "export" => "Export", "导出";
    "export.pcap" => "Trace as pcap (Wireshark)", "抓包文件 pcap（Wireshark）";
    "export.json" => "Lab as JSON", "实验状态 JSON";
    "import.json" => "Import lab JSON…", "导入实验 JSON…";
    "import.bad" => "This file is not an LVS Lab export", "此文件不是 LVS Lab 导出的文件";
    "import.done" => "Lab imported: its commands replayed to the same state", "实验已导入：重放其命令得到了完全相同的状态";
    "import.replayed" => "Imported by replaying its commands; the lab in the file differs (edited, or another simulator version)", "已通过重放命令导入；文件中的实验状态与之不同（被修改过，或来自其他版本的模拟器）";
    "big" => "Projector", "投影模式";
    "big.title" => "Bigger text and a single column for projectors", "大字号、单列布局，适合投影";
    "lang.switch" => "中文", "English";
    "lang.title" => "Switch the whole interface to Chinese", "将整个界面切换为英文";
    // Topology
    "topology" => "Topology", "拓扑";
    "switch" => "switch", "交换机";
    "port" => "port", "端口";
    "role.client" => "client · gateway", "客户端 · 网关";
    "role.director" => "director (DIP)", "调度器（DIP）";
    "role.rs" => "real server (RIP)", "真实服务器（RIP）";
    "down" => "down", "已关闭";
    "legend" => "Legend", "图例";
    "pk.arpreq" => "ARP request", "ARP 请求";
    "pk.arprep" => "ARP reply", "ARP 应答";
    "pk.echoreq" => "ICMP echo request", "ICMP 回显请求";
    "pk.echorep" => "ICMP echo reply", "ICMP 回显应答";
    "pk.icmperr" => "ICMP error", "ICMP 差错";
    "pk.syn" => "TCP SYN", "TCP SYN";
    "pk.synack" => "TCP SYN-ACK", "TCP SYN-ACK";
    "pk.ack" => "TCP ACK", "TCP ACK";
    "pk.data" => "TCP data", "TCP 数据";
    "pk.fin" => "TCP FIN", "TCP FIN";
    "pk.rst" => "TCP RST", "TCP RST";
    "pk.ip" => "IPv4", "IPv4";
    "pk.other" => "other", "其他";
    "pk.drop" => "dropped", "丢弃";
    "tag.arpreq" => "ARP?", "ARP?";
    "tag.arprep" => "ARP!", "ARP!";
    "tag.echoreq" => "PING", "PING";
    "tag.echorep" => "PONG", "PONG";
    "tag.icmperr" => "ICMP✕", "ICMP✕";
    "tag.syn" => "SYN", "SYN";
    "tag.synack" => "SYN+ACK", "SYN+ACK";
    "tag.ack" => "ACK", "ACK";
    "tag.data" => "DATA", "DATA";
    "tag.fin" => "FIN", "FIN";
    "tag.rst" => "RST", "RST";
    "tag.ip" => "IP", "IP";
    "tag.other" => "ETH", "ETH";
    "no.event" => "No packets yet. Type a command in a terminal below, e.g. ping -c 1 192.168.150.12 on client, or start the guided tour.",
                  "还没有数据包。在下方终端输入命令，例如在 client 上执行 ping -c 1 192.168.150.12，或开始导览。";
    // Timeline
    "timeline" => "Timeline", "时间线";
    "events" => "events", "个事件";
    "first" => "First event (Home)", "第一个事件（Home）";
    "prev" => "Step back (←)", "后退一步（←）";
    "play" => "Play (Space)", "播放（空格）";
    "pause" => "Pause (Space)", "暂停（空格）";
    "next" => "Step forward (→)", "前进一步（→）";
    "last" => "Last event (End)", "最后一个事件（End）";
    "speed" => "Speed", "速度";
    "filter.frames" => "Frames only", "只看帧";
    "filter.host" => "Host", "主机";
    "all.hosts" => "all hosts", "全部主机";
    "keys" => "Keys, wherever you are: Space play/pause and ←/→ step (in a terminal: when its line is empty) · Alt+←/→ always step · Home/End", "快捷键（任何位置）：空格 播放/暂停，←/→ 单步（在终端中：命令行为空时）· Alt+←/→ 随时单步 · Home/End";
    "current" => "The selected event", "当前事件";
    "new.events" => "new events: press Space to play them", "个新事件：按空格播放";
    "step" => "Step", "步骤";
    "of" => "of", "/";
    // Inspector
    "inspector" => "Packet", "数据包";
    "details" => "Event details", "事件详情";
    "pick.event" => "Select an event in the timeline to inspect it.", "在时间线中选择一个事件查看详情。";
    "time" => "time", "时间";
    "host" => "host", "主机";
    "bytes" => "bytes", "字节";
    "hexdump" => "Raw bytes (hover a field or a byte)", "原始字节（悬停字段或字节）";
    "ctx.frame" => "The frame this decision is about, as received:", "这个决定所针对的帧（接收时）：";
    "journey" => "This frame's journey", "此帧的路径";
    "sent.by" => "sent by", "发送方";
    "via.switch" => "switch", "经交换机";
    "recv.by" => "received by", "接收方";
    "compare" => "Compare", "对比";
    "pin" => "Pin for comparison", "固定用于对比";
    "unpin" => "Unpin", "取消固定";
    "pinned" => "pinned", "已固定";
    "cmp.field" => "field", "字段";
    "cmp.same" => "Identical: not one byte changed on the way.", "完全相同：途中没有任何字节改变。";
    "cmp.sent.recv" => "As sent ↔ as received", "发送时 ↔ 接收时";
    "cmp.switch.note" => "A switch forwards frames unchanged: same MACs, same IP header.", "交换机原样转发帧：MAC 和 IP 头都不变。";
    "cmp.in.out" => "As it entered ↔ as it left", "进入时 ↔ 离开时";
    "cmp.pinned" => "Pinned ↔ selected", "已固定 ↔ 当前";
    "cmp.changed" => "fields changed", "个字段改变";
    "cmp.changed.in" => "Changed:", "改变的：";
    "cmp.unchanged" => "Untouched:", "未改变的：";
    "cmp.hint" => "Pin a frame, then select another one to compare them field by field.", "固定一个帧，再选择另一个帧，逐字段对比。";
    "malformed" => "Malformed", "格式错误";
    // Layers and fields
    "l.eth" => "Ethernet II", "以太网 II";
    "l.arp" => "ARP", "ARP";
    "l.ipv4" => "IPv4", "IPv4";
    "l.icmp" => "ICMP", "ICMP";
    "l.data" => "Payload", "载荷";
    "l.tcp" => "TCP", "TCP";
    "f.sport" => "Source port", "源端口";
    "f.dport" => "Destination port", "目的端口";
    "f.seq" => "Sequence number", "序列号";
    "f.ack" => "Acknowledgment number", "确认号";
    "f.doff" => "Header length", "首部长度";
    "f.tcpflags" => "Flags", "标志位";
    "f.win" => "Window", "窗口";
    "f.tcpcsum" => "Checksum", "校验和";
    "f.urg" => "Urgent pointer", "紧急指针";
    "f.payload" => "Payload", "载荷";
    "f.dst" => "Destination MAC", "目的 MAC";
    "f.src" => "Source MAC", "源 MAC";
    "f.type" => "EtherType", "以太类型";
    "f.htype" => "Hardware type", "硬件类型";
    "f.ptype" => "Protocol type", "协议类型";
    "f.hlen" => "Hardware size", "硬件地址长度";
    "f.plen" => "Protocol size", "协议地址长度";
    "f.op" => "Opcode", "操作码";
    "f.sha" => "Sender MAC", "发送方 MAC";
    "f.spa" => "Sender IP", "发送方 IP";
    "f.tha" => "Target MAC", "目标 MAC";
    "f.tpa" => "Target IP", "目标 IP";
    "f.verihl" => "Version / header length", "版本 / 首部长度";
    "f.tos" => "DSCP/ECN (TOS)", "服务类型（TOS）";
    "f.totlen" => "Total length", "总长度";
    "f.ident" => "Identification", "标识";
    "f.flags" => "Flags / fragment offset", "标志 / 片偏移";
    "f.ttl" => "Time to live", "生存时间（TTL）";
    "f.proto" => "Protocol", "协议";
    "f.csum" => "Header checksum", "首部校验和";
    "f.ipsrc" => "Source address", "源地址";
    "f.ipdst" => "Destination address", "目的地址";
    "f.options" => "Options", "选项";
    "f.icmptype" => "Type", "类型";
    "f.icmpcode" => "Code", "代码";
    "f.icmpcsum" => "Checksum", "校验和";
    "f.icmpid" => "Identifier", "标识符";
    "f.icmpseq" => "Sequence number", "序号";
    "f.icmpdata" => "Data", "数据";
    "f.unused" => "Unused", "未用";
    "f.orig" => "Original datagram", "原始数据报";
    "f.raw" => "Data", "数据";
    "v.request" => "request", "请求";
    "v.reply" => "reply", "应答";
    "v.echoreq" => "echo request", "回显请求";
    "v.echorep" => "echo reply", "回显应答";
    "v.unreach" => "destination unreachable", "目的不可达";
    "v.broadcast" => "broadcast", "广播";
    "v.unknown" => "unknown (ARP asks for it)", "未知（正是 ARP 要查的）";
    // serde field names of events
    "k.dev" => "device", "接口";
    "k.target" => "target", "目标";
    "k.arp_ignore" => "arp_ignore", "arp_ignore";
    "k.level" => "arp_ignore level", "arp_ignore 级别";
    "k.sender" => "sender IP", "发送方 IP";
    "k.announce" => "arp_announce", "arp_announce";
    "k.from_packet" => "from the waiting packet", "取自待发包";
    "k.ip" => "IP", "IP";
    "k.mac" => "MAC", "MAC";
    "k.state" => "state", "状态";
    "k.dst" => "destination", "目的";
    "k.table" => "table", "路由表";
    "k.prefix" => "prefix", "前缀";
    "k.rtype" => "route type", "路由类型";
    "k.proto" => "protocol", "协议";
    "k.reason" => "reason", "原因";
    "k.what" => "what", "对象";
    "k.in_port" => "in port", "入端口";
    "k.out_ports" => "out ports", "出端口";
    "k.flooded" => "flooded", "泛洪";
    "k.service" => "virtual service", "虚拟服务";
    "k.client" => "client", "客户端";
    "k.dest" => "real server", "真实服务器";
    "k.new_conn" => "new connection", "新连接";
    "k.scheduler" => "scheduler", "调度算法";
    "k.method" => "forwarding method", "转发方式";
    // Hosts
    "hosts" => "Hosts", "主机";
    "terminal" => "Terminal", "终端";
    "term.hint" => "Type a command (Tab completes, ↑/↓ history, paste several lines to run them in order, clear or Ctrl+L clears).",
                   "输入命令（Tab 补全，↑/↓ 历史，可粘贴多行按顺序执行，clear 或 Ctrl+L 清屏）。";
    "term.running" => "Still running — Ctrl+C stops it. The other terminals work meanwhile, and the lab's clock runs with yours.", "仍在运行——按 Ctrl+C 停止。其他终端照常可用，实验的时钟与真实时间同步走。";
    "term.events" => "events", "个事件";
    "teach" => "Note:", "说明：";
    "paste.title" => "This paste may not be meant for this terminal.", "这段粘贴的内容可能不是给这个终端的。";
    "paste.hosts" => "It names other hosts:", "它提到了其他主机：";
    "paste.prose" => "It has lines that are not commands:", "其中有不是命令的行：";
    "paste.run" => "Run here", "在这里运行";
    "paste.cancel" => "Cancel", "取消";
    "fail.why" => "Why it failed:", "失败原因：";
    "tl.more.before" => "earlier events: step back (←, ⏮) to list them", "条更早的事件：向前单步（←、⏮）即可列出";
    "tl.more.after" => "later events: step on (→, ⏭) to list them", "条更晚的事件：向后单步（→、⏭）即可列出";
    "tl.dropped" => "older events dropped (the trace keeps the newest 200 000)", "条较早的事件已丢弃（时间线保留最新的 200 000 条）";
    "fail.sofar" => "No answer yet, because:", "还没有应答，原因：";
    "fail.jump.title" => "Select this event in the timeline", "在时间线中选中这个事件";
    "fail.fix" => "The doctor's fix:", "诊断给出的修复：";
    "term.input" => "Command line on", "命令行：";
    "tables" => "State tables", "状态表";
    "maxi.on" => "Maximise", "最大化";
    "maxi.off" => "Restore", "还原";
    "maxi.title" => "Let the terminal fill the page (Esc restores)", "让终端占满整个页面（Esc 还原）";
    "t.addrs" => "Addresses", "地址";
    "t.routes.local" => "Routes: table local (consulted first)", "路由：local 表（先查）";
    "t.routes.main" => "Routes: table main", "路由：main 表";
    "t.neigh" => "Neighbours (ARP cache)", "邻居表（ARP 缓存）";
    "t.sysctl" => "ARP sysctls (Linux uses the max of all and the device)", "ARP 内核参数（Linux 取 all 与接口的最大值）";
    "t.none" => "(none)", "（无）";
    "t.ipvs" => "IPVS (ipvsadm -ln, ipvsadm -lnc)", "IPVS（ipvsadm -ln、ipvsadm -lnc）";
    "t.socks" => "TCP sockets", "TCP 套接字";
    "c.local" => "local", "本地";
    "c.remote" => "remote", "远端";
    "c.prog" => "PID/program", "进程";
    "c.dev" => "dev", "接口";
    "c.label" => "label", "标签";
    "c.addr" => "address", "地址";
    "c.scope" => "scope", "作用域";
    "c.type" => "type", "类型";
    "c.dst" => "destination", "目的";
    "c.via" => "via", "网关";
    "c.src" => "src", "源地址";
    "c.ip" => "IP", "IP";
    "c.mac" => "MAC", "MAC";
    "c.state" => "state", "状态";
    "c.knob" => "knob", "参数";
    "c.flags" => "flags", "标志";
    "c.effective" => "effective", "生效值";
    "secondary" => "secondary", "从地址";
    // Guide panel
    "tab.inspect" => "Packet", "数据包";
    "tab.tour" => "Guided tour", "导览";
    "tab.ex" => "Exercises", "练习";
    "tab.why" => "Why?", "为什么？";
    "run.step" => "Run these commands", "执行这些命令";
    "ran" => "done", "已执行";
    "prev.step" => "Previous", "上一步";
    "next.step" => "Next", "下一步";
    "tour.start" => "Restart the tour from a fresh lab", "从全新实验重新开始导览";
    "tour.fwd" => "Show the frame node01 forwards", "查看 node01 转发的帧";
    "tour.next" => "The tutorial is reproduced. Next: the Exercises (each starts from a broken lab), or Compare (top bar) seed with pitfall-lo-mask-24 to see the step where a /24 on lo parts the packets.", "教程已完整复现。接下来：做练习（每个练习都从一个有问题的实验开始），或用顶部的“对比”把 seed 与 pitfall-lo-mask-24 并排，看看 lo 上的 /24 在哪一步让数据包分道扬镳。";
    "tour.runall" => "Run up to here", "执行到这里";
    "ex.start" => "Start", "开始";
    "ex.check" => "Check", "检查";
    "ex.hint" => "Show a hint", "显示提示";
    "ex.goal" => "Goal", "目标";
    "ex.solved" => "Solved", "已完成";
    "ex.open" => "Not solved yet", "尚未完成";
    "ex.ok" => "Well done: the goal is reached.", "做得好：目标已达成。";
    "ex.progress" => "solved", "已完成";
    "ex.active" => "Active exercise", "当前练习";
    "ex.back" => "All exercises", "全部练习";
    "ex.setup" => "The lab starts broken:", "实验从一个有问题的状态开始：";
    "why.try" => "Try it in the lab (node02)", "在实验中试一试（node02）";
    "why.engine" => "Both columns are real command output from the simulator, run on two copies of the bare lab.", "两列都是模拟器在两份初始实验副本上执行真实命令的输出。";
    "why.t.mask" => "Mask /32 on lo", "lo 上的 /32 掩码";
    "why.t.arp" => "arp_ignore / arp_announce", "arp_ignore / arp_announce";
    "why.t.reply" => "The reply path", "回包的路径";
    "why.mask.title" => "Why the VIP on lo needs netmask 255.255.255.255", "为什么 lo 上的 VIP 掩码必须是 255.255.255.255";
    "why.arp.title" => "Why arp_ignore=1 / arp_announce=2 on the real servers", "为什么真实服务器要设 arp_ignore=1 / arp_announce=2";
    "why.reply.title" => "Why the director never sees the reply", "为什么调度器看不到回包";
    "why.wrong" => "wrong: /24", "错误：/24";
    "why.right" => "right: /32", "正确：/32";
    "why.before" => "defaults (0 / 0)", "默认值（0 / 0）";
    "why.after" => "arp_ignore=1, arp_announce=2", "arp_ignore=1, arp_announce=2";
    "why.diff" => "Highlighted lines differ between the two columns.", "高亮的行是两列之间不同的地方。";
    // The Live view
    "live" => "Live", "实时";
    "live.title" => "This host's real IPVS (lvslab serve --live)", "本机真实的 IPVS（lvslab serve --live）";
    "live.heading" => "Live: the kernel's IPVS", "实时：内核中的 IPVS";
    "live.close" => "Back to the lab", "返回实验";
    "live.connecting" => "connecting…", "正在连接…";
    "live.connected" => "connected", "已连接";
    "live.stale" => "stale: no update for", "数据过期：已有";
    "live.stale.s" => "s", "秒未更新";
    "live.updated" => "updated", "更新于";
    "live.ago" => "s ago", "秒前";
    "live.simulated" => "Simulated backend (test/demo mode), not a kernel", "模拟后端（测试/演示模式），不是真实内核";
    "live.services" => "Virtual services and real servers", "虚拟服务与真实服务器";
    "live.none" => "No virtual services in this kernel.", "内核中没有虚拟服务。";
    "live.conns" => "Connections (ipvsadm -Lnc)", "连接（ipvsadm -Lnc）";
    "live.conns.none" => "No connection entries.", "没有连接条目。";
    "live.conns.first" => "showing the first", "只显示前";
    "live.conns.of" => "of", "条，共";
    "live.timeouts" => "Timeouts (tcp tcpfin udp)", "超时（tcp tcpfin udp）";
    "live.doctor" => "Doctor", "诊断";
    "live.doctor.run" => "Check again", "重新检查";
    "live.doctor.ok" => "No problems found.", "没有发现问题。";
    "live.doctor.passed" => "checks passed", "项检查通过";
    "live.doctor.why" => "Why", "原因";
    "live.doctor.fix" => "Fix", "修复";
    "live.load" => "Load this host into the simulator", "把本机载入模拟器";
    "live.load.done" => "This host is now the lab: step packets through its real configuration", "本机已载入实验：可逐包查看真实配置下的转发";
    "live.apply" => "Apply to the kernel", "应用到内核";
    "live.apply.intro" => "The simulator's IPVS configuration (host", "模拟器中的 IPVS 配置（主机";
    "live.apply.intro2" => ") as the changes apply would make to this kernel:", "）相对本机内核需要做的改动：";
    "live.apply.plan" => "Show the diff", "显示差异";
    "live.apply.none" => "The kernel already matches the simulator: nothing to change.", "内核已与模拟器一致：无需改动。";
    "live.apply.untouched" => "Not in the simulator, left alone:", "模拟器中没有、保持不动：";
    "live.apply.token" => "Token (printed by lvslab serve at start-up)", "令牌（lvslab serve 启动时打印）";
    "live.apply.confirm" => "Apply these changes to the kernel", "确认把这些改动应用到内核";
    "live.apply.readonly" => "Read-only server: start it with --allow-apply to change the kernel.", "只读服务：用 --allow-apply 启动才能修改内核。";
    "live.apply.done" => "Applied: the kernel's table now matches.", "已应用：内核中的表已与之一致。";
    "live.apply.failed" => "Not applied", "未应用";
    "live.apply.nosim" => "The simulator has no host with IPVS services.", "模拟器中没有配置了 IPVS 服务的主机。";
    "live.error" => "Error", "错误";
    "col.service" => "Service / real server", "服务 / 真实服务器";
    "col.fwd" => "Forward", "转发方式";
    "col.weight" => "Weight", "权重";
    "col.active" => "ActiveConn", "活动连接";
    "col.inactive" => "InActConn", "非活动连接";
    "col.conns" => "Conns", "连接数";
    "col.inpkts" => "InPkts", "入包数";
    "col.inbytes" => "InBytes", "入字节";
    "col.cps" => "CPS", "每秒连接";
    "col.inpps" => "InPPS", "每秒入包";
    "col.inbps" => "InBPS", "每秒入字节";
    "col.pro" => "pro", "协议";
    "col.expire" => "expire", "剩余";
    "col.state" => "state", "状态";
    "col.source" => "source", "源";
    "col.virtual" => "virtual", "虚拟地址";
    "col.dest" => "destination", "目的";
    // Compare mode
    "cmp.button" => "Compare", "对比";
    "cmp.button.title" => "Two labs side by side: a command typed once runs in both, the first difference is marked", "两个实验并排：命令输入一次，两边同时执行，标出第一处不同";
    "cmp.title" => "Compare two labs", "对比两个实验";
    "cmp.left" => "Left lab", "左边的实验";
    "cmp.right" => "Right lab", "右边的实验";
    "cmp.placeholder" => "a command for both labs, e.g. curl -s -m 2 http://192.168.150.100/", "同时在两个实验中执行的命令，例如 curl -s -m 2 http://192.168.150.100/";
    "cmp.start" => "Type a command: it runs in both labs, and the first event where they differ is marked in red.", "输入一条命令：它会在两个实验中同时执行，两边第一处不同的事件会以红色标出。";
    "cmp.nodiff" => "So far both labs did exactly the same, step for step.", "到目前为止，两个实验每一步都完全相同。";
    "cmp.parted" => "First difference:", "第一处不同：";
}
