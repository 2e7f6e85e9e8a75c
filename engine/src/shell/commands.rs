//! The commands the lab shell knows, in one table: each command's name, the
//! variant `Lab::exec` dispatches on, and its one-line description in
//! English and Chinese, which `help` prints. A command cannot be added
//! without its help line (the macro builds the enum and the table from the
//! same list), nor dispatched without an arm (the `match` in `exec` is
//! exhaustive).
//!
//! bash's own `help` prints bash's builtins; the lab's `help` says first
//! that it is the lab's, lists every command below and how to ask a tool
//! for its usage.

use super::Io;

macro_rules! commands {
    ($($var:ident $name:literal $en:literal $zh:literal;)*) => {
        /// One command of the lab shell.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Cmd {
            $($var,)*
        }

        /// Every command: (variant, name, English, Chinese), in help order.
        pub const COMMANDS: &[(Cmd, &str, &str, &str)] = &[
            $((Cmd::$var, $name, $en, $zh),)*
        ];
    };
}

commands! {
    Help "help" "this list (help COMMAND: one command)" "本列表（help 命令：只看一个命令）";
    Ip "ip" "iproute2: addr, link, route, neigh, rule" "iproute2：addr、link、route、neigh、rule";
    Ifconfig "ifconfig" "net-tools interfaces and aliases (eth0:8, lo:2)" "net-tools 网卡与别名（eth0:8、lo:2）";
    Route "route" "net-tools routing table (route -n, add, del)" "net-tools 路由表（route -n、add、del）";
    Arp "arp" "net-tools ARP cache (arp -n, -d)" "net-tools ARP 缓存（arp -n、-d）";
    Sysctl "sysctl" "kernel parameters (net.ipv4.*)" "内核参数（net.ipv4.*）";
    Ping "ping" "ICMP echo (-c, -W, -I, -t)" "ICMP 回显（-c、-W、-I、-t）";
    Arping "arping" "ARP requests (-I, -c, -w, -U, -A, -D)" "发送 ARP 请求（-I、-c、-w、-U、-A、-D）";
    Ipvsadm "ipvsadm" "IPVS services and real servers (1.31)" "IPVS 服务与真实服务器（1.31）";
    Iptables "iptables" "the mangle table's MARK rules (-t mangle)" "mangle 表的 MARK 规则（-t mangle）";
    Tcpdump "tcpdump" "capture and decode frames (4.99)" "抓包并解码（4.99）";
    Curl "curl" "HTTP client (-s, -m, --local-port, --interface)" "HTTP 客户端（-s、-m、--local-port、--interface）";
    Wget "wget" "HTTP client (-qO-, -T)" "HTTP 客户端（-qO-、-T）";
    Nc "nc" "open a TCP connection and hold it" "建立并保持一条 TCP 连接";
    Netstat "netstat" "TCP sockets (-natp) and routes (-rn)" "TCP 套接字（-natp）与路由（-rn）";
    Ss "ss" "TCP sockets (-tan, -tlnp)" "TCP 套接字（-tan、-tlnp）";
    Systemctl "systemctl" "start, stop, status of httpd.service" "启动、停止、查看 httpd.service";
    Service "service" "the CentOS form: service httpd start|stop|status" "CentOS 写法：service httpd start|stop|status";
    Yum "yum" "install packages (already installed here)" "安装软件包（这里已装好）";
    Modprobe "modprobe" "load kernel modules (ipip, ip_vs)" "加载内核模块（ipip、ip_vs）";
    Ls "ls" "list files (-l, -a, -1)" "列出文件（-l、-a、-1）";
    Cd "cd" "change directory (/proc/sys/net/ipv4/conf/...)" "切换目录（/proc/sys/net/ipv4/conf/...）";
    Pwd "pwd" "print the working directory" "显示当前目录";
    Cat "cat" "print files (sysctls, /proc/net/ip_vs, yours)" "显示文件（sysctl、/proc/net/ip_vs、自己写的）";
    Echo "echo" "print words; with > write a sysctl or a file" "输出文字；配合 > 写 sysctl 或文件";
    Grep "grep" "search lines of files or a pipe: -E -F -i -v -w -x -c -n -o -q -A -B -C" "在文件或管道中查找行：-E -F -i -v -w -x -c -n -o -q -A -B -C";
    Head "head" "first lines (-n N)" "前几行（-n N）";
    Tail "tail" "last lines (-n N)" "最后几行（-n N）";
    Sort "sort" "sort lines (after |): -n -r -u" "排序（用在 | 后）：-n -r -u";
    Wc "wc" "count lines, words, bytes (after |): -l -w -c -m -L" "统计行数、单词数、字节数（用在 | 后）：-l -w -c -m -L";
    Seq "seq" "print a sequence of numbers (for loops)" "输出数字序列（用于 for 循环）";
    Watch "watch" "rerun a command every 2 s until Ctrl+C (-n SECS, -t, -g)" "每 2 秒重跑一个命令，直到 Ctrl+C（-n 秒、-t、-g）";
    Sleep "sleep" "let simulated time pass" "让模拟时间流逝";
    Kill "kill" "end a background job (kill %1)" "结束后台任务（kill %1）";
    Hostname "hostname" "this host's name" "本机名称";
    True "true" "do nothing, successfully" "什么也不做，返回成功";
    False "false" "do nothing, unsuccessfully" "什么也不做，返回失败";
}

/// The command named `name`, if the lab knows it.
pub fn lookup(name: &str) -> Option<Cmd> {
    COMMANDS.iter().find(|c| c.1 == name).map(|c| c.0)
}

/// The lab's `help` (bash's builtin `help` would list bash's builtins).
pub fn help(args: &[String], io: &mut Io) {
    if let Some(topic) = args.iter().find(|a| !a.starts_with('-')) {
        match COMMANDS.iter().find(|c| c.1 == topic) {
            Some((_, name, en, zh)) => {
                io.outln(format!("{name}: {en}"));
                io.outln(format!("{name}：{zh}"));
            }
            None => {
                io.errln(format!(
                    "bash: help: no help topics match `{topic}'.  Try `help help' or `man -k {topic}' or `info {topic}'."
                ));
                io.status = 1;
            }
        }
        return;
    }
    io.outln("LVS Lab shell: the commands this lab knows (the lab's help, not bash's).");
    io.outln("LVS Lab 实验终端：本实验支持的命令（实验自己的帮助，不是 bash 的）。");
    let w = COMMANDS.iter().map(|c| c.1.len()).max().unwrap_or(0);
    let ew = COMMANDS.iter().map(|c| c.2.len()).max().unwrap_or(0);
    for (_, name, en, zh) in COMMANDS {
        io.outln(format!("  {name:<w$}  {en:<ew$}  {zh}"));
    }
    io.outln("Shell: | ; && || > >> 2>/dev/null 2>&1 & (background) for-loops $?");
    io.outln("终端语法：| ; && || > >> 2>/dev/null 2>&1 &（后台） for 循环 $?");
    io.outln("A tool's usage: ipvsadm -h, ss -h, or a bad option; help COMMAND: one line.");
    io.outln("工具的用法：ipvsadm -h、ss -h 或给一个错误选项；help 命令：只看一行。");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        for (i, c) in COMMANDS.iter().enumerate() {
            assert_eq!(lookup(c.1), Some(c.0), "{}", c.1);
            assert!(
                COMMANDS[i + 1..].iter().all(|d| d.1 != c.1),
                "{} twice",
                c.1
            );
            assert!(!c.2.is_empty() && !c.3.is_empty());
        }
        assert_eq!(lookup("vi"), None);
    }

    #[test]
    fn help_names_every_command() {
        let mut io = Io::default();
        help(&[], &mut io);
        let text: String = io.chunks.iter().map(|c| c.1.as_str()).collect();
        assert!(text.starts_with("LVS Lab shell:"));
        assert_eq!(text.lines().count(), COMMANDS.len() + 6);
        for c in COMMANDS {
            assert!(text.contains(&format!("  {} ", c.1)), "{}", c.1);
        }
        let mut io = Io::default();
        help(&["nosuch".into()], &mut io);
        assert_eq!(io.status, 1);
    }
}
